//! `GET /v1.0/users/{id | userPrincipalName}/sponsors` (user-list-sponsors.md): the users
//! and groups responsible for a guest, and `$expand=sponsors` on user reads.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{Map, Value};

use super::Emulator;
use super::bearer::{Caller, READ_SPONSORS};
use super::directory_object::{Readable, Rendering};
use super::envelope::graph_json;
use super::errors::GraphError;
use super::query::{ODataQuery, collection, context, next_link};
use super::schema;
use super::state::{State as Directory, text};

const PATH: &str = "/v1.0/users/{id}/sponsors";
const DIRECTORY_OBJECT: &str = "microsoft.graph.directoryObject";
/// An expanded relationship of a directory object holds at most 20 objects
/// (user-list-directreports.md: "`$expand` returns a maximum of 20 objects").
const EXPAND_LIMIT: usize = 20;

pub(super) fn routes() -> Router<Emulator> {
    Router::new().route(PATH, get(list_sponsors))
}

/// The page documents `$select` and `$expand` only. `$top` and `@odata.nextLink` paging
/// follow the other directoryObject relationships (100 by default, 999 at most), which
/// Microsoft's own Get-EntraUserSponsor relies on (`$top` up to 999, then nextLink):
/// UNVERIFIED for `/sponsors` itself.
async fn list_sponsors(
    State(emulator): State<Emulator>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, GraphError> {
    caller.require(READ_SPONSORS)?;
    let query = ODataQuery::parse(raw.as_deref());
    let selected = query.selected(schema::directory_object_property, DIRECTORY_OBJECT)?;
    query.refuse_filter()?;
    let rendering = Rendering {
        selected: selected.as_deref(),
        readable: Readable::of(&caller),
        typed: true,
    };
    let items: Vec<Value> = {
        let state = emulator.lock();
        let user = (state.user(&key)).ok_or_else(|| GraphError::resource_not_found(&key))?;
        let sponsors = state.sponsors_of(text(user, "id").unwrap_or(&key));
        sponsors.into_iter().map(|s| rendering.render(s)).collect()
    };
    let (page, next) = query.page(items)?;
    let context = context("directoryObjects", selected.as_deref(), false);
    let link = next.map(|offset| next_link(&headers, &uri, offset));
    Ok(graph_json(StatusCode::OK, collection(context, page, link)))
}

/// The `sponsors` a user read embeds for `$expand=sponsors` or, as the page shows,
/// `$expand=sponsors($select=id,displayName)`. None when `$expand` names no sponsors: the
/// other relationships are not modelled and stay ignored.
pub(super) fn expanded(
    state: &Directory,
    user: &Map<String, Value>,
    expand: Option<&str>,
    readable: Readable,
) -> Result<Option<Value>, GraphError> {
    let Some(options) = expand.and_then(sponsors_options) else {
        return Ok(None);
    };
    // Options inside the parentheses are separated by ';' (OData), not '&'.
    let nested = ODataQuery::parse(Some(&options.replace(';', "&")));
    let selected = nested.selected(schema::directory_object_property, DIRECTORY_OBJECT)?;
    let rendering = Rendering {
        selected: selected.as_deref(),
        readable,
        typed: true,
    };
    let sponsors = state.sponsors_of(text(user, "id").unwrap_or_default());
    let items = sponsors.into_iter().take(EXPAND_LIMIT);
    Ok(Some(items.map(|s| rendering.render(s)).collect()))
}

/// The options of the `sponsors` item of an `$expand` list ("" when it has none).
fn sponsors_options(expand: &str) -> Option<&str> {
    let mut depth = 0_i32;
    let top_level_comma = move |c: char| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        c == ',' && depth == 0
    };
    expand.split(top_level_comma).find_map(|item| {
        let item = item.trim();
        let (name, options) = item.split_once('(').unwrap_or((item, ""));
        let options = options.strip_suffix(')').unwrap_or(options);
        name.trim()
            .eq_ignore_ascii_case("sponsors")
            .then_some(options)
    })
}

#[cfg(test)]
mod tests {
    use super::sponsors_options;

    #[test]
    fn the_sponsors_item_and_its_options_are_found() {
        assert_eq!(sponsors_options("sponsors"), Some(""));
        let nested = "manager($select=id),Sponsors($select=id,displayName)";
        assert_eq!(sponsors_options(nested), Some("$select=id,displayName"));
        assert_eq!(sponsors_options("memberOf($select=id,displayName)"), None);
    }
}
