//! App-only access tokens from the Microsoft identity platform (client
//! credentials with a client secret), cached until shortly before expiry.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tracing::instrument;

use super::GraphError;

/// Renew this long before the token expires, so a token never dies in flight.
const RENEW_MARGIN: Duration = Duration::from_secs(300);

/// What the token endpoint needs to know about us.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub authority_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// `{graph root}/.default`: the scope must name the Graph resource the
    /// client talks to (national clouds have their own).
    pub scope: String,
}

struct Cached {
    token: SecretString,
    renew_at: Instant,
}

/// Fetches and caches one token; concurrent callers wait for one refresh.
pub struct TokenSource {
    credentials: Credentials,
    cached: Mutex<Option<Cached>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: SecretString,
    expires_in: u64,
}

/// The documented error body of the token endpoint (RFC 6749 §5.2 + AAD).
#[derive(Deserialize, Default)]
struct TokenErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_codes: Vec<u64>,
}

impl TokenSource {
    pub fn new(credentials: Credentials) -> TokenSource {
        TokenSource {
            credentials,
            cached: Mutex::new(None),
        }
    }

    /// A valid token, from the cache when it is fresh enough.
    pub async fn token(&self, http: &reqwest::Client) -> Result<SecretString, GraphError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| Instant::now() < c.renew_at) {
            return Ok(c.token.clone());
        }
        let fresh = self.fetch(http).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Drop the cached token (after Graph said it is no longer valid).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    #[instrument(skip_all, fields(tenant = %self.credentials.tenant_id))]
    async fn fetch(&self, http: &reqwest::Client) -> Result<Cached, GraphError> {
        let c = &self.credentials;
        let url = format!("{}/{}/oauth2/v2.0/token", c.authority_url, c.tenant_id);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.expose_secret()),
            ("scope", c.scope.as_str()),
        ];
        let started = Instant::now();
        let response = http
            .post(url)
            .form(&form)
            .send()
            .await
            .map_err(GraphError::transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(GraphError::transport)?;
        if !status.is_success() {
            let err: TokenErrorBody = serde_json::from_slice(&body).unwrap_or_default();
            tracing::warn!(%status, error = %err.error, codes = ?err.error_codes, "token request refused");
            return Err(GraphError::Token {
                status: status.as_u16(),
                error: err.error,
                codes: err.error_codes,
            });
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| GraphError::Decode(format!("token response: {e}")))?;
        let lifetime = Duration::from_secs(parsed.expires_in);
        // Short-lived tokens (tests, some clouds) renew at half-life instead.
        let margin = RENEW_MARGIN.min(lifetime / 2);
        Ok(Cached {
            token: parsed.access_token,
            renew_at: started + lifetime - margin,
        })
    }
}
