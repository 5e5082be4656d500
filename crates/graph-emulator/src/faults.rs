//! Fault injection on the token endpoint and the Graph routes. On Graph it sits after the
//! envelope (so injected errors still carry request ids and Graph's error body) and
//! before bearer validation (as a gateway-level throttle or outage would). It also
//! enforces the documented service limits (`service_limits.rs`) ahead of the plan: a
//! request a limit refuses takes no draw from the plan's random stream.
//!
//! A rule's `limit` counts the times it fired, even when the fault then had nothing to
//! spoil (a malformed body on an error answer), so a plan's reach stays predictable.
//!
//! Faults that refuse (429, 5xx) never run the handler. Faults that corrupt the answer
//! (malformed, truncated, dropped) run it first, so the change *is* applied; a client
//! that retries such a write must cope with finding it already done.

use std::convert::Infallible;
use std::time::Duration;

use axum::RequestExt as _;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::{Layer as _, ServiceExt as _};

use super::envelope::GRAPH_JSON;
use super::errors::{AadError, GraphError, correlation_id};
use super::service_limits::{self, Gate, Throttled};
use super::{Emulator, Fault, FaultRoute};

/// Route paths, shared with the router so the classification cannot drift from it.
pub(super) const TOKEN_PATH: &str = "/{tenant}/oauth2/v2.0/token";
pub(super) const USERS_PATH: &str = "/v1.0/users";
pub(super) const USER_PATH: &str = "/v1.0/users/{id}";
pub(super) const MEMBER_OF_PATH: &str = "/v1.0/users/{id}/transitiveMemberOf";
pub(super) const MEMBER_OF_CAST_PATH: &str = "/v1.0/users/{id}/transitiveMemberOf/{cast}";
pub(super) const INVITATIONS_PATH: &str = "/v1.0/invitations";
pub(super) const BATCH_PATH: &str = "/v1.0/$batch";
/// What a malformed answer carries instead of JSON (under a JSON content type).
const NOT_JSON: &str = "<html><body>upstream answer lost in transit</body></html>";

/// Response extension naming what was injected; the request log records it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Injected(pub(super) &'static str);

pub(super) async fn inject(
    State(emulator): State<Emulator>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.extensions().get::<MatchedPath>();
    let route = classify(request.method(), path.map(MatchedPath::as_str));
    let usage = match service_limits::admit(&emulator, route, request.headers()) {
        Gate::Pass(usage) => usage,
        Gate::Refuse(refused) => return throttled(route, request.headers(), refused),
    };
    let response = match emulator.pick_fault(route) {
        None => next.run(request).await,
        Some(fault) => marked(perform(&fault, route, request, next).await, fault.name()),
    };
    service_limits::stamp(usage, response)
}

fn classify(method: &Method, path: Option<&str>) -> FaultRoute {
    match path.unwrap_or_default() {
        TOKEN_PATH => FaultRoute::Token,
        USERS_PATH if method == Method::GET => FaultRoute::ListUsers,
        USER_PATH if method == Method::GET => FaultRoute::GetUser,
        USER_PATH if method == Method::PATCH => FaultRoute::PatchUser,
        MEMBER_OF_PATH | MEMBER_OF_CAST_PATH => FaultRoute::MemberOf,
        INVITATIONS_PATH => FaultRoute::Invitations,
        BATCH_PATH => FaultRoute::Batch,
        _ => FaultRoute::AnyGraph,
    }
}

async fn perform(fault: &Fault, route: FaultRoute, request: Request, next: Next) -> Response {
    match fault {
        Fault::Throttle { retry_after } => {
            let status = StatusCode::TOO_MANY_REQUESTS;
            refusal(route, request.headers(), status, retry_after.as_deref())
        }
        Fault::Unavailable {
            status,
            retry_after,
        } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY);
            refusal(route, request.headers(), status, retry_after.as_deref())
        }
        Fault::Latency { millis } | Fault::Stall { millis } => {
            delayed(*millis, request, next).await
        }
        Fault::MalformedJson => malformed(next.run(request).await),
        Fault::TruncatedJson => truncated(next.run(request).await).await,
        Fault::DropAfterApply => dropped(next.run(request).await).await,
    }
}

/// The documented 429 for a request a service limit refused.
fn throttled(route: FaultRoute, headers: &HeaderMap, refused: Throttled) -> Response {
    let status = StatusCode::TOO_MANY_REQUESTS;
    let mut response = refusal(route, headers, status, Some(&refused.retry_after));
    response.headers_mut().extend(refused.headers);
    marked(response, refused.marker)
}

fn marked(mut response: Response, name: &'static str) -> Response {
    response.extensions_mut().insert(Injected(name));
    response
}

/// A refusal in the route's error shape, with `Retry-After` verbatim when given.
fn refusal(
    route: FaultRoute,
    headers: &HeaderMap,
    status: StatusCode,
    retry_after: Option<&str>,
) -> Response {
    let mut response = if route == FaultRoute::Token {
        token_refusal(status).render(&correlation_id(headers))
    } else {
        graph_refusal(status).into_response()
    };
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The documented 429 body (graph.md §4), or a 5xx with the code named after the status
/// and the Graph status table's description as message (wording UNVERIFIED).
fn graph_refusal(status: StatusCode) -> GraphError {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return GraphError::new(status, "TooManyRequests", "Please retry again later.")
            .with_inner("code", "429")
            .with_inner("message", "Please retry after")
            .with_inner("status", "429");
    }
    let (code, message) = match status.as_u16() {
        500 => (
            "InternalServerError",
            "There was an internal server error while processing the request.",
        ),
        502 => (
            "BadGateway",
            "The server, while acting as a gateway, received an invalid response from the upstream server.",
        ),
        503 => (
            "ServiceUnavailable",
            "The service is temporarily unavailable for maintenance or is overloaded. You may repeat the request after a delay, the length of which may be specified in a Retry-After header.",
        ),
        504 => (
            "GatewayTimeout",
            "The server, while acting as a proxy, did not receive a timely response from the upstream server it needed to access in attempting to complete the request.",
        ),
        _ => ("UnknownError", "An unexpected error occurred."),
    };
    GraphError::new(status, code, message)
}

/// The token service's shape: AADSTS90055 (tenant throttled, graph.md §6.3) for 429,
/// `temporarily_unavailable` with AADSTS50000 for a 5xx (code UNVERIFIED).
fn token_refusal(status: StatusCode) -> AadError {
    let (code, message) = if status == StatusCode::TOO_MANY_REQUESTS {
        (
            90055,
            "TenantThrottlingError: There are too many incoming requests.",
        )
    } else {
        (
            50000,
            "There was an error issuing a token or an issue with our sign-in service.",
        )
    };
    AadError::new(status, "temporarily_unavailable", code, message.to_owned())
}

/// Latency and stalls alike run the request in a task of its own, so it completes (and
/// applies its change) when the delay ends even if the client has hung up meanwhile.
async fn delayed(millis: u64, request: Request, next: Next) -> Response {
    let task = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(millis)).await;
        next.run(request).await
    });
    task.await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// A success keeps its status (204 becomes 200, which may carry a body) but its body is
/// not JSON; error answers pass unchanged.
fn malformed(response: Response) -> Response {
    if !response.status().is_success() {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    if parts.status == StatusCode::NO_CONTENT {
        parts.status = StatusCode::OK;
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    if !parts.headers.contains_key(header::CONTENT_TYPE) {
        let json = HeaderValue::from_static(GRAPH_JSON);
        parts.headers.insert(header::CONTENT_TYPE, json);
    }
    Response::from_parts(parts, Body::from(NOT_JSON))
}

/// The first half of a success's body, declared as the whole (an empty body stays empty);
/// error answers pass unchanged.
async fn truncated(response: Response) -> Response {
    if !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if bytes.is_empty() {
        return Response::from_parts(parts, Body::empty());
    }
    let cut = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(cut.len()));
    Response::from_parts(parts, Body::from(cut))
}

/// Keeps the applied answer's head but swaps in a body that fails on its first read.
/// hyper then closes the connection before flushing anything, so the client sees a
/// transport error and no status. A Graph error's body is rendered later by the
/// envelope, so its marker is removed or the envelope would put a readable body back.
pub(super) async fn dropped(applied: Response) -> Response {
    let (mut parts, _) = applied.into_parts();
    parts.extensions.remove::<GraphError>();
    // hyper never reads the body of a 204, so it would answer after all.
    if parts.status == StatusCode::NO_CONTENT {
        parts.status = StatusCode::OK;
    }
    Response::from_parts(parts, failing_body().await)
}

/// A body whose first frame is an error: two bytes behind axum's body limit of one. The
/// limit wrapper is only reachable through its layer, hence the one-shot service.
async fn failing_body() -> Body {
    let probe = DefaultBodyLimit::max(1).layer(tower::service_fn(|request: Request| async {
        Ok::<_, Infallible>(request.into_limited_body())
    }));
    let request = Request::new(Body::from("xx"));
    match probe.oneshot(request).await {
        Ok(body) => body,
        Err(never) => match never {},
    }
}
