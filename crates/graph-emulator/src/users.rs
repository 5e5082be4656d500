//! `GET /v1.0/users/{id | userPrincipalName}` and `GET /v1.0/users?$filter=…`, with
//! Graph's default property set, `$select` projection and `@odata.context`.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Map, Value};

use super::Emulator;
use super::bearer::{Caller, READ_USERS};
use super::envelope::graph_json;
use super::errors::GraphError;
use super::filter;
use super::query::{ODataQuery, collection, context, next_link};
use super::schema::{self, USER_DEFAULT_PROPERTIES};

const USER_TYPE: &str = "microsoft.graph.user";

/// GET one user. The key arrives percent-decoded by the router, so a guest UPN sent as
/// `…%23EXT%23@…` is looked up with its `#EXT#`.
pub(super) async fn get_user(
    State(emulator): State<Emulator>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, GraphError> {
    require(&caller, READ_USERS)?;
    let query = ODataQuery::parse(raw.as_deref());
    let selected = query.selected(schema::user_property, USER_TYPE)?;
    let state = emulator.lock();
    let user = state
        .user(&key)
        .ok_or_else(|| GraphError::resource_not_found(&key))?;
    let mut body = Map::new();
    let context = context("users", selected.as_deref(), true);
    body.insert("@odata.context".to_owned(), Value::String(context));
    body.extend(project(user, selected.as_deref()));
    Ok(graph_json(StatusCode::OK, Value::Object(body)))
}

/// GET the user collection, optionally filtered; paged like any directory collection.
pub(super) async fn list_users(
    State(emulator): State<Emulator>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, GraphError> {
    require(&caller, READ_USERS)?;
    let query = ODataQuery::parse(raw.as_deref());
    let selected = query.selected(schema::user_property, USER_TYPE)?;
    let clauses = query.filter.as_deref().map(filter::parse).transpose()?;
    let matching: Vec<Value> = {
        let state = emulator.lock();
        let keep = |user: &&Map<String, Value>| {
            clauses.as_deref().is_none_or(|c| filter::matches(c, user))
        };
        let found = state.users.iter().filter(keep);
        found
            .map(|user| Value::Object(project(user, selected.as_deref())))
            .collect()
    };
    let (page, next) = query.page(matching)?;
    let context = context("users", selected.as_deref(), false);
    let link = next.map(|offset| next_link(&headers, &uri, offset));
    Ok(graph_json(StatusCode::OK, collection(context, page, link)))
}

/// The user as Graph renders it: the default set without `$select`, otherwise exactly the
/// selected properties. Absent values render as `null`, absent collections as `[]`.
pub(super) fn project(user: &Map<String, Value>, selected: Option<&[&str]>) -> Map<String, Value> {
    let names = selected.unwrap_or(USER_DEFAULT_PROPERTIES);
    names
        .iter()
        .map(|name| {
            let value = user
                .get(*name)
                .cloned()
                .unwrap_or_else(|| empty_value(name));
            ((*name).to_owned(), value)
        })
        .collect()
}

fn empty_value(name: &str) -> Value {
    if schema::is_user_collection(name) {
        Value::Array(Vec::new())
    } else {
        Value::Null
    }
}

pub(super) fn require(caller: &Caller, permissions: &[&str]) -> Result<(), GraphError> {
    if caller.may(permissions) {
        Ok(())
    } else {
        Err(GraphError::insufficient_privileges())
    }
}
