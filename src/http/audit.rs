//! `GET /v1/audit/events` (the trail, paged by sequence number, as JSON or
//! JSON Lines for SIEMs) and `GET /v1/audit/checkpoint` (the newest signed
//! checkpoint, as its signed-note text).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::instrument;

use super::AppState;
use super::auth::Caller;
use super::problem::Problem;
use crate::audit::Event;
use crate::policy::Permission;
use crate::problem::ProblemType;
use crate::reset::trail::{MAX_EVENTS, TrailError};

const NDJSON: &str = "application/x-ndjson";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsParams {
    after: Option<u64>,
    limit: Option<u32>,
}

#[instrument(skip_all)]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    params: Result<Query<EventsParams>, QueryRejection>,
) -> Response {
    if let Err(p) = caller.require(Permission::AuditRead) {
        return p.into_response();
    }
    let (after, limit) = match params
        .map_err(|e| e.body_text())
        .and_then(|Query(p)| check(p))
    {
        Ok(found) => found,
        Err(detail) => return Problem::new(ProblemType::InvalidRequest, detail).into_response(),
    };
    let events = match state
        .resets
        .audit_events(&caller.identity, after, limit)
        .await
    {
        Ok(events) => events,
        Err(e) => return problem(&e).into_response(),
    };
    let next_after = events.last().map_or(after, |e| e.seq);
    let wants_lines = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains(NDJSON));
    let shown: Vec<Value> = events.iter().map(exported).collect();
    if !wants_lines {
        return Json(json!({"events": shown, "next_after": next_after})).into_response();
    }
    let mut body = String::new();
    for event in &shown {
        body.push_str(&event.to_string());
        body.push('\n');
    }
    ([(header::CONTENT_TYPE, NDJSON)], body).into_response()
}

/// An event as exported: as stored, plus `graph_request_ids` lifted from a
/// reset's record to the top, where a SIEM's join finds it. The lifted copy
/// is outside the hash (which covers `data`, where the ids also are).
fn exported(event: &Event) -> Value {
    let mut shown = json!(event);
    let ids = event.data["reset"]["graph_request_ids"].clone();
    shown["graph_request_ids"] = match ids {
        Value::Array(_) => ids,
        _ => json!([]),
    };
    shown
}

fn check(p: EventsParams) -> Result<(u64, u32), String> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=MAX_EVENTS).contains(&limit) {
        return Err(format!("limit: between 1 and {MAX_EVENTS}"));
    }
    let after = p.after.unwrap_or(0);
    if after > i64::MAX as u64 {
        return Err("after: a sequence number (at most 2^63 - 1)".into());
    }
    Ok((after, limit))
}

#[instrument(skip_all)]
pub async fn checkpoint(State(state): State<AppState>, caller: Caller) -> Response {
    if let Err(p) = caller.require(Permission::AuditRead) {
        return p.into_response();
    }
    match state.resets.latest_checkpoint(&caller.identity).await {
        Ok(c) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            c.note,
        )
            .into_response(),
        Err(e) => problem(&e).into_response(),
    }
}

fn problem(e: &TrailError) -> Problem {
    match e {
        TrailError::NotPermitted => Problem::new(ProblemType::PermissionDenied, e.to_string()),
        TrailError::NoCheckpoint(_) => Problem::new(ProblemType::NotFound, e.to_string()),
        TrailError::Sign(_) | TrailError::Store(_) => {
            tracing::error!(error = %e, "audit trail read failed");
            Problem::new(ProblemType::Internal, "The audit trail could not be read.")
        }
    }
}
