//! Signing in with OpenID Connect: the authorization code flow with PKCE
//! (RFC 7636, S256) against the configured issuer, `state` and `nonce`
//! checked, the code exchanged from the server with the console's secret.
//! The access token is verified as any API caller's; the ID token by its
//! signature, audience and nonce. Then a session, and the token is dropped.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::html::{self, esc};
use super::posted::Posted;
use super::session::{self, LOGIN_COOKIE, SESSION_COOKIE, Session};
use super::{Console, console_of};
use crate::http::AppState;
use crate::store::SessionKind;

/// A sign-in has this long to come back from the identity provider.
const LOGIN_SECS: i64 = 600;

/// What the console keeps while the person is at the identity provider.
#[derive(Serialize, Deserialize)]
struct Login {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
}

#[derive(Deserialize)]
pub(super) struct Next {
    next: Option<String>,
}

/// Only a console path: an open redirect would hand a signed-in person to
/// anyone's page.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console/") && !n.contains("//") && !n.contains('\\') => {
            n.to_owned()
        }
        _ => "/console/".to_owned(),
    }
}

#[instrument(skip_all)]
pub(super) async fn login_page(Query(next): Query<Next>) -> Response {
    let href = format!(
        "/console/auth/start?next={}",
        html::url_part(&safe_next(next.next.as_deref()))
    );
    let body = format!(
        "<p>The guest-reset console acts as you: your roles and the policy decide what you may do, \
         and the audit log names you.</p><p><a class=\"button\" href=\"{}\">Sign in with Microsoft Entra ID</a></p>",
        esc(&href)
    );
    html::page(None, "Sign in", &body)
}

/// Off to the identity provider, with state, nonce and a PKCE challenge.
#[instrument(skip_all)]
pub(super) async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(next): Query<Next>,
) -> Response {
    let console = match console_of(&state) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let endpoints = match console.endpoints().await {
        Ok(e) => e,
        Err(why) => return unavailable(&why),
    };
    let login = Login {
        state: session::random_token(),
        nonce: session::random_token(),
        verifier: session::random_token(),
        next: safe_next(next.next.as_deref()),
    };
    let id = session::random_token();
    let data = serde_json::to_string(&login).unwrap_or_default();
    let expires = crate::reset::sign_ins::unix_now() + LOGIN_SECS;
    let key = session::digest_hex(&id);
    let saved = state
        .resets
        .save_sign_in(&key, SessionKind::Login, &data, expires);
    if let Err(e) = saved.await {
        return unavailable(&e.to_string());
    }
    let url = authorize_url(&console, endpoints.authorization, &headers, &login);
    let mut response = html::see_other(url.as_str());
    let cookie = session::set_cookie(
        LOGIN_COOKIE,
        &id,
        "/console/auth",
        LOGIN_SECS,
        console.secure(&headers),
    );
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// The authorization request: a code, with PKCE (S256), for the ID
/// token and the API's delegated scope.
fn authorize_url(
    console: &Console,
    mut url: reqwest::Url,
    headers: &HeaderMap,
    login: &Login,
) -> reqwest::Url {
    url.query_pairs_mut()
        .append_pair("client_id", &console.config.client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", &console.redirect_uri(headers))
        .append_pair("response_mode", "query")
        .append_pair("scope", &format!("openid profile {}", console.config.scope))
        .append_pair("state", &login.state)
        .append_pair("nonce", &login.nonce)
        .append_pair("code_challenge", &challenge(&login.verifier))
        .append_pair("code_challenge_method", "S256");
    url
}

/// BASE64URL(SHA-256(verifier)), RFC 7636 §4.2.
fn challenge(verifier: &str) -> String {
    use base64::Engine as _;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

#[derive(Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Back from the identity provider: check the sign-in, exchange the code,
/// verify both tokens, open a session.
#[instrument(skip_all)]
pub(super) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(back): Query<Callback>,
) -> Response {
    let console = match console_of(&state) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let login = match pending_login(&state, &headers).await {
        Ok(login) => login,
        Err(response) => return response,
    };
    let state_ok = back.state.as_deref().is_some_and(|s| {
        aws_lc_rs::constant_time::verify_slices_are_equal(s.as_bytes(), login.state.as_bytes())
            .is_ok()
    });
    if !state_ok {
        return refused(
            "The sign-in answer does not belong to a sign-in started here. Sign in again.",
        );
    }
    if let Some(error) = back.error.as_deref() {
        tracing::info!(error, "the identity provider refused the sign-in");
        let why = back.error_description.as_deref().unwrap_or(error);
        return refused(&format!("The identity provider refused the sign-in: {why}"));
    }
    let Some(code) = back.code.as_deref() else {
        return refused("The sign-in answer has no code. Sign in again.");
    };
    match console
        .redeem(&state, &headers, code, &login.verifier, &login.nonce)
        .await
    {
        Ok(identity) => open_session(&state, &console, &headers, identity, &login.next).await,
        Err(why) => {
            tracing::warn!(reason = %why, "console sign-in failed");
            refused(&format!("The sign-in could not be completed: {why}"))
        }
    }
}

/// The sign-in this browser started, once.
async fn pending_login(state: &AppState, headers: &HeaderMap) -> Result<Login, Response> {
    let Some(id) = session::cookie(headers, LOGIN_COOKIE) else {
        return Err(refused(
            "This browser has no sign-in under way (it expired, or was finished already). Sign in again.",
        ));
    };
    match state.resets.take_sign_in(&session::digest_hex(&id)).await {
        Ok(Some(data)) => serde_json::from_str(&data)
            .map_err(|_| refused("The sign-in could not be read. Sign in again.")),
        Ok(None) => Err(refused(
            "This sign-in expired or was used already. Sign in again.",
        )),
        Err(e) => Err(unavailable(&e.to_string())),
    }
}

async fn open_session(
    state: &AppState,
    console: &Console,
    headers: &HeaderMap,
    identity: crate::auth::Identity,
    next: &str,
) -> Response {
    let hours = i64::try_from(console.config.session_hours).unwrap_or(8);
    let expires_at = crate::reset::sign_ins::unix_now() + hours * 3600;
    tracing::info!(subject = %identity.subject, "signed in to the console");
    let session = Session {
        identity,
        csrf: session::random_token(),
    };
    let id = session::random_token();
    let data = serde_json::to_string(&session).unwrap_or_default();
    let key = session::digest_hex(&id);
    let saved = state
        .resets
        .save_sign_in(&key, SessionKind::Session, &data, expires_at);
    if let Err(e) = saved.await {
        return unavailable(&e.to_string());
    }
    let secure = console.secure(headers);
    let mut response = html::see_other(next);
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        session::set_cookie(SESSION_COOKIE, &id, "/console", hours * 3600, secure),
    );
    cookies.append(
        header::SET_COOKIE,
        session::set_cookie(LOGIN_COOKIE, "", "/console/auth", 0, secure),
    );
    response
}

/// The sign-out form has no field but its CSRF token.
#[derive(Deserialize)]
pub(super) struct SignOut {}

/// Sign out: the session ends on every replica and the cookie goes.
#[instrument(skip_all)]
pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Posted { person, .. }: Posted<SignOut>,
) -> Response {
    let console = match console_of(&state) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(e) = state.resets.end_session(&person.id_hash).await {
        return unavailable(&e.to_string());
    }
    let mut response = html::see_other("/console/login");
    let gone = session::set_cookie(SESSION_COOKIE, "", "/console", 0, console.secure(&headers));
    response.headers_mut().append(header::SET_COOKIE, gone);
    response
}

fn refused(why: &str) -> Response {
    let body = format!(
        "{}<p><a href=\"/console/login\">Sign in again</a></p>",
        html::notice("error", why)
    );
    html::with_status(
        StatusCode::BAD_REQUEST,
        html::page(None, "Sign-in failed", &body),
    )
}

pub(super) fn unavailable(why: &str) -> Response {
    tracing::error!(reason = why, "console unavailable");
    let body = html::notice(
        "error",
        "The console cannot reach what it needs right now; try again shortly.",
    );
    html::with_status(
        StatusCode::SERVICE_UNAVAILABLE,
        html::page(None, "Unavailable", &body),
    )
}
