//! Error bodies in the two shapes the emulated services use: Graph's OData error
//! (`{"error":{"code","message","innerError"}}`) and the token service's AAD error
//! (`error`, `error_description` with `AADSTSnnnn`, trace and correlation ids).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::clock;

/// Graph's `WWW-Authenticate` challenge on 401: it names the token authority and Graph's
/// own app id so a client knows where to get a token.
const GRAPH_CHALLENGE: &str = "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";

/// A Graph error. It is rendered by the envelope middleware, which knows the request ids
/// that belong in `innerError`; handlers only say what went wrong.
#[derive(Clone, Debug)]
pub(super) struct GraphError {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
    pub(super) details: Vec<Value>,
    /// Extra `innerError` members, e.g. the throttling body's `code` and `status`.
    pub(super) inner: Vec<(&'static str, String)>,
}

impl GraphError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        GraphError {
            status,
            code,
            message,
            details: Vec::new(),
            inner: Vec::new(),
        }
    }

    /// `BadRequest`: the code Graph's OData layer and the invitation service use.
    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// `Request_BadRequest`: the directory service's validation code.
    pub(super) fn directory_bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    pub(super) fn resource_not_found(id: &str) -> Self {
        let message = format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        );
        Self::new(StatusCode::NOT_FOUND, "Request_ResourceNotFound", message)
    }

    /// The directory's answer when the token lacks the needed application permission.
    pub(super) fn insufficient_privileges() -> Self {
        let message = "Insufficient privileges to complete the operation.";
        Self::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            message,
        )
    }

    pub(super) fn invalid_token(message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    pub(super) fn unsupported_query() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            "Unsupported query.",
        )
    }

    pub(super) fn unknown_property(name: &str, type_name: &str) -> Self {
        Self::bad_request(format!(
            "Could not find a property named '{name}' on type '{type_name}'."
        ))
    }

    pub(super) fn unreadable_body() -> Self {
        Self::bad_request(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    }

    pub(super) fn with_detail(mut self, code: &str, target: &str) -> Self {
        let detail = json!({ "code": code, "message": self.message, "target": target });
        self.details.push(detail);
        self
    }

    pub(super) fn with_inner(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.inner.push((name, value.into()));
        self
    }

    /// The full body, once the request ids are known.
    pub(super) fn body(&self, request_id: &str, client_request_id: &str) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if !self.details.is_empty() {
            error["details"] = Value::Array(self.details.clone());
        }
        error["innerError"] = json!({
            "date": clock::inner_error_date(),
            "request-id": request_id,
            "client-request-id": client_request_id,
        });
        for (name, value) in &self.inner {
            error["innerError"][*name] = Value::from(value.as_str());
        }
        json!({ "error": error })
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        if self.status == StatusCode::UNAUTHORIZED && self.code == "InvalidAuthenticationToken" {
            let challenge = HeaderValue::from_static(GRAPH_CHALLENGE);
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        response.extensions_mut().insert(self);
        response
    }
}

/// The token service reports the caller's `client-request-id` as its correlation id.
pub(super) fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| uuid::Uuid::parse_str(v).ok())
        .unwrap_or_else(uuid::Uuid::new_v4)
        .to_string()
}

/// A token-endpoint error: `error` is the OAuth 2.0 code, `code` the AADSTS number.
#[derive(Clone, Debug)]
pub(super) struct AadError {
    pub(super) status: StatusCode,
    pub(super) error: &'static str,
    pub(super) code: u32,
    pub(super) message: String,
}

impl AadError {
    pub(super) fn new(status: StatusCode, error: &'static str, code: u32, message: String) -> Self {
        AadError {
            status,
            error,
            code,
            message,
        }
    }

    pub(super) fn invalid_request(code: u32, message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", code, message)
    }

    /// RFC 6749 §5.2 allows 401 for `invalid_client`; observed AAD behaviour uses it
    /// (graph.md §6.3 marks the status UNVERIFIED).
    pub(super) fn invalid_client(code: u32, message: String) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
    }

    /// AADSTS90002. The token endpoint reports it as `invalid_request`, the metadata
    /// endpoints as `invalid_tenant` (observed answers; the docs show neither body).
    pub(super) fn tenant_not_found(error: &'static str, tenant: &str) -> Self {
        let message = format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
        );
        Self::new(StatusCode::BAD_REQUEST, error, 90002, message)
    }

    pub(super) fn signing_failed(error: impl std::fmt::Display) -> Self {
        let message = format!("Token signing failed: {error}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable",
            50000,
            message,
        )
    }

    pub(super) fn missing_parameter(name: &str) -> Self {
        let message = format!("The request body must contain the following parameter: '{name}'.");
        Self::invalid_request(900144, message)
    }

    /// `error_description`: the AADSTS code and message, then the ids and the time, as
    /// the token endpoint and the authorization endpoint's error redirects carry it.
    pub(super) fn description(
        &self,
        trace_id: &str,
        correlation_id: &str,
        timestamp: &str,
    ) -> String {
        format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            self.code, self.message
        )
    }

    /// Renders the documented body; `correlation_id` echoes the caller's
    /// `client-request-id` when it sent one, as the token service does.
    pub(super) fn render(&self, correlation_id: &str) -> Response {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let timestamp = clock::aad_timestamp();
        let description = self.description(&trace_id, correlation_id, &timestamp);
        let body = json!({
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        super::token_headers::add_token_headers(&mut response, &trace_id);
        response
    }
}
