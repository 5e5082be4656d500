//! The headers every token-endpoint answer carries, success or error.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

/// No caching, JSON, and the `x-ms-request-id` that carries the trace id.
pub(super) fn add_token_headers(response: &mut Response, trace_id: &str) {
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    let json = HeaderValue::from_static("application/json; charset=utf-8");
    headers.insert(header::CONTENT_TYPE, json);
    if let Ok(value) = HeaderValue::from_str(trace_id) {
        headers.insert(HeaderName::from_static("x-ms-request-id"), value);
    }
}
