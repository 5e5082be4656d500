//! The console's side of OpenID Connect: the issuer's endpoints (from its
//! discovery document), the code exchange, and the checks on both tokens.

use axum::http::HeaderMap;
use reqwest::Url;
use serde::Deserialize;

use super::{Console, Endpoints};
use crate::auth::Identity;
use crate::http::AppState;

#[derive(Deserialize)]
struct Discovery {
    authorization_endpoint: String,
    token_endpoint: String,
}

impl Console {
    /// The authorize and token endpoints from the issuer's discovery
    /// document (read once; a failure is tried again next time).
    pub(super) async fn endpoints(&self) -> Result<Endpoints, String> {
        if let Some(known) = self.endpoints.read().await.clone() {
            return Ok(known);
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let found: Discovery = async {
            let response = self.http.get(&url).send().await?.error_for_status()?;
            response.json().await
        }
        .await
        .map_err(|e| format!("discovery document {url}: {e}"))?;
        let parse = |u: &str| Url::parse(u).map_err(|e| format!("discovery document {url}: {e}"));
        let endpoints = Endpoints {
            authorization: parse(&found.authorization_endpoint)?,
            token: parse(&found.token_endpoint)?,
        };
        *self.endpoints.write().await = Some(endpoints.clone());
        Ok(endpoints)
    }

    /// Exchange the code; the person is who the access token names, once
    /// the ID token (signature, audience, nonce) agrees.
    pub(super) async fn redeem(
        &self,
        state: &AppState,
        headers: &HeaderMap,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<Identity, String> {
        let tokens = self.exchange(headers, code, verifier).await?;
        let id = (self.id_tokens.verify(&tokens.id_token).await)
            .map_err(|e| format!("the ID token is not valid: {e}"))?;
        if claim(&tokens.id_token, "nonce").as_deref() != Some(nonce) {
            return Err("the ID token's nonce is not this sign-in's".into());
        }
        let person = (state.auth.verify(&tokens.access_token).await)
            .map_err(|e| format!("the access token is not valid for this API: {e}"))?;
        match (&person.object_id, &id.object_id) {
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => Ok(person),
            _ => {
                Err("the access token and the ID token name different people, or no person".into())
            }
        }
    }

    async fn exchange(
        &self,
        headers: &HeaderMap,
        code: &str,
        verifier: &str,
    ) -> Result<Tokens, String> {
        let endpoints = self.endpoints().await?;
        let secret = secrecy::ExposeSecret::expose_secret(&self.config.client_secret);
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", secret),
            ("code", code),
            ("redirect_uri", &self.redirect_uri(headers)),
            ("code_verifier", verifier),
        ];
        let response = (self.http.post(endpoints.token).form(&form).send().await).map_err(|e| {
            format!(
                "the token endpoint could not be reached: {}",
                e.without_url()
            )
        })?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            let why = body["error_description"]
                .as_str()
                .or(body["error"].as_str())
                .unwrap_or("no reason given");
            return Err(format!(
                "the token endpoint answered {status}: {}",
                why.lines().next().unwrap_or(why)
            ));
        }
        serde_json::from_value(body)
            .map_err(|_| "the token endpoint's answer has no access_token and id_token".into())
    }
}

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    id_token: String,
}

/// A string claim of a JWT whose signature was already checked.
fn claim(jwt: &str, name: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value[name].as_str().map(str::to_owned)
}
