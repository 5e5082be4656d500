//! `/v1/resets`: create a reset, read one, list them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::Serialize;
use tracing::{Instrument, instrument};

use super::auth::Caller;
use super::problem::Problem;
use super::request_id;
use super::visibility::{ReadScope, require_read};
use super::{AppState, idempotency};
use crate::json_object::{self, BodyError};
use crate::policy::Permission;
use crate::problem::ProblemType;
use crate::record::ResetRecord;
use crate::reset::{Accepted, Context, Failure, Outcome, PlannedCall, ResetError, ResetRequest};

/// A reset as the API shows it: the record, plus what only the POST answer
/// may carry.
#[derive(Serialize)]
pub(super) struct ResetView<'a> {
    #[serde(flatten)]
    pub record: &'a ResetRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_redeem_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<&'a [PlannedCall]>,
}

impl<'a> ResetView<'a> {
    /// The record alone, as every read shows it.
    pub(super) fn of(record: &'a ResetRecord) -> ResetView<'a> {
        ResetView {
            record,
            invite_redeem_url: None,
            plan: None,
        }
    }
}

#[instrument(skip_all, fields(requester = %caller.identity.subject))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(p) = caller.require(Permission::ResetsCreate) {
        return p.into_response();
    }
    if !is_json(&headers) {
        return Problem::new(
            ProblemType::UnsupportedMediaType,
            "Send the body as application/json.",
        )
        .into_response();
    }
    let key = match idempotency::parse(&headers) {
        Ok(key) => {
            key.map(|k| idempotency::claim(&caller.identity, k, &body, state.idempotency_retention))
        }
        Err(p) => return p.into_response(),
    };
    if let Some(claim) = &key
        && let idempotency::Gate::Answer(answer) = idempotency::check(&state, claim).await
    {
        return answer;
    }
    let input = json_object::parse::<ResetRequest>(&body).map_err(invalid_body);
    let (reset_id, response) = match prefers_async(&headers) {
        true => respond_async(&state, &caller, key.clone(), input).await,
        false => match run_detached(&state, &caller, key.clone(), input).await {
            Ok(outcome) => (Some(outcome.record.id.clone()), created(&outcome)),
            Err(failure) => (failure_id(&failure), Problem::from(failure).into_response()),
        },
    };
    // The answer (success or error) is what a repeat with the same key gets.
    match (key, reset_id) {
        (Some(claim), Some(id)) => idempotency::remember(&state, &claim, &id, response).await,
        _ => response,
    }
}

/// A body that is no JSON object is `invalid-json`; a bad field, `invalid-request`.
pub(super) fn invalid_body(e: BodyError) -> ResetError {
    match e {
        BodyError::NotAnObject(detail) => ResetError::InvalidJson(detail),
        BodyError::Field(detail) => ResetError::Invalid(detail),
    }
}

fn failure_id(failure: &Failure) -> Option<String> {
    failure.record.as_ref().map(|r| r.id.clone())
}

/// RFC 7240 `Prefer: respond-async` (among other preferences).
fn prefers_async(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|p| {
                p.split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("respond-async"))
            })
        })
}

/// Queue the reset and answer 202 at once with `Preference-Applied`; the
/// record at `Location` shows the outcome later.
async fn respond_async(
    state: &AppState,
    caller: &Caller,
    key: Option<crate::store::KeyClaim>,
    input: Result<ResetRequest, ResetError>,
) -> (Option<String>, Response) {
    let ctx = Context {
        caller: &caller.identity,
        may_receive_redeem_url: false,
        request_id: request_id::current(),
        key,
        retry_of: None,
    };
    match state.resets.accept(ctx, input, None, None).await {
        Ok(accepted) => {
            state.queue_wake.notify_one();
            let mut response = accepted_answer(&accepted);
            let applied = header::HeaderValue::from_static("respond-async");
            response.headers_mut().insert("preference-applied", applied);
            (Some(accepted.record.id), response)
        }
        Err(failure) => (failure_id(&failure), Problem::from(failure).into_response()),
    }
}

/// 202 with the pending record; a replayed webhook delivery gets 200 and
/// the record of the reset it started, and starts nothing.
pub(super) fn accepted_answer(accepted: &Accepted) -> Response {
    let view = ResetView::of(&accepted.record);
    let location = format!("/v1/resets/{}", accepted.record.id);
    let status = match accepted.replayed {
        true => StatusCode::OK,
        false => StatusCode::ACCEPTED,
    };
    (status, [(header::LOCATION, location)], Json(view)).into_response()
}

/// Run the reset in its own task: a caller that hangs up must not cancel it
/// halfway through its Graph calls. Shutdown waits for it (`InFlight`).
async fn run_detached(
    state: &AppState,
    caller: &Caller,
    key: Option<crate::store::KeyClaim>,
    input: Result<ResetRequest, ResetError>,
) -> Result<Outcome, Failure> {
    let (resets, identity) = (
        std::sync::Arc::clone(&state.resets),
        caller.identity.clone(),
    );
    let may_receive_redeem_url = caller.has(Permission::ResetsRedeemUrl);
    let (request_id, guard) = (request_id::current(), state.in_flight.enter());
    let span = tracing::Span::current();
    let task = tokio::spawn(request_id::with(request_id.clone(), async move {
        let _guard = guard;
        let ctx = Context {
            caller: &identity,
            may_receive_redeem_url,
            request_id,
            key,
            retry_of: None,
        };
        resets.create(ctx, input).instrument(span).await
    }));
    match task.await {
        Ok(result) => result,
        Err(e) => {
            tracing::error!(error = %e, "reset task failed");
            let what = "the reset task panicked".to_owned();
            let error = crate::store::StoreError::Corrupt {
                id: "-".into(),
                what,
            };
            Err(Failure {
                record: None,
                error: ResetError::Store(error),
            })
        }
    }
}

fn created(outcome: &Outcome) -> Response {
    let view = ResetView {
        record: &outcome.record,
        invite_redeem_url: outcome.redeem_url.as_ref().map(|u| u.expose_secret()),
        plan: outcome.plan.as_deref(),
    };
    let location = format!("/v1/resets/{}", outcome.record.id);
    let status = match (&outcome.plan, outcome.record.status) {
        (Some(_), _) => StatusCode::OK,
        // Waits for approval: accepted, not done.
        (None, crate::record::Status::AwaitingApproval) => StatusCode::ACCEPTED,
        (None, _) => StatusCode::CREATED,
    };
    (status, [(header::LOCATION, location)], Json(view)).into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[instrument(skip_all, fields(reset_id = %id))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    let not_found =
        || Problem::new(ProblemType::NotFound, "No reset with this id.").into_response();
    let record = match uuid::Uuid::try_parse(&id) {
        Ok(_) => match state.resets.get(&id).await {
            Ok(record) => record,
            Err(e) => return Problem::from(&ResetError::Store(e)).into_response(),
        },
        Err(_) => None,
    };
    // An approver of a reset may read it without a read permission (a
    // sponsor following a notification's link); anyone else needs one.
    let approver = |r: &ResetRecord| state.resets.is_approver_of(&caller.identity, r);
    if let Err(p) = require_read(&caller)
        && !record.as_ref().is_some_and(approver)
    {
        return p.into_response();
    }
    match record {
        // Someone else's reset is "not found", not "forbidden": ids cannot be probed.
        Some(record)
            if approver(&record) || ReadScope::of(&state, &caller).may_read(&caller, &record) =>
        {
            Json(ResetView::of(&record)).into_response()
        }
        _ => not_found(),
    }
}

/// `POST /v1/resets/{id}/retry`: re-drive an `unknown` reset the caller may read.
#[instrument(skip_all, fields(reset_id = %id))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    if let Err(p) = caller.require(Permission::ResetsCreate) {
        return p.into_response();
    }
    let not_found =
        || Problem::new(ProblemType::NotFound, "No reset with this id.").into_response();
    let original = match uuid::Uuid::try_parse(&id).map(|_| ()) {
        Err(_) => return not_found(),
        Ok(()) => match state.resets.get(&id).await {
            Ok(Some(record)) if ReadScope::of(&state, &caller).may_read(&caller, &record) => record,
            Ok(_) => return not_found(),
            Err(e) => return Problem::from(&ResetError::Store(e)).into_response(),
        },
    };
    let ctx = Context {
        caller: &caller.identity,
        may_receive_redeem_url: caller.has(Permission::ResetsRedeemUrl),
        request_id: request_id::current(),
        key: None,
        retry_of: None,
    };
    match state.resets.retry(ctx, &original).await {
        Ok(outcome) => created(&outcome),
        Err(failure) => Problem::from(failure).into_response(),
    }
}
