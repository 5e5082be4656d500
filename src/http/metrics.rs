//! `GET /metrics`: Prometheus text. Served on the API listener, or only on
//! `METRICS_ADDR` when that is set, so it need not be exposed with the API.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::AppState;
use super::problem::Problem;
use crate::metrics::{self, Gauges};
use crate::problem::ProblemType;

pub async fn on_api(State(state): State<AppState>) -> Response {
    if state.metrics_elsewhere {
        return Problem::new(ProblemType::NotFound, "No such resource.").into_response();
    }
    scrape(&state).await
}

pub async fn on_own_listener(State(state): State<AppState>) -> Response {
    scrape(&state).await
}

async fn scrape(state: &AppState) -> Response {
    let (queue_depth, oldest) = match state.resets.queue_summary().await {
        Ok(summary) => summary,
        Err(e) => {
            // Still serve the counters: a scrape is how the outage is seen.
            tracing::warn!(error = %e, "metrics: audit store unreadable");
            (0, None)
        }
    };
    let gauges = Gauges {
        queue_depth,
        oldest_queued: oldest.as_deref().map_or_else(Default::default, age),
        in_flight: state.in_flight.count() as u64,
        circuit_open: state.resets.circuits_open(),
    };
    (
        [(CONTENT_TYPE, metrics::CONTENT_TYPE)],
        metrics::render(gauges),
    )
        .into_response()
}

fn age(created_at: &str) -> std::time::Duration {
    OffsetDateTime::parse(created_at, &Rfc3339)
        .ok()
        .and_then(|t| (OffsetDateTime::now_utc() - t).try_into().ok())
        .unwrap_or_default()
}
