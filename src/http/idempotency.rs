//! `Idempotency-Key` on `POST /v1/resets` (draft-ietf-httpapi-idempotency-key-header):
//! the same key and body replay the first answer (success or error); the
//! same key with another body is a 422; the same key still in flight is a
//! 409; a malformed key is a 400. Keys are scoped to the caller (issuer and
//! subject), so one caller can never replay another's answer.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::problem::Problem;
use crate::auth::Identity;
use crate::problem::ProblemType;
use crate::record::{ResetRecord, format_timestamp};
use crate::store::{KeyClaim, KeyState, StoredAnswer};

pub const ROUTE: &str = "POST /v1/resets";
const HEADER: &str = "idempotency-key";
const MAX_KEY: usize = 255;
/// A replayed answer says so, so a client can tell a replay from a first run.
const REPLAYED: &str = "idempotent-replayed";
/// The headers of the first answer a replay repeats (others, such as
/// `RateLimit`, describe the replay itself).
const REPEATED: [HeaderName; 3] = [
    header::LOCATION,
    header::RETRY_AFTER,
    HeaderName::from_static("preference-applied"),
];

/// The key, if the request has one. The draft makes it a Structured Field
/// String (`"..."`); a bare token (what Stripe-style clients send) is accepted too.
pub fn parse(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let mut values = headers.get_all(HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = |why: &str| {
        Problem::new(
            ProblemType::InvalidIdempotencyKey,
            format!(
                "Idempotency-Key {why}; send one quoted string of 1 to {MAX_KEY} printable characters, e.g. a UUID: Idempotency-Key: \"8e03978e-40d5-43e8-bc93-6894a57f9324\"."
            ),
        )
    };
    if values.next().is_some() {
        return Err(invalid("is repeated"));
    }
    let raw = value.to_str().map_err(|_| invalid("is not ASCII"))?.trim();
    let key = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) if !inner.contains(['"', '\\']) => inner,
        Some(_) => return Err(invalid("has escapes")),
        None if raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:~".contains(c)) =>
        {
            raw
        }
        None => return Err(invalid("is neither a quoted string nor a token")),
    };
    if key.is_empty() || key.len() > MAX_KEY || key.chars().any(|c| !(' '..='~').contains(&c)) {
        return Err(invalid("is empty, too long or has control characters"));
    }
    Ok(Some(key.to_owned()))
}

/// The claim for `key`: this caller, this route, this body.
pub fn claim(caller: &Identity, key: String, body: &[u8], retention: Duration) -> KeyClaim {
    let now = time::OffsetDateTime::now_utc();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
    KeyClaim {
        principal: format!("{}\n{}", caller.issuer, caller.subject),
        route: ROUTE.to_owned(),
        key,
        fingerprint: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
        created_at: format_timestamp(now),
        expires_at: format_timestamp(now + retention),
    }
}

/// What to do before handling: go ahead, or answer from the store.
pub enum Gate {
    Proceed,
    Answer(Response),
}

pub async fn check(state: &AppState, claim: &KeyClaim) -> Gate {
    let found = match state.resets.idempotency_lookup(claim).await {
        Ok(found) => found,
        Err(e) => {
            return Gate::Answer(
                Problem::from(&crate::reset::ResetError::Store(e)).into_response(),
            );
        }
    };
    match found {
        KeyState::Absent => Gate::Proceed,
        KeyState::InProgress { fingerprint, .. } | KeyState::Done { fingerprint, .. }
            if fingerprint != claim.fingerprint =>
        {
            Gate::Answer(reused())
        }
        KeyState::Done {
            answer, reset_id, ..
        } => Gate::Answer(replay(answer, &reset_id)),
        KeyState::InProgress { reset_id, .. } => Gate::Answer(unfinished(state, &reset_id).await),
    }
}

fn reused() -> Response {
    Problem::new(
        ProblemType::IdempotencyKeyReused,
        "This Idempotency-Key was used with a different request body; use a new key for a new request.",
    )
    .into_response()
}

fn in_flight() -> Response {
    Problem::new(
        ProblemType::IdempotencyKeyInFlight,
        "A request with this Idempotency-Key is still being processed; retry later with the same key.",
    )
    .header(header::RETRY_AFTER, "1")
    .into_response()
}

/// A claimed key without a stored answer: the first request is still open
/// (pending, queued, running), or the process stopped before storing the
/// answer; then the reset's record, once finished (by reconciliation), is
/// the answer.
async fn unfinished(state: &AppState, reset_id: &str) -> Response {
    match state.resets.get(reset_id).await {
        Ok(Some(record)) if !record.status.is_open() => from_record(&record),
        _ => in_flight(),
    }
}

fn from_record(record: &ResetRecord) -> Response {
    let Some(p) = &record.problem else {
        let status = if record.dry_run {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        let location = [(header::LOCATION, location(&record.id))];
        return replayed((status, location, axum::Json(record)).into_response());
    };
    let kind = ProblemType::ALL
        .iter()
        .copied()
        .find(|k| k.uri() == p.kind)
        .unwrap_or(ProblemType::Internal);
    replayed(
        Problem::new(kind, p.detail.clone())
            .with("reset_id", record.id.clone())
            .into_response(),
    )
}

fn location(reset_id: &str) -> String {
    format!("/v1/resets/{reset_id}")
}

fn replay(answer: StoredAnswer, reset_id: &str) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&answer.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    for (name, value) in &answer.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            headers.insert(n, v);
        }
    }
    // An answer stored before its headers were kept: every success had a Location.
    if answer.headers.is_empty()
        && status.is_success()
        && let Ok(v) = HeaderValue::from_str(&location(reset_id))
    {
        headers.insert(header::LOCATION, v);
    }
    replayed(response)
}

fn replayed(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Store the answer for later replays (without the redeem URL: a credential
/// is shown once) and give it to the caller unchanged.
pub async fn remember(
    state: &AppState,
    claim: &KeyClaim,
    reset_id: &str,
    response: Response,
) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1024 * 1024).await else {
        return Problem::new(ProblemType::Internal, "The answer could not be buffered.")
            .into_response();
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let answer = StoredAnswer {
        status: parts.status.as_u16(),
        content_type: content_type.to_owned(),
        body: without_redeem_url(&bytes),
        headers: repeated_headers(&parts.headers),
    };
    if let Err(e) = state
        .resets
        .idempotency_complete(claim, reset_id, &answer)
        .await
    {
        // The claim stays in progress; a retry then answers from the reset record.
        tracing::error!(error = %e, "could not store the idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The headers of `REPEATED` the answer has, as (name, value).
fn repeated_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    let value = |name: &HeaderName| headers.get(name)?.to_str().ok().map(str::to_owned);
    REPEATED
        .iter()
        .filter_map(|name| Some((name.as_str().to_owned(), value(name)?)))
        .collect()
}

fn without_redeem_url(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut v) => {
            if let Some(obj) = v.as_object_mut() {
                obj.remove("invite_redeem_url");
            }
            v.to_string()
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}
