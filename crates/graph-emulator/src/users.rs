//! `GET /v1.0/users/{id | userPrincipalName}` and `GET /v1.0/users?$filter=…&$search=…`,
//! with Graph's default property set, `$select` projection, `$expand=sponsors`,
//! `@odata.context`, and on the collection the advanced queries of `advanced_query.rs`
//! (`$search`, see `search.rs`, is one of them).

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Map, Value};

use super::bearer::{Caller, READ_USERS};
use super::directory_object::{Readable, project};
use super::envelope::graph_json;
use super::errors::GraphError;
use super::filter;
use super::query::{ODataQuery, collection, context, next_link};
use super::schema;
use super::search::{self, Search};
use super::sponsors;
use super::state::State as Directory;
use super::{Emulator, advanced_query};

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
    let search = query.search.as_deref().map(search::parse).transpose()?;
    let counted = advanced_query::check(&query, &headers, clauses.as_deref(), search.is_some())?;
    let read = Read {
        query: &query,
        selected: selected.as_deref(),
        readable: Readable::of(&caller),
    };
    let matching = read.matching(&emulator, clauses.as_deref(), search.as_ref())?;
    let total = matching.len();
    let (page, next) = query.page(matching)?;
    let context = context("users", selected.as_deref(), false);
    let link = next.map(|offset| next_link(&headers, &uri, offset));
    let mut body = collection(context, page, link);
    if counted {
        body["@odata.count"] = Value::from(total);
    }
    Ok(graph_json(StatusCode::OK, body))
}

/// What a user read asks for.
struct Read<'a> {
    query: &'a ODataQuery,
    selected: Option<&'a [&'static str]>,
    readable: Readable,
}

impl Read<'_> {
    /// Every user the filter and the search keep, projected: "a logical conjunction (an
    /// "AND") of the `$filter` and the entire query in the `$search`"
    /// (search-query-parameter.md).
    fn matching(
        &self,
        emulator: &Emulator,
        clauses: Option<&[filter::Clause]>,
        search: Option<&Search>,
    ) -> Result<Vec<Value>, GraphError> {
        let state = emulator.lock();
        let keep = |user: &&Map<String, Value>| {
            clauses.is_none_or(|c| filter::matches(c, user))
                && search.is_none_or(|s| s.matches(user))
        };
        let found = state.users.iter().filter(keep);
        let rendered = found.map(|user| self.render(&state, user).map(Value::Object));
        rendered.collect()
    }

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
