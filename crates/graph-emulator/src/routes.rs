//! The emulator's routing table: the Graph routes behind their layers (envelope, fault
//! injection and service limits, bearer validation), the authority (token and
//! authorization endpoints, OpenID Connect metadata), and the control surface. `$batch` items run through [`batch_items`], which holds the Graph
//! routes only, so no item URL can reach the authority or `/_emulator/…`.

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{MethodRouter, get, post};

use super::faults::{BATCH_PATH, INVITATIONS_PATH, MEMBER_OF_CAST_PATH, MEMBER_OF_PATH};
use super::faults::{TOKEN_PATH, USER_PATH, USERS_PATH};
use super::{Emulator, authorize, bearer, control, envelope, faults, group_members};
use super::{invitations, membership, oidc, recording, sponsors, token, user_update, users};

/// Everything the emulator serves, behind the request log; `batch` answers `$batch`
/// (handed in, since the batch handler itself runs items through [`batch_items`]).
pub(super) fn all(emulator: &Emulator, batch: MethodRouter<Emulator>) -> Router {
    let inject = from_fn_with_state(emulator.clone(), faults::inject);
    let authority = Router::new()
        .route(TOKEN_PATH, post(token::issue_token).route_layer(inject))
        .route(
            authorize::PATH,
            get(authorize::show).post(authorize::sign_in),
        )
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(oidc::openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(oidc::keys));
    graph(emulator, Some(batch))
        .merge(authority)
        .merge(control::router())
        .layer(from_fn_with_state(emulator.clone(), recording::record))
        .with_state(emulator.clone())
}

/// The Graph routes a `$batch` item may reach (no nested `$batch`), behind the request
/// log: each item is recorded, limited and faulted as a request of its own.
pub(super) fn batch_items(emulator: &Emulator) -> Router {
    graph(emulator, None)
        .layer(from_fn_with_state(emulator.clone(), recording::record))
        .with_state(emulator.clone())
}

/// Graph routes behind the envelope, fault injection and bearer validation; with
/// `$batch` or without it.
fn graph(emulator: &Emulator, batch: Option<MethodRouter<Emulator>>) -> Router<Emulator> {
    let mut graph = Router::new()
        .route(USERS_PATH, get(users::list_users))
        .route(
            USER_PATH,
            get(users::get_user).patch(user_update::patch_user),
        )
        .route(MEMBER_OF_PATH, get(membership::list_memberships))
        .route(MEMBER_OF_CAST_PATH, get(membership::list_cast_memberships))
        .merge(sponsors::routes())
        .merge(group_members::routes())
        .route(
            INVITATIONS_PATH,
            post(invitations::create_invitation).get(invitations::list_invitations),
        );
    if let Some(batch) = batch {
        graph = graph.route(BATCH_PATH, batch);
    }
    graph
        .method_not_allowed_fallback(envelope::method_not_allowed)
        .route_layer(from_fn_with_state(emulator.clone(), bearer::authenticate))
        .route_layer(from_fn_with_state(emulator.clone(), faults::inject))
        .fallback(envelope::unknown_segment)
        .layer(from_fn(envelope::graph_envelope))
}
