//! `GET /v1/guests` and `GET /v1/guests/{id}`: find a guest by name or
//! address, and see one with its sponsors, roles, what the caller's rules
//! say about it and its recent resets. The lookup the `user-ambiguous`
//! problem points to.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
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
use crate::record::ResetRecord;
use crate::reset::ResetError;
use crate::reset::guests::GuestDetail;
use crate::store::ListFilter;

/// How many of a guest's resets its page shows (newest first).
const RECENT_RESETS: u32 = 10;
/// The longest search text (a name or an address).
const SEARCH_MAX: usize = 120;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    search: Option<String>,
    tenant: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestParams {
    tenant: Option<String>,
}

#[derive(Serialize)]
struct GuestPage<'a> {
    #[serde(flatten)]
    guest: &'a GuestDetail,
    recent_resets: Vec<ResetView<'a>>,
}

#[instrument(skip_all, fields(caller = %caller.identity.subject))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Response {
    if let Err(p) = caller.require(Permission::GuestsRead) {
        return p.into_response();
    }
    let (text, tenant) = match params.map_err(|e| e.body_text()).and_then(search_text) {
        Ok(found) => found,
        Err(detail) => return Problem::new(ProblemType::InvalidRequest, detail).into_response(),
    };
    let found = state
        .resets
        .find_guests(&caller.identity, tenant.as_deref(), &text);
    match found.await {
        Ok(list) => Json(list).into_response(),
        Err(e) => Problem::from(&e).into_response(),
    }
}

fn search_text(Query(p): Query<SearchParams>) -> Result<(String, Option<String>), String> {
    let text = p.search.as_deref().map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err("search: a name or an address to look for is required".into());
    }
    if text.chars().count() > SEARCH_MAX {
        return Err(format!("search: at most {SEARCH_MAX} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("search: control characters are not allowed".into());
    }
    Ok((text.to_owned(), p.tenant))
}

#[instrument(skip_all, fields(caller = %caller.identity.subject, guest = %id))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Result<Query<GuestParams>, QueryRejection>,
) -> Response {
    if let Err(p) = caller.require(Permission::GuestsRead) {
        return p.into_response();
    }
    let tenant = match params {
        Ok(Query(p)) => p.tenant,
        Err(e) => return Problem::new(ProblemType::InvalidRequest, e.body_text()).into_response(),
    };
    if uuid::Uuid::try_parse(&id).is_err() {
        let detail = "id: a guest's object id (a GUID); find it with GET /v1/guests?search=";
        return Problem::new(ProblemType::InvalidRequest, detail).into_response();
    }
    let guest = match state
        .resets
        .guest(&caller.identity, tenant.as_deref(), &id)
        .await
    {
        Ok(Some(guest)) => guest,
        Ok(None) => {
            let detail = "No guest with this object id in the tenant.";
            return Problem::new(ProblemType::NotFound, detail).into_response();
        }
        Err(e) => return Problem::from(&e).into_response(),
    };
    let records = match recent_resets(&state, &caller, &guest).await {
        Ok(records) => records,
        Err(e) => return Problem::from(&ResetError::Store(e)).into_response(),
    };
    let recent_resets = records.iter().map(ResetView::of);
    Json(GuestPage {
        guest: &guest,
        recent_resets: recent_resets.collect(),
    })
    .into_response()
}

/// The guest's resets the caller may read; none without a read permission.
async fn recent_resets(
    state: &AppState,
    caller: &Caller,
    guest: &GuestDetail,
) -> Result<Vec<ResetRecord>, crate::store::StoreError> {
    if require_read(caller).is_err() {
        return Ok(Vec::new());
    }
    let filter = ListFilter {
        user: Some(guest.summary.id.clone()),
        tenant: Some(guest.tenant.clone()),
        visible: ReadScope::of(state, caller).visible(caller),
        limit: RECENT_RESETS,
        ..ListFilter::default()
    };
    state.resets.list(&filter).await
}
