//! Bearer JWT authentication. The algorithm is pinned by configuration (never
//! read from the token), `exp`, `iss`, `aud` and `sub` are required, `nbf` is
//! checked, and `typ` other than JWT / at+jwt is refused (RFC 8725 §3.11).

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::AppState;
use super::problem::Problem;
use crate::config::AuthConfig;
use crate::problem::ProblemType;
use crate::record::Requester;

/// A longer `Authorization` header is refused before any parsing.
const MAX_HEADER: usize = 8 * 1024;

/// Why a request is not authenticated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("the Authorization header is not a bearer token")]
    Malformed,
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// Validates inbound tokens.
pub struct Authenticator {
    key: DecodingKey,
    validation: Validation,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    appid: Option<String>,
}

impl Authenticator {
    pub fn hs256(config: &AuthConfig) -> Authenticator {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = config.leeway_secs;
        Authenticator {
            key: DecodingKey::from_secret(config.hs256_secret.expose_secret().as_bytes()),
            validation,
        }
    }

    /// The caller a token identifies, or why it does not.
    pub fn verify(&self, token: &str) -> Result<Requester, AuthError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        if let Some(typ) = header.typ.as_deref()
            && !typ.eq_ignore_ascii_case("JWT")
            && !typ.eq_ignore_ascii_case("at+jwt")
        {
            return Err(AuthError::Invalid(format!(
                "typ {typ:?} is not an access token"
            )));
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        let c = data.claims;
        Ok(Requester {
            subject: c.sub,
            app: c.azp.or(c.appid),
            name: c.name.or(c.preferred_username),
        })
    }

    /// Extract and verify the bearer token of a request.
    pub fn authenticate(&self, parts: &Parts) -> Result<Requester, AuthError> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Err(AuthError::Missing);
        };
        if value.len() > MAX_HEADER {
            return Err(AuthError::Malformed);
        }
        let value = value.to_str().map_err(|_| AuthError::Malformed)?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(AuthError::Malformed);
        }
        self.verify(token.trim())
    }
}

/// The authenticated caller of a request.
pub struct Caller(pub Requester);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Problem> {
        state.auth.authenticate(parts).map(Caller).map_err(|e| {
            tracing::info!(reason = %e, "unauthenticated request");
            unauthenticated(&e)
        })
    }
}

/// 401 with the RFC 6750 challenge; the detail says what to fix without
/// echoing the token.
fn unauthenticated(e: &AuthError) -> Problem {
    let challenge = match e {
        AuthError::Missing => r#"Bearer realm="guest-reset""#.to_owned(),
        _ => r#"Bearer realm="guest-reset", error="invalid_token""#.to_owned(),
    };
    let detail = match e {
        AuthError::Missing => "Send an access token: Authorization: Bearer <token>.".to_owned(),
        other => format!("The access token was refused: {other}."),
    };
    Problem::new(ProblemType::Unauthenticated, detail).header(WWW_AUTHENTICATE, &challenge)
}
