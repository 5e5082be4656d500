//! `/v1/jobs`: submit a bulk job (CSV, JSON items, or a domain move), dry
//! run it, read it, pause, resume or cancel it. What a job does is the use
//! case's; here bodies are read by their media type and answers shaped.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::AppState;
use super::auth::Caller;
use super::problem::Problem;
use super::request_id;
use crate::json_object::{self, BodyError};
use crate::policy::Permission;
use crate::problem::ProblemType;
use crate::record::ApprovalVerdict;
use crate::reset::ResetError;
use crate::reset::jobs::{Control, JobError, JobSubmission, JobView, from_csv, from_json};

/// The largest job body: 10,000 CSV rows with room to spare.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateParams {
    #[serde(default)]
    dry_run: Option<bool>,
    /// The tenant of CSV rows without a `tenant` cell.
    #[serde(default)]
    tenant: Option<String>,
}

#[derive(Serialize)]
struct JobList {
    items: Vec<JobView>,
}

#[instrument(skip_all, fields(requester = %caller.identity.subject))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<CreateParams>, QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(p) = caller.require(Permission::JobsCreate) {
        return p.into_response();
    }
    let (dry_run, tenant) = match params {
        Ok(Query(p)) => (p.dry_run.unwrap_or(false), p.tenant),
        Err(e) => return Problem::new(ProblemType::InvalidRequest, e.body_text()).into_response(),
    };
    let max = state.resets.job_max_items();
    let submission = match media_type(&headers).as_deref() {
        Some("text/csv") => from_csv(&body, max),
        Some("application/json") => json_job(&body, max),
        _ => {
            let detail = "Send the job as text/csv (a header row, then one guest per line) \
                          or application/json.";
            return Problem::new(ProblemType::UnsupportedMediaType, detail).into_response();
        }
    };
    let mut submission = match submission {
        Ok(s) => s,
        Err(e) => return problem(e).into_response(),
    };
    if submission.tenant.is_none() {
        submission.tenant = tenant;
    }
    match dry_run {
        true => dry_run_answer(&state, &caller, submission).await,
        false => submit(&state, &caller, submission).await,
    }
}

fn json_job(body: &[u8], max: usize) -> Result<JobSubmission, JobError> {
    let value = json_object::parse::<serde_json::Value>(body).map_err(|e| match e {
        BodyError::NotAnObject(detail) => JobError::Reset(ResetError::InvalidJson(detail)),
        BodyError::Field(detail) => JobError::Invalid { line: None, detail },
    })?;
    from_json(value, max)
}

async fn submit(state: &AppState, caller: &Caller, job: JobSubmission) -> Response {
    match state
        .resets
        .submit_job(&caller.identity, request_id::current(), job)
        .await
    {
        Ok(view) => {
            let location = format!("/v1/jobs/{}", view.id);
            (
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(view),
            )
                .into_response()
        }
        Err(e) => problem(e).into_response(),
    }
}

async fn dry_run_answer(state: &AppState, caller: &Caller, job: JobSubmission) -> Response {
    match state.resets.dry_run_job(&caller.identity, job).await {
        Ok(report) => Json(report).into_response(),
        Err(e) => problem(e).into_response(),
    }
}

#[instrument(skip_all)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Response {
    match state.resets.jobs(&caller.identity).await {
        Ok(items) => Json(JobList { items }).into_response(),
        Err(e) => problem(e).into_response(),
    }
}

#[instrument(skip_all, fields(job_id = %id))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    match state.resets.job(&caller.identity, &id).await {
        Ok(view) => Json(view).into_response(),
        Err(e) => problem(e).into_response(),
    }
}

#[instrument(skip_all, fields(job_id = %id))]
pub async fn pause(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    control(s, caller, id, Control::Pause).await
}

#[instrument(skip_all, fields(job_id = %id))]
pub async fn resume(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    control(s, caller, id, Control::Resume).await
}

#[instrument(skip_all, fields(job_id = %id))]
pub async fn cancel(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    control(s, caller, id, Control::Cancel).await
}

#[instrument(skip_all, fields(job_id = %id))]
pub async fn approve(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    rule(s, caller, id, body, true).await
}

#[instrument(skip_all, fields(job_id = %id))]
pub async fn deny(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    rule(s, caller, id, body, false).await
}

async fn rule(state: AppState, caller: Caller, id: String, body: Bytes, approve: bool) -> Response {
    let verdict = match approve {
        true => ApprovalVerdict::Approved,
        false => ApprovalVerdict::Denied,
    };
    let ruling = match super::approvals::ruling(&body, verdict) {
        Ok(ruling) => ruling,
        Err(e) => return Problem::from(&e).into_response(),
    };
    match state.resets.rule_job(&caller.identity, &id, ruling).await {
        Ok(view) => Json(view).into_response(),
        Err(e) => problem(e).into_response(),
    }
}

async fn control(state: AppState, caller: Caller, id: String, what: Control) -> Response {
    match state.resets.control_job(&caller.identity, &id, what).await {
        Ok(view) => Json(view).into_response(),
        Err(e) => problem(e).into_response(),
    }
}

/// The media type's essence (`text/csv; charset=utf-8` -> `text/csv`).
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    Some(essence)
}

/// Every jobs error as its named problem.
pub(super) fn problem(e: JobError) -> Problem {
    let detail = e.to_string();
    match e {
        JobError::Invalid { line, detail } => {
            let p = Problem::new(ProblemType::JobInvalid, detail);
            match line {
                Some(line) => p.with("line", line),
                None => p,
            }
        }
        JobError::NotFound(_) => Problem::new(ProblemType::NotFound, detail),
        JobError::Finished { .. } => Problem::new(ProblemType::JobFinished, detail),
        JobError::AwaitingApproval(_) => Problem::new(ProblemType::JobAwaitingApproval, detail),
        JobError::NotYours => Problem::new(ProblemType::PermissionDenied, detail),
        JobError::NotAnApprover => Problem::new(ProblemType::NotAnApprover, detail),
        JobError::SelfApproval => Problem::new(ProblemType::SelfApproval, detail),
        JobError::AlreadyDecided(_) => Problem::new(ProblemType::AlreadyDecided, detail),
        JobError::Reset(e) => Problem::from(&e),
        JobError::Store(e) => Problem::from(&ResetError::Store(e)),
    }
}
