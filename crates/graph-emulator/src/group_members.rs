//! `GET /v1.0/groups/{id}/transitiveMembers[/microsoft.graph.user | /microsoft.graph.group]`
//! (group-list-transitivemembers.md): a group's members, nested groups expanded into one
//! flat list, e.g. the people behind a group that sponsors a guest.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::Value;

use super::Emulator;
use super::bearer::{Caller, READ_GROUP_MEMBERS};
use super::directory_object::{DirectoryObject, Readable, Rendering};
use super::envelope::{graph_json, unknown_segment};
use super::errors::GraphError;
use super::query::{ODataQuery, collection, context, next_link};
use super::schema;

/// The docs' own cast example spells the segment `transitivemembers`; Graph matches
/// segments case-insensitively, so both spellings are served.
const PATHS: [&str; 2] = [
    "/v1.0/groups/{id}/transitiveMembers",
    "/v1.0/groups/{id}/transitivemembers",
];
const CAST_PATHS: [&str; 2] = [
    "/v1.0/groups/{id}/transitiveMembers/{cast}",
    "/v1.0/groups/{id}/transitivemembers/{cast}",
];

pub(super) fn routes() -> Router<Emulator> {
    let router = PATHS.into_iter().fold(Router::new(), |router, path| {
        router.route(path, get(list_members))
    });
    CAST_PATHS.into_iter().fold(router, |router, path| {
        router.route(path, get(list_cast_members))
    })
}

/// Checks a `$select` name and gives its canonical spelling.
type Canonical = fn(&str) -> Option<&'static str>;

/// An OData cast keeping one type of member.
#[derive(Clone, Copy, PartialEq)]
enum Cast {
    None,
    Users,
    Groups,
    /// A member type groups can hold that the emulator never seeds (device, orgContact,
    /// servicePrincipal): a valid cast with nothing in it.
    Unseeded,
}

impl Cast {
    /// The docs: a cast to a type that cannot be a member is 400 Request_UnsupportedQuery.
    async fn parse(segment: &str, uri: Uri) -> Result<Cast, GraphError> {
        let Some(name) = segment.strip_prefix("microsoft.graph.") else {
            return Err(unknown_segment(uri).await);
        };
        match name {
            "user" => Ok(Cast::Users),
            "group" => Ok(Cast::Groups),
            "device" | "orgContact" | "servicePrincipal" => Ok(Cast::Unseeded),
            _ => Err(GraphError::unsupported_query()),
        }
    }

    fn keeps(self, object: DirectoryObject<'_>) -> bool {
        matches!(
            (self, object),
            (Cast::None, _)
                | (Cast::Users, DirectoryObject::User(_))
                | (Cast::Groups, DirectoryObject::Group(_))
        )
    }

    /// The entity set `@odata.context` names, and the `$select` names it accepts.
    fn schema(self) -> (&'static str, &'static str, Canonical) {
        match self {
            Cast::Users => ("users", "microsoft.graph.user", schema::user_cast_property),
            Cast::Groups => (
                "groups",
                "microsoft.graph.group",
                schema::group_cast_property,
            ),
            Cast::None | Cast::Unseeded => (
                "directoryObjects",
                "microsoft.graph.directoryObject",
                schema::directory_object_property,
            ),
        }
    }
}

/// The request, as both handlers take it.
struct Listing {
    caller: Caller,
    key: String,
    raw: Option<String>,
    headers: HeaderMap,
    uri: Uri,
}

async fn list_members(
    State(emulator): State<Emulator>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, GraphError> {
    let listing = Listing {
        caller,
        key,
        raw,
        headers,
        uri,
    };
    respond(&emulator, &listing, Cast::None)
}

async fn list_cast_members(
    State(emulator): State<Emulator>,
    Extension(caller): Extension<Caller>,
    Path((key, cast)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, GraphError> {
    caller.require(READ_GROUP_MEMBERS)?;
    let cast = Cast::parse(&cast, uri.clone()).await?;
    let listing = Listing {
        caller,
        key,
        raw,
        headers,
        uri,
    };
    respond(&emulator, &listing, cast)
}

/// Default page 100, `$top` up to 999, then `@odata.nextLink` (the 2024 page's "default
/// and maximum page size"). `$count`, `$search` and `ConsistencyLevel` are not modelled.
fn respond(emulator: &Emulator, listing: &Listing, cast: Cast) -> Result<Response, GraphError> {
    listing.caller.require(READ_GROUP_MEMBERS)?;
    let query = ODataQuery::parse(listing.raw.as_deref());
    let (entity_set, type_name, canonical) = cast.schema();
    let selected = query.selected(canonical, type_name)?;
    query.refuse_filter()?;
    let rendering = Rendering {
        selected: selected.as_deref(),
        readable: Readable::of(&listing.caller),
        typed: cast == Cast::None,
    };
    let items: Vec<Value> = {
        let state = emulator.lock();
        let key = &listing.key;
        let group = state
            .group(key)
            .ok_or_else(|| GraphError::resource_not_found(key))?;
        let members = state.transitive_members(group).into_iter();
        let kept = members.filter(|m| cast.keeps(*m));
        kept.map(|m| rendering.render(m)).collect()
    };
    let (page, next) = query.page(items)?;
    let context = context(entity_set, selected.as_deref(), false);
    let link = next.map(|offset| next_link(&listing.headers, &listing.uri, offset));
    Ok(graph_json(StatusCode::OK, collection(context, page, link)))
}
