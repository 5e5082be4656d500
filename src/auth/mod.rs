//! Placeholder for the token verifier (HS256 only); replaced by the OIDC/JWKS
//! verifier on the `auth` branch. Same public API.

use axum::http::HeaderValue;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub struct AuthSettings {
    pub oidc: Option<OidcSettings>,
    pub hs256: Option<Hs256Settings>,
    pub audiences: Vec<String>,
    pub leeway_secs: u64,
}

pub struct OidcSettings {
    pub issuers: Vec<String>,
    pub tenant_ids: Vec<String>,
    pub jwks_uri: Option<String>,
    pub discovery_url: Option<String>,
    pub algorithms: Vec<Algorithm>,
    pub refresh_interval: std::time::Duration,
}

pub struct Hs256Settings {
    pub issuer: String,
    pub secret: SecretString,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub object_id: Option<String>,
    pub tenant_id: Option<String>,
    pub app_id: Option<String>,
    pub name: Option<String>,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    pub groups: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("the Authorization header is not a bearer token")]
    Malformed,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("the issuer's signing keys are unavailable: {0}")]
    KeysUnavailable(String),
}

pub struct Verifier {
    settings: AuthSettings,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier")
    }
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    oid: Option<String>,
    tid: Option<String>,
    azp: Option<String>,
    appid: Option<String>,
    name: Option<String>,
    preferred_username: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    scp: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
}

impl Verifier {
    pub fn new(settings: AuthSettings, _http: reqwest::Client) -> Verifier {
        Verifier { settings }
    }

    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let hs = self
            .settings
            .hs256
            .as_ref()
            .ok_or(AuthError::Invalid("no issuer".into()))?;
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[&hs.issuer]);
        v.set_audience(&self.settings.audiences);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.validate_nbf = true;
        v.leeway = self.settings.leeway_secs;
        let key = DecodingKey::from_secret(hs.secret.expose_secret().as_bytes());
        let c = jsonwebtoken::decode::<Claims>(token, &key, &v)
            .map_err(|e| AuthError::Invalid(e.to_string()))?
            .claims;
        Ok(Identity {
            issuer: c.iss,
            subject: c.sub,
            object_id: c.oid,
            tenant_id: c.tid,
            app_id: c.azp.or(c.appid),
            name: c.name.or(c.preferred_username),
            roles: c.roles,
            scopes: c
                .scp
                .map(|s| s.split(' ').map(str::to_owned).collect())
                .unwrap_or_default(),
            groups: c.groups,
        })
    }

    pub async fn verify_header(&self, header: Option<&HeaderValue>) -> Result<Identity, AuthError> {
        let value = header.ok_or(AuthError::Missing)?;
        if value.len() > 8192 {
            return Err(AuthError::Malformed);
        }
        let value = value.to_str().map_err(|_| AuthError::Malformed)?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(AuthError::Malformed);
        }
        self.verify(token.trim()).await
    }

    pub fn key_fetches(&self) -> u64 {
        0
    }

    pub async fn refresh_keys(&self) -> Result<usize, AuthError> {
        Ok(0)
    }
}
