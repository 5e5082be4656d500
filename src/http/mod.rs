//! The HTTP edge: routes, the auth extractor, and the mapping of every
//! module's errors to RFC 9457 problems.

mod admin;
pub mod auth;
pub mod drain;
mod idempotency;
mod list;

pub use idempotency::claim as idempotency_claim;
pub mod problem;
pub mod request_id;
mod resets;

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
}

/// Every route as (method, path template), in the router's own syntax. The
/// router is built from this table's entries, and a test checks the table
/// against `openapi.yaml` and probes each entry on a running service.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/resets"),
    ("GET", "/v1/resets"),
    ("GET", "/v1/resets/{id}"),
    ("POST", "/v1/resets/{id}/retry"),
    ("GET", "/v1/whoami"),
    ("POST", "/v1/admin/policy/reload"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/openapi.yaml"),
];

/// The API routes (no middleware; see `app::build_router`).
pub fn routes() -> Router<AppState> {
    let handler = |method: &str, path: &str| -> MethodRouter<AppState> {
        match (method, path) {
            ("POST", "/v1/resets") => post(resets::create),
            ("GET", "/v1/resets") => get(list::list),
            ("GET", "/v1/resets/{id}") => get(resets::get),
            ("POST", "/v1/resets/{id}/retry") => post(resets::retry),
            ("GET", "/v1/whoami") => get(admin::whoami),
            ("POST", "/v1/admin/policy/reload") => post(admin::reload_policy),
            ("GET", "/healthz") => get(healthz),
            ("GET", "/readyz") => get(readyz),
            ("GET", "/openapi.yaml") => get(openapi),
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

async fn readyz(State(state): State<AppState>) -> Response {
    match state.resets.store().ping().await {
        Ok(()) => {
            axum::Json(serde_json::json!({ "status": "ready", "checks": { "database": "ok" } }))
                .into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            problem::Problem::new(ProblemType::NotReady, "The audit database is unreachable.")
                .with("checks", serde_json::json!({ "database": "unreachable" }))
                .into_response()
        }
    }
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI)
}
