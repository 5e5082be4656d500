//! `/_emulator/…`: a small, unauthenticated control surface for tests and operators. It
//! is not part of Graph; it exposes what the in-process API exposes.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::Emulator;

pub(super) fn router() -> Router<Emulator> {
    Router::new()
        .route("/_emulator/requests", get(requests))
        .route("/_emulator/users/{id}", get(user))
        .route("/_emulator/outbox", get(outbox))
        .route("/_emulator/keys/rotate", post(rotate_keys))
}

#[derive(Deserialize)]
struct RotateQuery {
    #[serde(default)]
    drop_old: bool,
}

/// `POST /_emulator/keys/rotate[?drop_old=true]`: a new key signs from now on.
async fn rotate_keys(
    State(emulator): State<Emulator>,
    Query(query): Query<RotateQuery>,
) -> Response {
    match emulator.rotate_signing_key(!query.drop_old) {
        Ok(kid) => Json(json!({ "kid": kid })).into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": error.to_string() })),
        )
            .into_response(),
    }
}

async fn requests(State(emulator): State<Emulator>) -> Response {
    Json(emulator.requests()).into_response()
}

async fn user(State(emulator): State<Emulator>, Path(id): Path<String>) -> Response {
    match emulator.user(&id) {
        Some(user) => Json(user).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no user '{id}'") })),
        )
            .into_response(),
    }
}

async fn outbox(State(emulator): State<Emulator>) -> Response {
    Json(emulator.outbox()).into_response()
}
