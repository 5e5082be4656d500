//! App-only access tokens from the Microsoft identity platform (client
//! credentials with a client secret or a certificate-signed client
//! assertion), cached until shortly before expiry.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tracing::instrument;

use super::GraphError;
use super::assertion::{AssertionAlg, Signer};

/// Renew this long before the token expires, so a token never dies in flight.
const RENEW_MARGIN: Duration = Duration::from_secs(300);

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What the token endpoint needs to know about us.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub authority_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub secret: ClientCredential,
    /// `{graph root}/.default`: the scope must name the Graph resource the
    /// client talks to (national clouds have their own).
    pub scope: String,
}

/// How the app proves who it is (graph.md §6.1, §6.4).
#[derive(Debug, Clone)]
pub enum ClientCredential {
    ClientSecret(SecretString),
    /// A certificate registered on the app; its private key signs a short
    /// client assertion per token request.
    Certificate {
        private_key_pem: SecretString,
        /// The certificate, DER: only its hash is sent (`x5t#S256`/`x5t`).
        certificate_der: Vec<u8>,
        algorithm: AssertionAlg,
    },
}

/// The proof sent with each token request, prepared once.
enum Proof {
    Secret(SecretString),
    Assertion(Box<Signer>),
}

struct Cached {
    token: SecretString,
    renew_at: Instant,
}

/// Fetches and caches one token; concurrent callers wait for one refresh.
pub struct TokenSource {
    credentials: Credentials,
    proof: Proof,
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
    /// Fails when a certificate's private key cannot be used.
    /// Whose tokens these are (tenant, client id); never the secret's value.
    pub(super) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn new(credentials: Credentials) -> Result<TokenSource, GraphError> {
        let proof = match &credentials.secret {
            ClientCredential::ClientSecret(s) => Proof::Secret(s.clone()),
            ClientCredential::Certificate {
                private_key_pem,
                certificate_der,
                algorithm,
            } => Proof::Assertion(Box::new(Signer::new(
                private_key_pem,
                certificate_der,
                *algorithm,
            )?)),
        };
        Ok(TokenSource {
            credentials,
            proof,
            cached: Mutex::new(None),
        })
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
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", c.client_id.as_str()),
            ("scope", c.scope.as_str()),
        ];
        let assertion;
        match &self.proof {
            Proof::Secret(secret) => form.push(("client_secret", secret.expose_secret())),
            Proof::Assertion(signer) => {
                assertion = signer.sign(&url, &c.client_id)?;
                form.push(("client_assertion_type", JWT_BEARER));
                form.push(("client_assertion", assertion.expose_secret()));
            }
        }
        let started = Instant::now();
        // Whatever fails here, the Graph request itself was never sent.
        let response = http.post(&url).form(&form).send().await.map_err(not_sent)?;
        let status = response.status();
        let body = response.bytes().await.map_err(not_sent)?;
        if !status.is_success() {
            return Err(refused(status, &body));
        }
        // A token failure, not `Decode`: Graph itself was never called.
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| GraphError::Token {
                status: status.as_u16(),
                error: format!("unreadable token response: {e}"),
                codes: Vec::new(),
            })?;
        let lifetime = Duration::from_secs(parsed.expires_in);
        // Short-lived tokens (tests, some clouds) renew at half-life instead.
        let margin = RENEW_MARGIN.min(lifetime / 2);
        Ok(Cached {
            token: parsed.access_token,
            renew_at: started + lifetime - margin,
        })
    }
}

fn not_sent(e: reqwest::Error) -> GraphError {
    GraphError::Transport {
        message: format!("token endpoint: {}", e.without_url()),
        maybe_sent: false,
    }
}

fn refused(status: reqwest::StatusCode, body: &[u8]) -> GraphError {
    let err: TokenErrorBody = serde_json::from_slice(body).unwrap_or_default();
    tracing::warn!(%status, error = %err.error, codes = ?err.error_codes, "token request refused");
    GraphError::Token {
        status: status.as_u16(),
        error: err.error,
        codes: err.error_codes,
    }
}
