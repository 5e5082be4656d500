//! The request id: the caller's `x-request-id` when it is sane, else a fresh
//! UUID. It is put back on the request (for the trace span), echoed on the
//! response, and available to everything that runs for the request, so every
//! problem body, log line and audit row carries it.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    static REQUEST_ID: String;
    /// Headers a handler or extractor wants on the answer (e.g. `RateLimit`).
    static EXTRA: std::cell::RefCell<Vec<(HeaderName, HeaderValue)>>;
}

/// Add `name: value` to the current request's answer.
pub fn add_header(name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        let _ = EXTRA.try_with(|extra| extra.borrow_mut().push((name, value)));
    }
}

/// The current request's id, inside a request.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Run `work` with `id` as the current request id (for work moved to its
/// own task, which does not inherit task-locals).
pub async fn with<F: std::future::Future>(id: Option<String>, work: F) -> F::Output {
    match id {
        Some(id) => REQUEST_ID.scope(id, work).await,
        None => work.await,
    }
}

pub const X_REQUEST_ID: &str = "x-request-id";

/// Longest caller-chosen request id we keep (longer ones are replaced).
const MAX_LEN: usize = 128;

pub async fn scope(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= MAX_LEN && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    request.headers_mut().insert(X_REQUEST_ID, value.clone());
    // A cheap clone (an Arc), not a copy of the template.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let (method, started) = (request.method().clone(), std::time::Instant::now());
    let work = async move {
        let response = next.run(request).await;
        let extra = EXTRA.with(|extra| extra.take());
        (response, extra)
    };
    let (mut response, extra) = REQUEST_ID
        .scope(id, EXTRA.scope(Default::default(), work))
        .await;
    crate::metrics::http_request(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
    );
    let headers = response.headers_mut();
    headers.extend(extra);
    headers.insert(X_REQUEST_ID, value);
    // Answers carry audit data and credentials (the redeem URL): never cached.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
