//! Who is signed in: the session cookie (random, `HttpOnly`, `SameSite=Lax`,
//! `Secure` except on loopback), the session kept in the store under the
//! cookie's SHA-256, and the CSRF check every state-changing form passes.

use std::collections::BTreeSet;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::html::{self, Frame};
use crate::auth::Identity;
use crate::http::AppState;
use crate::policy::Permission;

pub(super) const SESSION_COOKIE: &str = "gr_session";
pub(super) const LOGIN_COOKIE: &str = "gr_login";

/// What a session row holds (its expiry is the row's own). No token: the
/// identity as the API verified the person's access token at sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Session {
    pub identity: Identity,
    pub csrf: String,
}

/// A signed-in person, with what the policy grants them now.
pub(super) struct Person {
    pub id_hash: String,
    pub session: Session,
    pub permissions: BTreeSet<Permission>,
}

impl Person {
    pub(super) fn name(&self) -> &str {
        let identity = &self.session.identity;
        (identity.name.as_deref())
            .or(identity.username.as_deref())
            .unwrap_or(&identity.subject)
    }

    pub(super) fn frame(&self) -> Frame<'_> {
        Frame {
            name: self.name(),
            permissions: &self.permissions,
            csrf: &self.session.csrf,
        }
    }

    /// A page saying why something was not done, with `status`.
    pub(super) fn refused(&self, status: StatusCode, title: &str, why: &str) -> Response {
        let page = html::page(Some(&self.frame()), title, &html::notice("error", why));
        html::with_status(status, page)
    }

    pub(super) fn has(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    /// The form's CSRF token matches the session's (and a browser's
    /// `Origin`, when sent, is this console's own).
    pub(super) fn check_csrf(
        &self,
        headers: &HeaderMap,
        token: Option<&str>,
        origin: &str,
    ) -> Result<(), Response> {
        let given = token.unwrap_or_default().as_bytes();
        let same =
            aws_lc_rs::constant_time::verify_slices_are_equal(given, self.session.csrf.as_bytes());
        let origin_ok = match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            Some(sent) => sent == origin,
            None => true,
        };
        match same.is_ok() && origin_ok {
            true => Ok(()),
            false => {
                tracing::warn!(subject = %self.session.identity.subject, "console form without a valid CSRF token refused");
                let body = html::notice(
                    "error",
                    "This form has expired or did not come from the console. Go back, reload the page and try again.",
                );
                Err(html::with_status(
                    StatusCode::FORBIDDEN,
                    html::page(Some(&self.frame()), "Refused", &body),
                ))
            }
        }
    }
}

impl FromRequestParts<AppState> for Person {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Person, Response> {
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/console/");
            html::see_other(&format!("/console/login?next={}", html::url_part(next)))
        };
        let Some(cookie) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let id_hash = digest_hex(&cookie);
        let stored = match state.resets.session(&id_hash).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::error!(error = %e, "console session could not be read");
                let body = html::notice(
                    "error",
                    "The service cannot read sessions right now; try again shortly.",
                );
                return Err(html::with_status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    html::page(None, "Unavailable", &body),
                ));
            }
        };
        let Some(session) = stored.and_then(|s| serde_json::from_str::<Session>(&s).ok()) else {
            return Err(to_login());
        };
        let permissions = state
            .resets
            .policy()
            .permissions(&session.identity.policy_caller());
        Ok(Person {
            id_hash,
            session,
            permissions,
        })
    }
}

/// The value of cookie `name`, if the request has it.
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let all = headers.get_all(header::COOKIE).into_iter();
    let pairs = all
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'));
    pairs
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// 32 random bytes, base64url: session ids, CSRF tokens, state, nonce,
/// PKCE verifiers.
pub(super) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The system RNG failing leaves zeroes; that cannot happen on a running
    // Linux, and aws-lc aborts itself if its RNG is broken.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256: how a cookie's value is looked up without being stored.
pub(super) fn digest_hex(text: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// `Set-Cookie` for `name`; `max_age` 0 removes it.
pub(super) fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
    secure: bool,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text =
        format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// `http://` + the Host the browser used.
pub(super) fn own_origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if is_loopback(host) { "http" } else { "https" };
    format!("{scheme}://{host}")
}

/// A loopback host (`localhost`, `127.0.0.1`, `[::1]`, any port): the one
/// place the console runs without TLS, so cookies there lack `Secure`.
pub(super) fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.split(':').next().unwrap_or(host),
    };
    name.eq_ignore_ascii_case("localhost") || name == "::1" || name.starts_with("127.")
}
