//! `GET /v1.0/users/{id | userPrincipalName}` and `GET /v1.0/users?$filter=…`, with
//! Graph's default property set, `$select` projection, `$expand=sponsors` and
//! `@odata.context`.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Map, Value};

use super::Emulator;
use super::bearer::{Caller, READ_USERS};
use super::directory_object::{Readable, project};
use super::envelope::graph_json;
use super::errors::GraphError;
use super::filter;
use super::query::{ODataQuery, collection, context, next_link};
use super::schema;
use super::sponsors;
use super::state::State as Directory;

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
    let read = Read {
        query: &query,
        selected: selected.as_deref(),
        readable: Readable::of(&caller),
    };
    body.extend(read.render(&state, user)?);
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
    let read = Read {
        query: &query,
        selected: selected.as_deref(),
        readable: Readable::of(&caller),
    };
    let matching = {
        let state = emulator.lock();
        let keep = |user: &&Map<String, Value>| {
            clauses.as_deref().is_none_or(|c| filter::matches(c, user))
        };
        let found = state.users.iter().filter(keep);
        let rendered = found.map(|user| read.render(&state, user).map(Value::Object));
        rendered.collect::<Result<Vec<Value>, GraphError>>()?
    };
    let (page, next) = query.page(matching)?;
    let context = context("users", selected.as_deref(), false);
    let link = next.map(|offset| next_link(&headers, &uri, offset));
    Ok(graph_json(StatusCode::OK, collection(context, page, link)))
}

/// What a user read asks for.
struct Read<'a> {
    query: &'a ODataQuery,
    selected: Option<&'a [&'static str]>,
    readable: Readable,
}

impl Read<'_> {
    /// The projected user, with its sponsors when `$expand` asks for them.
    fn render(
        &self,
        state: &Directory,
        user: &Map<String, Value>,
    ) -> Result<Map<String, Value>, GraphError> {
        let mut body = project(user, self.selected);
        let expand = self.query.expand.as_deref();
        if let Some(found) = sponsors::expanded(state, user, expand, self.readable)? {
            body.insert("sponsors".to_owned(), found);
        }
        Ok(body)
    }
}

pub(super) fn require(caller: &Caller, permissions: &[&str]) -> Result<(), GraphError> {
    caller.require(permissions)
}
