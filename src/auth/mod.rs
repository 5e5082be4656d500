//! Bearer-token validation (RFC 8725), independent of HTTP routing.
//!
//! A token is routed by its unverified `iss`: the HS256 issuer is verified
//! with the shared secret and HS256 only; an accepted OIDC issuer with the
//! pinned asymmetric algorithms and a key from its JWKS, found by `kid`/`x5t`.
//! Neither route ever takes an algorithm or a key from the token itself
//! (`alg` is only checked against the pin; `jku`, `x5u`, `jwk`, `x5c` are ignored).

mod cache;
mod fetch;
mod keys;
mod settings;
#[cfg(test)]
mod tests;
mod token;

use std::sync::Arc;

use axum::http::HeaderValue;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;

use cache::KeyCache;
use settings::AcceptedIssuer;
pub use settings::{AuthSettings, Hs256Settings, OidcSettings};
use token::{Claims, Unverified};

/// A longer `Authorization` header is refused before any parsing.
pub const MAX_HEADER: usize = 8 * 1024;

/// Who a valid token identifies.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    /// `oid`
    pub object_id: Option<String>,
    /// `tid`
    pub tenant_id: Option<String>,
    /// `azp` (v2) or `appid` (v1)
    pub app_id: Option<String>,
    /// `name`, else `preferred_username`, else `upn`
    pub name: Option<String>,
    /// `preferred_username`, else `upn`: the sign-in name, which an app's
    /// `on_behalf_of` may use to name this person.
    #[serde(default)]
    pub username: Option<String>,
    /// `roles` (app roles)
    pub roles: Vec<String>,
    /// `scp` split on spaces (delegated scopes)
    pub scopes: Vec<String>,
    /// `groups`, when the token carries it
    pub groups: Vec<String>,
}

impl Identity {
    /// The identity in the form the policy matches on (grants, rule callers).
    pub fn policy_caller(&self) -> crate::policy::Caller<'_> {
        crate::policy::Caller {
            issuer: &self.issuer,
            subject: &self.subject,
            object_id: self.object_id.as_deref(),
            app_id: self.app_id.as_deref(),
            roles: &self.roles,
            scopes: &self.scopes,
            groups: &self.groups,
        }
    }
}

/// Why a token or header is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("the Authorization header is not a single bearer token")]
    Malformed,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("the issuer's signing keys are unavailable: {0}")]
    KeysUnavailable(String),
}

/// Validates bearer tokens against the configured issuers.
pub struct Verifier {
    hs256: Option<Hs256Route>,
    oidc: Option<OidcRoute>,
    audiences: Vec<String>,
    leeway_secs: u64,
}

struct Hs256Route {
    issuer: String,
    key: DecodingKey,
}

struct OidcRoute {
    issuers: Vec<AcceptedIssuer>,
    tenant_ids: Vec<String>,
    algorithms: Vec<Algorithm>,
    keys: Arc<KeyCache>,
}

enum Route<'a> {
    Hs256(&'a Hs256Route),
    Oidc(&'a OidcRoute, &'a AcceptedIssuer),
}

impl Verifier {
    /// No I/O here: keys are fetched lazily on first use.
    pub fn new(settings: AuthSettings, http: reqwest::Client) -> Verifier {
        if settings.audiences.is_empty() {
            tracing::warn!("no accepted audiences: every token will be refused");
        }
        let hs256 = settings.hs256.map(|h| Hs256Route {
            key: DecodingKey::from_secret(h.secret.expose_secret().as_bytes()),
            issuer: h.issuer,
        });
        let oidc = settings.oidc.map(|o| {
            let issuers = o.accepted_issuers();
            let algorithms = o.asymmetric_algorithms();
            let source = o.key_source(&issuers);
            OidcRoute {
                keys: Arc::new(KeyCache::new(
                    http,
                    source,
                    algorithms.clone(),
                    o.refresh_interval,
                )),
                issuers,
                tenant_ids: o.tenant_ids,
                algorithms,
            }
        });
        Verifier {
            hs256,
            oidc,
            audiences: settings.audiences,
            leeway_secs: settings.leeway_secs,
        }
    }

    /// Validate a bare compact JWT.
    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let unverified = Unverified::parse(token)?;
        match self.route(&unverified.issuer)? {
            Route::Hs256(route) => self.verify_hs256(route, token, &unverified),
            Route::Oidc(route, issuer) => self.verify_oidc(route, issuer, token, &unverified).await,
        }
    }

    /// Validate the value of an Authorization header (None = missing). Size cap 8 KiB,
    /// scheme "Bearer" case-insensitive, exactly one token.
    pub async fn verify_header(&self, header: Option<&HeaderValue>) -> Result<Identity, AuthError> {
        let value = header.ok_or(AuthError::Missing)?;
        if value.len() > MAX_HEADER {
            return Err(AuthError::Malformed);
        }
        let value = value.to_str().map_err(|_| AuthError::Malformed)?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::Malformed)?;
        let token = token.trim_matches(' ');
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains([' ', '\t'])
        {
            return Err(AuthError::Malformed);
        }
        self.verify(token).await
    }

    /// How many key-set fetches (discovery + JWKS counts as one) have been made; for tests and metrics.
    pub fn key_fetches(&self) -> u64 {
        self.oidc.as_ref().map_or(0, |o| o.keys.fetches())
    }

    /// Fetch the key set now (used by readiness); Ok(number of usable keys).
    /// Rate-limited like an unknown `kid`: within `refresh_interval` of the
    /// last fetch it reports the cached set instead. Ok(0) without OIDC.
    pub async fn refresh_keys(&self) -> Result<usize, AuthError> {
        match &self.oidc {
            Some(oidc) => oidc.keys.refresh().await,
            None => Ok(0),
        }
    }

    /// The HS256 issuer wins a tie: an equal OIDC issuer is a configuration
    /// mistake, and HS256-only is the narrower choice.
    fn route(&self, iss: &str) -> Result<Route<'_>, AuthError> {
        if let Some(hs256) = &self.hs256
            && hs256.issuer == iss
        {
            return Ok(Route::Hs256(hs256));
        }
        if let Some(oidc) = &self.oidc
            && let Some(accepted) = oidc.issuers.iter().find(|a| a.iss == iss)
        {
            return Ok(Route::Oidc(oidc, accepted));
        }
        Err(AuthError::Invalid("issuer not trusted".to_owned()))
    }

    fn verify_hs256(
        &self,
        route: &Hs256Route,
        token: &str,
        unverified: &Unverified,
    ) -> Result<Identity, AuthError> {
        pinned(unverified.header.alg, &[Algorithm::HS256])?;
        let validation = self.validation(unverified.header.alg, &route.issuer);
        let data = jsonwebtoken::decode::<Claims>(token, &route.key, &validation)
            .map_err(|e| token::refusal(&e))?;
        data.claims.into_identity()
    }

    async fn verify_oidc(
        &self,
        route: &OidcRoute,
        issuer: &AcceptedIssuer,
        token: &str,
        unverified: &Unverified,
    ) -> Result<Identity, AuthError> {
        let alg = unverified.header.alg;
        pinned(alg, &route.algorithms)?;
        let wanted = unverified.key_ref()?;
        let set = route.keys.containing(&wanted).await?;
        let key = set.find(&wanted, alg)?;
        let validation = self.validation(alg, &issuer.iss);
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|e| token::refusal(&e))?;
        data.claims
            .check_tenant(&route.tenant_ids, issuer.tenant.as_deref())?;
        data.claims.into_identity()
    }

    /// `alg` has already been checked against the pin, so the single-algorithm
    /// list only repeats that choice; it never widens it.
    fn validation(&self, alg: Algorithm, issuer: &str) -> Validation {
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&self.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway_secs;
        validation
    }
}

fn pinned(alg: Algorithm, allowed: &[Algorithm]) -> Result<(), AuthError> {
    if allowed.contains(&alg) {
        Ok(())
    } else {
        Err(AuthError::Invalid(format!(
            "algorithm {alg:?} not allowed for this issuer"
        )))
    }
}

/// Names what is configured, never the HS256 secret.
impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issuers: Vec<&str> = self
            .oidc
            .iter()
            .flat_map(|o| o.issuers.iter().map(|a| a.iss.as_str()))
            .collect();
        f.debug_struct("Verifier")
            .field(
                "hs256_issuer",
                &self.hs256.as_ref().map(|h| h.issuer.as_str()),
            )
            .field("oidc_issuers", &issuers)
            .field(
                "key_source",
                &self.oidc.as_ref().and_then(|o| o.keys.source()),
            )
            .field("audiences", &self.audiences)
            .field("leeway_secs", &self.leeway_secs)
            .finish()
    }
}
