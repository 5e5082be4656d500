//! The `Caller` extractor: the validated token (see [`crate::auth`]) plus the
//! permissions the policy's grants give it. Handlers ask for a permission
//! with [`Caller::require`].

use std::collections::BTreeSet;

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::request::Parts;

use axum::http::HeaderName;

use super::limits::state_header;
use super::problem::Problem;
use super::{AppState, request_id};
use crate::auth::{AuthError, Identity};
use crate::policy::Permission;
use crate::problem::ProblemType;

/// The authenticated caller of a request.
pub struct Caller {
    pub identity: Identity,
    pub permissions: BTreeSet<Permission>,
}

impl Caller {
    pub fn has(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    /// 403 unless the caller holds `p`.
    pub fn require(&self, p: Permission) -> Result<(), Problem> {
        match self.has(p) {
            true => Ok(()),
            false => Err(forbidden(p, &self.permissions)),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Problem> {
        if let Some(SignedIn(identity)) = parts.extensions.get::<SignedIn>().cloned() {
            return Caller::admit(state, identity);
        }
        let identity = state
            .auth
            .verify_header(parts.headers.get(AUTHORIZATION))
            .await
            .map_err(|e| {
                tracing::info!(reason = %e, "unauthenticated request");
                unauthenticated(&e)
            })?;
        Caller::admit(state, identity)
    }
}

/// A person signed in to the console, as the API verified their access
/// token at sign-in. Only the console's in-process calls carry it: request
/// extensions never come from the wire, so no client can claim one.
#[derive(Clone)]
pub(super) struct SignedIn(pub Identity);

impl Caller {
    /// An authenticated identity (a token, or a webhook source's signature)
    /// through the rate limit, with the permissions the policy grants it.
    pub(super) fn admit(state: &AppState, identity: Identity) -> Result<Caller, Problem> {
        rate_limit(state, &identity)?;
        let permissions = state.resets.policy().permissions(&identity.policy_caller());
        tracing::Span::current().record("caller", identity.subject.as_str());
        Ok(Caller {
            identity,
            permissions,
        })
    }
}

/// One token from the caller's bucket; the `RateLimit` fields go on the answer.
fn rate_limit(state: &AppState, identity: &Identity) -> Result<(), Problem> {
    let key = format!("{}\n{}", identity.issuer, identity.subject);
    let policy = state.limiter.policy_header();
    request_id::add_header(HeaderName::from_static("ratelimit-policy"), policy);
    match state.limiter.check(&key, std::time::Instant::now()) {
        Ok(q) => {
            request_id::add_header(
                HeaderName::from_static("ratelimit"),
                &state_header(q.remaining, q.reset_secs),
            );
            Ok(())
        }
        Err(wait) => {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            request_id::add_header(HeaderName::from_static("ratelimit"), &state_header(0, secs));
            tracing::info!(caller = %identity.subject, retry_after = secs, "rate limited");
            crate::metrics::rate_limited();
            Err(Problem::new(
                ProblemType::RateLimited,
                format!("Too many requests from this caller; try again in {secs} s."),
            )
            .header(RETRY_AFTER, &secs.to_string()))
        }
    }
}

fn forbidden(p: Permission, held: &BTreeSet<Permission>) -> Problem {
    let held: Vec<_> = held.iter().map(|h| h.as_str()).collect();
    let held = match held.is_empty() {
        true => "none".to_owned(),
        false => held.join(", "),
    };
    Problem::new(
        ProblemType::PermissionDenied,
        format!(
            "This needs the {} permission; your token's permissions are: {held}. \
             Permissions come from the [[grant]] tables of the policy.",
            p.as_str()
        ),
    )
    .with("required_permission", p.as_str())
}

/// 401 with the RFC 6750 challenge (503 when the issuer's keys cannot be
/// fetched: the token may be fine). The detail never echoes the token.
pub(super) fn unauthenticated(e: &AuthError) -> Problem {
    if let AuthError::KeysUnavailable(_) = e {
        return Problem::new(
            ProblemType::AuthUnavailable,
            "The token issuer's signing keys could not be fetched; try again shortly.",
        )
        .header(RETRY_AFTER, "10");
    }
    let challenge = match e {
        AuthError::Missing => r#"Bearer realm="guest-reset""#,
        _ => r#"Bearer realm="guest-reset", error="invalid_token""#,
    };
    let detail = match e {
        AuthError::Missing => "Send an access token: Authorization: Bearer <token>.".to_owned(),
        other => format!("The access token was refused: {other}."),
    };
    Problem::new(ProblemType::Unauthenticated, detail).header(WWW_AUTHENTICATE, challenge)
}
