//! Approvals over HTTP: an approver's inbox (`GET /v1/approvals`), approve
//! and deny (a comment required to deny), and the requester's cancel. Who
//! may do what is the use case's to say; here bodies are parsed and answers
//! shaped.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::AppState;
use super::auth::Caller;
use super::problem::Problem;
use super::resets::{ResetView, invalid_body};
use crate::problem::ProblemType;
use crate::record::{ApprovalVerdict, ResetRecord, Status};
use crate::reset::{ResetError, Ruling};

/// Body of approve and deny (of a reset or of a job).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RulingBody {
    #[serde(default)]
    comment: Option<String>,
}

/// The ruling a body asks for; an empty body approves without comment.
pub(super) fn ruling(body: &[u8], verdict: ApprovalVerdict) -> Result<Ruling, ResetError> {
    let parsed = match body.is_empty() {
        true => RulingBody::default(),
        false => crate::json_object::parse::<RulingBody>(body).map_err(invalid_body)?,
    };
    Ok(Ruling {
        verdict,
        comment: parsed.comment,
    })
}

#[derive(Serialize)]
struct Inbox<'a> {
    items: Vec<ResetView<'a>>,
}

fn view(record: &ResetRecord) -> ResetView<'_> {
    ResetView::of(record)
}

#[instrument(skip_all, fields(approver = %caller.identity.subject))]
pub async fn inbox(State(state): State<AppState>, caller: Caller) -> Response {
    match state.resets.inbox(&caller.identity).await {
        Ok(records) => Json(Inbox {
            items: records.iter().map(view).collect(),
        })
        .into_response(),
        Err(e) => Problem::from(&ResetError::Store(e)).into_response(),
    }
}

#[instrument(skip_all, fields(reset_id = %id))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    rule(state, caller, id, body, ApprovalVerdict::Approved).await
}

#[instrument(skip_all, fields(reset_id = %id))]
pub async fn deny(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    rule(state, caller, id, body, ApprovalVerdict::Denied).await
}

async fn rule(
    state: AppState,
    caller: Caller,
    id: String,
    body: Bytes,
    verdict: ApprovalVerdict,
) -> Response {
    let ruling = match ruling(&body, verdict) {
        Ok(ruling) => ruling,
        Err(e) => return Problem::from(&e).into_response(),
    };
    if uuid::Uuid::try_parse(&id).is_err() {
        return not_found();
    }
    let ruled = state.resets.rule_on(&caller.identity, &id, ruling).await;
    answer(&state, ruled)
}

#[instrument(skip_all, fields(reset_id = %id))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    if uuid::Uuid::try_parse(&id).is_err() {
        return not_found();
    }
    let cancelled = state.resets.cancel(&caller.identity, &id).await;
    answer(&state, cancelled)
}

fn answer(state: &AppState, result: Result<Option<ResetRecord>, ResetError>) -> Response {
    match result {
        Ok(Some(record)) => {
            // The last approval queued it: a worker here runs it at once.
            if record.status == Status::Queued {
                state.queue_wake.notify_one();
            }
            Json(view(&record)).into_response()
        }
        Ok(None) => not_found(),
        Err(e) => Problem::from(&e).into_response(),
    }
}

fn not_found() -> Response {
    Problem::new(ProblemType::NotFound, "No reset with this id.").into_response()
}
