//! The request log tests assert on: every request to the emulated services, in arrival
//! order, with credentials removed (authorization headers, client secrets, assertions).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::Emulator;
use super::faults::Injected;
use super::form::{field, parse_form};

/// Bodies above this are refused; nothing the emulated APIs accept comes close.
const MAX_BODY_BYTES: usize = 1024 * 1024;
const REDACTED: &str = "[redacted]";
/// The token-form fields logged verbatim; of the credentials only their presence is
/// logged, so tests can tell a secret from an assertion without seeing either.
const LOGGED_TOKEN_FIELDS: &[&str] = &[
    "grant_type",
    "client_id",
    "scope",
    "client_assertion_type",
    "redirect_uri",
];
/// A code and its verifier are as good as a credential until redeemed.
const SECRET_PARAMETERS: &[&str] = &["client_secret", "client_assertion", "code", "code_verifier"];

/// Request extension marking an item of a `$batch`, by its `id`, for the log.
#[derive(Clone, Debug)]
pub(super) struct BatchItem(pub(super) String);

/// One request as the emulator received it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RecordedRequest {
    pub method: String,
    /// Raw path, still percent-encoded.
    pub path: String,
    /// Raw query string, with secret parameters redacted.
    pub query: Option<String>,
    /// Lower-case names; the `authorization` value is replaced by "[redacted]".
    pub headers: Vec<(String, String)>,
    /// JSON bodies; for the token form grant_type, client_id, scope,
    /// client_assertion_type and redirect_uri, and client_secret, client_assertion, code
    /// and code_verifier as "[redacted]".
    pub body: Option<Value>,
    /// Response status; 0 while the response is still being produced. For a dropped
    /// connection, the status the applied handler produced (the client saw none).
    pub status: u16,
    /// The fault injected into this request (`throttle`, `drop_after_apply`, …, or
    /// `invitation_rate_limit`, `write_rate_limit`); absent from the JSON when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub injected: Option<String>,
    /// For an item of a `$batch` (logged after the batch itself), the item's `id`;
    /// absent from the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_item: Option<String>,
}

/// Outermost middleware. The control surface (`/_emulator/…`) is not recorded: the log
/// describes traffic to the emulated services, and reading it must not grow it.
pub(super) async fn record(
    State(emulator): State<Emulator>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/_emulator/") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await;
    let mut entry = describe(&parts, bytes.as_deref().unwrap_or_default());
    let Ok(bytes) = bytes else {
        entry.status = StatusCode::PAYLOAD_TOO_LARGE.as_u16();
        emulator.log_request(entry);
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let seq = emulator.log_request(entry);
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let injected = response.extensions().get::<Injected>().map(|i| i.0);
    emulator.set_request_outcome(seq, response.status().as_u16(), injected);
    response
}

fn describe(parts: &Parts, body: &[u8]) -> RecordedRequest {
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = if name == header::AUTHORIZATION {
                REDACTED.to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_owned(), value)
        })
        .collect();
    let path = parts.uri.path();
    let body = if path.ends_with("/oauth2/v2.0/token") {
        token_form(body)
    } else {
        json_body(body)
    };
    RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: path.to_owned(),
        query: parts.uri.query().map(redact_query),
        headers,
        body,
        status: 0,
        injected: None,
        batch_item: parts
            .extensions
            .get::<BatchItem>()
            .map(|item| item.0.clone()),
    }
}

fn token_form(body: &[u8]) -> Option<Value> {
    let form = parse_form(body);
    let verbatim = LOGGED_TOKEN_FIELDS
        .iter()
        .filter_map(|name| field(&form, name).map(|v| ((*name).to_owned(), Value::from(v))));
    let present = SECRET_PARAMETERS
        .iter()
        .filter(|name| field(&form, name).is_some())
        .map(|name| ((*name).to_owned(), Value::from(REDACTED)));
    let logged: Map<String, Value> = verbatim.chain(present).collect();
    Some(Value::Object(logged))
}

fn json_body(body: &[u8]) -> Option<Value> {
    if body.is_empty() {
        return None;
    }
    serde_json::from_slice(body).ok()
}

/// Keeps the query verbatim except the values of credential parameters.
fn redact_query(query: &str) -> String {
    let redact = |pair: &str| {
        let name = pair.split('=').next().unwrap_or_default();
        if SECRET_PARAMETERS.contains(&name) {
            format!("{name}={REDACTED}")
        } else {
            pair.to_owned()
        }
    };
    query.split('&').map(redact).collect::<Vec<_>>().join("&")
}
