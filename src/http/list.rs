//! `GET /v1/resets`: filtered, cursor-paginated listing (only the caller's
//! own resets without `resets:read:all`).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::AppState;
use super::auth::Caller;
use super::problem::Problem;
use super::resets::ResetView;
use super::visibility::{ReadScope, require_read};
use crate::policy::Permission;
use crate::problem::ProblemType;
use crate::record::{Status, normalise_timestamp};
use crate::reset::ResetError;
use crate::store::{ListFilter, MAX_LIMIT};

/// Query parameters of `GET /v1/resets`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    user: Option<String>,
    status: Option<String>,
    ticket: Option<String>,
    requested_by: Option<String>,
    requested_by_name: Option<String>,
    tenant: Option<String>,
    agent: Option<String>,
    approver: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct Page<'a> {
    items: Vec<ResetView<'a>>,
    next_cursor: Option<&'a str>,
}

#[instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    if let Err(p) = require_read(&caller) {
        return p.into_response();
    }
    let mut filter = match params
        .map_err(|e| e.body_text())
        .and_then(|Query(p)| filter(p))
    {
        Ok(f) => f,
        Err(detail) => return Problem::new(ProblemType::InvalidRequest, detail).into_response(),
    };
    if !caller.has(Permission::ResetsReadAll) {
        // Only the caller's own: whoever else `requested_by` names is ignored.
        filter.requested_by = None;
    }
    filter.visible = ReadScope::of(&state, &caller).visible(&caller);
    let records = match state.resets.list(&filter).await {
        Ok(r) => r,
        Err(e) => return Problem::from(&ResetError::Store(e)).into_response(),
    };
    let full = records.len() == filter.limit as usize;
    let page = Page {
        items: records.iter().map(ResetView::of).collect(),
        next_cursor: records.last().filter(|_| full).map(|r| r.id.as_str()),
    };
    Json(page).into_response()
}

/// The longest value of each text filter (as in openapi.yaml).
const TEXT_LIMITS: [(&str, usize); 7] = [
    ("user", 256),
    ("ticket", 128),
    ("requested_by", 256),
    ("requested_by_name", 256),
    ("tenant", 64),
    ("agent", 256),
    ("approver", 256),
];

fn filter(p: ListParams) -> Result<ListFilter, String> {
    let texts = [
        &p.user,
        &p.ticket,
        &p.requested_by,
        &p.requested_by_name,
        &p.tenant,
        &p.agent,
        &p.approver,
    ];
    for ((name, max), value) in TEXT_LIMITS.iter().zip(texts) {
        if value.as_ref().is_some_and(|v| v.chars().count() > *max) {
            return Err(format!("{name}: at most {max} characters"));
        }
    }
    let limit = p.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(format!("limit: between 1 and {MAX_LIMIT}"));
    }
    if let Some(s) = p.status.as_deref().filter(|s| Status::parse(s).is_none()) {
        let known: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        return Err(format!("status: {s:?} is not one of {}", known.join(", ")));
    }
    let time = |v: Option<String>, name: &str| {
        v.map(|t| {
            normalise_timestamp(&t)
                .ok_or_else(|| format!("{name}: {t:?} is not an RFC 3339 timestamp"))
        })
        .transpose()
    };
    if let Some(c) = p
        .cursor
        .as_deref()
        .filter(|c| uuid::Uuid::try_parse(c).is_err())
    {
        return Err(format!(
            "cursor: {c:?} is not a cursor from a previous page"
        ));
    }
    Ok(ListFilter {
        user: p.user,
        status: p.status,
        ticket: p.ticket,
        requested_by: p.requested_by,
        requested_by_name: p.requested_by_name,
        requester_subject: None,
        requester_issuer: None,
        since: time(p.since, "since")?,
        until: time(p.until, "until")?,
        before_id: p.cursor,
        tenant: p.tenant,
        agent: p.agent,
        approver: p.approver,
        visible: None,
        limit,
    })
}
