//! `/_emulator/…`: a small, unauthenticated control surface for tests and operators. It
//! is not part of Graph; it exposes what the in-process API exposes.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::time::Duration;

use axum::body::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Emulator, FaultPlan};

pub(super) fn router() -> Router<Emulator> {
    Router::new()
        .route("/_emulator/requests", get(requests))
        .route("/_emulator/users/{id}", get(user))
        .route("/_emulator/outbox", get(outbox))
        .route("/_emulator/keys/rotate", post(rotate_keys))
        .route(
            "/_emulator/faults",
            get(faults).put(set_faults).delete(clear_faults),
        )
        .route("/_emulator/limits", get(current_limits).put(set_limits))
        .route("/_emulator/applied", get(applied))
}

/// `PUT /_emulator/faults`: a [`FaultPlan`] as JSON; 204, or 400 naming the problem.
async fn set_faults(State(emulator): State<Emulator>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    match FaultPlan::from_json(&text) {
        Ok(plan) => {
            emulator.set_faults(plan);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => refused(&error.to_string()),
    }
}

/// `GET /_emulator/faults`: the active plan, or `null`.
async fn faults(State(emulator): State<Emulator>) -> Response {
    Json(emulator.faults()).into_response()
}

async fn clear_faults(State(emulator): State<Emulator>) -> Response {
    emulator.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

/// A directory clock further off than a day is not a skew but a broken test.
const MAX_CLOCK_OFFSET_MS: u64 = 86_400_000;

/// The adjustable limits; in a PUT, absent fields keep their current value.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Limits {
    invitations_per_window: Option<u32>,
    window_ms: Option<u64>,
    /// The directory write quota of each application (`write_limit.rs`).
    writes_per_window: Option<u32>,
    write_window_ms: Option<u64>,
    replication_lag_ms: Option<u64>,
    /// The directory clock's offset from the real one (negative: behind).
    clock_offset_ms: Option<i64>,
}

async fn current_limits(State(emulator): State<Emulator>) -> Response {
    let (requests, window) = emulator.invitation_rate();
    let (writes, write_window) = emulator.write_rate();
    let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    Json(Limits {
        invitations_per_window: Some(requests),
        window_ms: Some(millis(window)),
        writes_per_window: Some(writes),
        write_window_ms: Some(millis(write_window)),
        replication_lag_ms: Some(millis(emulator.replication_lag())),
        clock_offset_ms: Some(emulator.clock_offset_ms()),
    })
    .into_response()
}

/// `PUT /_emulator/limits`: a changed invitation or write limit starts with full
/// buckets.
async fn set_limits(State(emulator): State<Emulator>, body: Bytes) -> Response {
    let limits: Limits = match serde_json::from_slice(&body) {
        Ok(limits) => limits,
        Err(error) => return refused(&format!("not a limits object: {error}")),
    };
    if let Err(problem) = limits.check() {
        return refused(problem);
    }
    limits.apply(&emulator);
    current_limits(State(emulator)).await
}

impl Limits {
    fn check(&self) -> Result<(), &'static str> {
        let zero = [self.invitations_per_window, self.writes_per_window].contains(&Some(0))
            || [self.window_ms, self.write_window_ms].contains(&Some(0));
        if zero {
            return Err("the limits and their windows must be at least 1");
        }
        if (self.clock_offset_ms).is_some_and(|o| o.unsigned_abs() > MAX_CLOCK_OFFSET_MS) {
            return Err("clock_offset_ms must be within a day either way (±86400000)");
        }
        Ok(())
    }

    fn apply(&self, emulator: &Emulator) {
        if self.invitations_per_window.is_some() || self.window_ms.is_some() {
            let (requests, window) = emulator.invitation_rate();
            let requests = self.invitations_per_window.unwrap_or(requests);
            let window = self.window_ms.map_or(window, Duration::from_millis);
            emulator.set_invitation_rate(requests, window);
        }
        if self.writes_per_window.is_some() || self.write_window_ms.is_some() {
            let (writes, window) = emulator.write_rate();
            let writes = self.writes_per_window.unwrap_or(writes);
            let window = self.write_window_ms.map_or(window, Duration::from_millis);
            emulator.set_write_rate(writes, window);
        }
        if let Some(lag) = self.replication_lag_ms {
            emulator.set_replication_lag(Duration::from_millis(lag));
        }
        if let Some(offset) = self.clock_offset_ms {
            emulator.set_clock_offset_ms(offset);
        }
    }
}

async fn applied(State(emulator): State<Emulator>) -> Response {
    Json(emulator.applied_resets()).into_response()
}

fn refused(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

#[derive(Deserialize)]
struct RotateQuery {
    #[serde(default)]
    drop_old: bool,
}

/// `POST /_emulator/keys/rotate[?drop_old=true]`: a new key signs from now on.
async fn rotate_keys(
    State(emulator): State<Emulator>,
    Query(query): Query<RotateQuery>,
) -> Response {
    match emulator.rotate_signing_key(!query.drop_old) {
        Ok(kid) => Json(json!({ "kid": kid })).into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": error.to_string() })),
        )
            .into_response(),
    }
}

async fn requests(State(emulator): State<Emulator>) -> Response {
    Json(emulator.requests()).into_response()
}

async fn user(State(emulator): State<Emulator>, Path(id): Path<String>) -> Response {
    match emulator.user(&id) {
        Some(user) => Json(user).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no user '{id}'") })),
        )
            .into_response(),
    }
}

async fn outbox(State(emulator): State<Emulator>) -> Response {
    Json(emulator.outbox()).into_response()
}
