//! `GET /v1.0/users/{id}/transitiveMemberOf[/microsoft.graph.group|directoryRole]`: the
//! groups and directory roles a user belongs to, directly or through nested groups. The
//! service relies on it to refuse guests holding any directory role.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::Emulator;
use super::bearer::{Caller, READ_MEMBERSHIP};
use super::directory_object::group_json;
use super::envelope::graph_json;
use super::errors::GraphError;
use super::query::{ODataQuery, collection, context, next_link};
use super::schema;
use super::state::Membership;
use super::users::require;

/// An OData type cast on the collection, keeping only one kind of object.
#[derive(Clone, Copy, PartialEq)]
enum Cast {
    None,
    Groups,
    Roles,
}

pub(super) async fn list_memberships(
    State(emulator): State<Emulator>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, GraphError> {
    respond(
        &emulator,
        &caller,
        &key,
        Cast::None,
        raw.as_deref(),
        &headers,
        &uri,
    )
}

pub(super) async fn list_cast_memberships(
    State(emulator): State<Emulator>,
    Extension(caller): Extension<Caller>,
    Path((key, cast)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, GraphError> {
    let cast = match cast.as_str() {
        "microsoft.graph.group" => Cast::Groups,
        "microsoft.graph.directoryRole" => Cast::Roles,
        _ => return Err(super::envelope::unknown_segment(uri).await),
    };
    respond(
        &emulator,
        &caller,
        &key,
        cast,
        raw.as_deref(),
        &headers,
        &uri,
    )
}

fn respond(
    emulator: &Emulator,
    caller: &Caller,
    key: &str,
    cast: Cast,
    raw: Option<&str>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Response, GraphError> {
    require(caller, READ_MEMBERSHIP)?;
    let query = ODataQuery::parse(raw);
    let selected = query.selected(
        schema::membership_property,
        "microsoft.graph.directoryObject",
    )?;
    let items = memberships_of(emulator, key, cast, selected.as_deref())?;
    let (page, next) = query.page(items)?;
    let entity_set = match cast {
        Cast::None => "directoryObjects",
        Cast::Groups => "groups",
        Cast::Roles => "directoryRoles",
    };
    let context = context(entity_set, selected.as_deref(), false);
    let link = next.map(|offset| next_link(headers, uri, offset));
    Ok(graph_json(StatusCode::OK, collection(context, page, link)))
}

/// The user's transitive memberships of the wanted kind, rendered.
fn memberships_of(
    emulator: &Emulator,
    key: &str,
    cast: Cast,
    selected: Option<&[&str]>,
) -> Result<Vec<Value>, GraphError> {
    let state = emulator.lock();
    let user = state
        .user(key)
        .ok_or_else(|| GraphError::resource_not_found(key))?;
    let id = user
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or(key)
        .to_owned();
    let memberships = state.transitive_memberships(&id);
    let wanted = memberships.iter().filter(|m| match m {
        Membership::Group(_) => cast != Cast::Roles,
        Membership::Role(_) => cast != Cast::Groups,
    });
    Ok(wanted.map(|m| Value::Object(render(m, selected))).collect())
}

/// One item, always with `@odata.type` (a mixed collection needs it to be decoded), then
/// either all modelled properties or only the selected ones that apply to its type.
fn render(membership: &Membership<'_>, selected: Option<&[&str]>) -> Map<String, Value> {
    let full = match membership {
        Membership::Group(group) => {
            let mut full = group_json(group);
            let odata_type = Value::from("#microsoft.graph.group");
            full.insert("@odata.type".to_owned(), odata_type);
            Value::Object(full)
        }
        Membership::Role(role) => json!({
            "@odata.type": "#microsoft.graph.directoryRole",
            "id": role.id,
            "deletedDateTime": null,
            "description": null,
            "displayName": role.display_name,
            "roleTemplateId": role.role_template_id,
        }),
    };
    let Value::Object(full) = full else {
        return Map::new();
    };
    match selected {
        None => full,
        Some(names) => full
            .into_iter()
            .filter(|(k, _)| k == "@odata.type" || names.contains(&k.as_str()))
            .collect(),
    }
}
