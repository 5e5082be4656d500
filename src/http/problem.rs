//! RFC 9457 problem responses, and the explicit mapping of every module's
//! errors onto them. Every error the API sends goes through [`Problem`],
//! bare error responses of routing and tower layers (404, 405, 413, 504)
//! included: [`for_bare_errors`] rewrites them.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::request_id;
use crate::problem::ProblemType;
use crate::reset::{Failure, ResetError};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// One problem occurrence.
#[derive(Debug)]
pub struct Problem {
    kind: ProblemType,
    detail: String,
    extensions: Map<String, Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Problem {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
            extensions: Map::new(),
            headers: Vec::new(),
        }
    }

    pub fn kind(&self) -> ProblemType {
        self.kind
    }

    /// Add an extension member (RFC 9457 §3.2).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Problem {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> Problem {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// The body as JSON, including the request id of the current request.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "type": self.kind.uri(),
            "title": self.kind.title(),
            "status": self.kind.status(),
            "detail": self.detail,
        });
        if let Some(obj) = body.as_object_mut() {
            if let Some(id) = request_id::current() {
                obj.insert("request_id".into(), id.into());
            }
            obj.extend(self.extensions.clone());
        }
        body
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::warn!(problem = self.kind.slug(), detail = %self.detail, "answering with a server-side problem");
        }
        let body = self.body().to_string();
        let mut response = (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response();
        response.headers_mut().extend(self.headers);
        response
    }
}

impl From<Failure> for Problem {
    fn from(failure: Failure) -> Problem {
        let Failure { record, error } = failure;
        let mut problem = Problem::from(&error);
        if let Some(record) = record {
            problem = problem.with("reset_id", record.id.clone());
            if let Some(policy) = record
                .policy
                .filter(|_| matches!(error, ResetError::PolicyDenied(_)))
            {
                problem = problem.with(
                    "policy",
                    json!({ "allowed": false, "rule": policy.rule, "reasons": policy.reasons, "version": policy.version }),
                );
            }
        }
        problem
    }
}

impl From<&ResetError> for Problem {
    fn from(error: &ResetError) -> Problem {
        if let ResetError::Store(e) = error {
            tracing::error!(error = %e, "audit store failure");
        }
        let problem = Problem::new(error.problem_type(), error.detail());
        match error.retry_after() {
            Some(wait) => {
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                problem.header(header::RETRY_AFTER, &secs.to_string())
            }
            None => problem,
        }
    }
}

/// A plain problem for a bare error status (from tower layers or routing).
pub fn for_status(status: StatusCode) -> Option<Problem> {
    let (kind, detail) = match status {
        // Routing refuses a path it cannot read, e.g. an id that is not
        // percent-encoded UTF-8 (`/v1/jobs/%FF`).
        StatusCode::BAD_REQUEST => (
            ProblemType::InvalidRequest,
            "The URL could not be read: a path segment (such as the id) or the query is not \
             percent-encoded UTF-8.",
        ),
        StatusCode::NOT_FOUND => (ProblemType::NotFound, "No such resource."),
        StatusCode::METHOD_NOT_ALLOWED => (
            ProblemType::MethodNotAllowed,
            "This resource does not support the method.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ProblemType::PayloadTooLarge,
            "The request body is larger than this route accepts (64 KiB; 4 MiB for a job).",
        ),
        StatusCode::GATEWAY_TIMEOUT => (
            ProblemType::RequestTimeout,
            "The answer was not ready in time. A reset that was accepted runs to its end: \
             repeat the request with the same Idempotency-Key, or list your resets, to see it.",
        ),
        StatusCode::INTERNAL_SERVER_ERROR => (
            ProblemType::Internal,
            "Unexpected error; the request id identifies it in the logs.",
        ),
        _ => return None,
    };
    Some(Problem::new(kind, detail))
}

/// Middleware: a bare error response from routing or a layer (no problem
/// body) becomes the problem for its status. Runs inside the request-id
/// scope, so the body carries the request id.
pub async fn for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE);
    let is_problem =
        content_type.is_some_and(|v| v.as_bytes().starts_with(CONTENT_TYPE.as_bytes()));
    // The console's error pages are HTML on purpose, for a person.
    let is_page = content_type.is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if status.as_u16() < 400 || is_problem || is_page {
        return response;
    }
    let Some(problem) = for_status(status) else {
        return response;
    };
    // Keep headers such as `Allow`; replace only the body.
    let (mut parts, _) = response.into_parts();
    let replacement = problem.into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    let (_, body) = replacement.into_parts();
    Response::from_parts(parts, Body::new(body))
}
