//! The HTTP edge: routes, the auth extractor, and the mapping of every
//! module's errors to RFC 9457 problems.

mod admin;
mod approvals;
mod audit;
pub mod auth;
pub mod console;
pub mod drain;
mod guests;
mod idempotency;
mod job_stream;
mod jobs;
pub mod limits;
mod list;
mod metrics;
mod webhooks;

pub use idempotency::claim as idempotency_claim;
pub mod problem;
pub mod request_id;
mod resets;
mod visibility;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

use crate::problem::ProblemType;
use crate::reset::ResetService;

/// The spec served at `/openapi.yaml`; the same file is the contract tests check.
pub const OPENAPI: &str = include_str!("../../openapi.yaml");

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    pub resets: Arc<ResetService>,
    pub auth: Arc<crate::auth::Verifier>,
    /// How long an `Idempotency-Key` and its answer are kept.
    pub idempotency_retention: std::time::Duration,
    /// Resets running detached from their request; shutdown waits for them.
    pub in_flight: Arc<drain::InFlight>,
    /// Per-caller rate limit.
    pub limiter: Arc<limits::Limiter>,
    /// An answer not ready by then is a 504 `request-timeout`.
    pub request_timeout: std::time::Duration,
    /// `/metrics` is on its own listener (`METRICS_ADDR`), not the API's.
    pub metrics_elsewhere: bool,
    /// Webhook sources by name.
    pub webhooks: Arc<Vec<crate::config::WebhookSource>>,
    /// Wakes the queue workers when a reset is queued.
    pub queue_wake: Arc<tokio::sync::Notify>,
    /// Set when shutdown begins: event streams end.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// The operator console, when `GUEST_RESET_CONSOLE_*` configure it.
    pub console: Option<Arc<console::Console>>,
}

/// The router of the separate metrics listener.
pub fn metrics_routes(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::on_own_listener))
        .with_state(state)
}

/// Every route as (method, path template), in the router's own syntax. The
/// router is built from this table's entries, and a test checks the table
/// against `openapi.yaml` and probes each entry on a running service.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/resets"),
    ("GET", "/v1/resets"),
    ("GET", "/v1/resets/{id}"),
    ("POST", "/v1/resets/{id}/retry"),
    ("POST", "/v1/resets/{id}/approve"),
    ("POST", "/v1/resets/{id}/deny"),
    ("POST", "/v1/resets/{id}/cancel"),
    ("GET", "/v1/approvals"),
    ("GET", "/v1/guests"),
    ("GET", "/v1/guests/{id}"),
    ("POST", "/v1/jobs"),
    ("GET", "/v1/jobs"),
    ("GET", "/v1/jobs/{id}"),
    ("POST", "/v1/jobs/{id}/pause"),
    ("POST", "/v1/jobs/{id}/resume"),
    ("POST", "/v1/jobs/{id}/cancel"),
    ("POST", "/v1/jobs/{id}/approve"),
    ("POST", "/v1/jobs/{id}/deny"),
    ("GET", "/v1/jobs/{id}/items"),
    ("GET", "/v1/jobs/{id}/events"),
    ("GET", "/v1/whoami"),
    ("GET", "/v1/audit/events"),
    ("GET", "/v1/audit/checkpoint"),
    ("POST", "/v1/admin/policy/reload"),
    ("POST", "/v1/webhooks/{source}"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/openapi.yaml"),
    ("GET", "/metrics"),
];

/// The API routes (no middleware; see `app::build_router`).
pub fn routes() -> Router<AppState> {
    let handler = |method: &str, path: &str| -> MethodRouter<AppState> {
        match (method, path) {
            ("POST", "/v1/resets") => post(resets::create),
            ("GET", "/v1/resets") => get(list::list),
            ("GET", "/v1/resets/{id}") => get(resets::get),
            ("POST", "/v1/resets/{id}/retry") => post(resets::retry),
            ("POST", "/v1/resets/{id}/approve") => post(approvals::approve),
            ("POST", "/v1/resets/{id}/deny") => post(approvals::deny),
            ("POST", "/v1/resets/{id}/cancel") => post(approvals::cancel),
            ("GET", "/v1/approvals") => get(approvals::inbox),
            ("GET", "/v1/guests") => get(guests::search),
            ("GET", "/v1/guests/{id}") => get(guests::get),
            // A 10,000-row CSV is far beyond the 64 KiB other bodies get.
            ("POST", "/v1/jobs") => {
                post(jobs::create).layer(axum::extract::DefaultBodyLimit::max(jobs::BODY_LIMIT))
            }
            ("GET", "/v1/jobs") => get(jobs::list),
            ("GET", "/v1/jobs/{id}") => get(jobs::get),
            ("POST", "/v1/jobs/{id}/pause") => post(jobs::pause),
            ("POST", "/v1/jobs/{id}/resume") => post(jobs::resume),
            ("POST", "/v1/jobs/{id}/cancel") => post(jobs::cancel),
            ("POST", "/v1/jobs/{id}/approve") => post(jobs::approve),
            ("POST", "/v1/jobs/{id}/deny") => post(jobs::deny),
            ("GET", "/v1/jobs/{id}/items") => get(job_stream::items),
            ("GET", "/v1/jobs/{id}/events") => get(job_stream::events),
            ("GET", "/v1/whoami") => get(admin::whoami),
            ("GET", "/v1/audit/events") => get(audit::events),
            ("GET", "/v1/audit/checkpoint") => get(audit::checkpoint),
            ("POST", "/v1/admin/policy/reload") => post(admin::reload_policy),
            ("POST", "/v1/webhooks/{source}") => post(webhooks::deliver),
            ("GET", "/healthz") => get(healthz),
            ("GET", "/readyz") => get(readyz),
            ("GET", "/openapi.yaml") => get(openapi),
            ("GET", "/metrics") => get(metrics::on_api),
            _ => unreachable!("route {method} {path} has no handler"),
        }
    };
    ROUTES.iter().fold(Router::new(), |router, (method, path)| {
        router.route(path, handler(method, path))
    })
}

async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// Ready when the audit database answers, a Graph token can be had (cached)
/// in at least one tenant and, with an OIDC issuer, its signing keys are
/// known: one customer's outage must not take the service out of a load
/// balancer that also serves the others. `checks.tenants` names each
/// tenant's state (an open circuit is reported; requests then answer 503
/// with Retry-After themselves).
async fn readyz(State(state): State<AppState>) -> Response {
    let ((db, tenants), keys) = tokio::join!(state.resets.readiness(), state.auth.refresh_keys());
    let verdict = |ok: bool, bad: &'static str| if ok { "ok" } else { bad };
    let working = tenants.iter().filter(|t| t.token.is_ok()).count();
    let per_tenant: serde_json::Map<String, serde_json::Value> = tenants
        .iter()
        .map(|t| {
            let state = match (&t.token, t.circuit_open) {
                (Err(_), _) => "token_unavailable",
                (Ok(()), true) => "circuit_open",
                (Ok(()), false) => "ok",
            };
            (t.name.clone(), state.into())
        })
        .collect();
    let checks = serde_json::json!({
        "database": verdict(db.is_ok(), "unreachable"),
        "graph_token": verdict(working > 0, "unavailable"),
        "auth_keys": verdict(keys.is_ok(), "unavailable"),
        "tenants": per_tenant,
    });
    let failing: Vec<String> = tenants
        .into_iter()
        .filter_map(|t| t.token.err().map(|e| format!("tenant {}: {e}", t.name)))
        .collect();
    if !failing.is_empty() {
        tracing::warn!(?failing, "Graph token unavailable");
    }
    if db.is_ok() && working > 0 && keys.is_ok() {
        return axum::Json(serde_json::json!({ "status": "ready", "checks": checks }))
            .into_response();
    }
    let no_token = (working == 0).then(|| "no tenant has a Graph token".to_owned());
    let why = [
        db.err().map(|e| e.to_string()),
        keys.err().map(|e| e.to_string()),
        no_token,
    ];
    tracing::warn!(reasons = ?why.iter().flatten().collect::<Vec<_>>(), "not ready");
    problem::Problem::new(
        ProblemType::NotReady,
        "A dependency is not available; `checks` says which.",
    )
    .with("checks", checks)
    .into_response()
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI)
}
