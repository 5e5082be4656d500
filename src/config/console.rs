//! The operator console's sign-in (`GUEST_RESET_CONSOLE_*`, docs/console.md):
//! an OpenID Connect web app registered with the identity provider that
//! already issues the API's tokens. Without a client id there is no console.

use secrecy::SecretString;

use super::Env;
use crate::auth::AuthSettings;

/// How the console signs people in.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// The console's app registration (its `client_id`).
    pub client_id: String,
    pub client_secret: SecretString,
    /// The issuer whose discovery document names the authorize and token
    /// endpoints (Entra: `https://login.microsoftonline.com/{tenant}/v2.0`).
    pub issuer: String,
    /// The API's delegated scope the console asks for; the access token it
    /// gets is verified as any caller's, so the person's roles apply.
    pub scope: String,
    /// The console's public origin; the redirect URI is
    /// `{public_url}/console/auth/callback`. `None`: the request's own
    /// origin (fine on loopback; set it behind a proxy).
    pub public_url: Option<String>,
    /// How long a sign-in lasts before the person signs in again.
    pub session_hours: u64,
}

impl Env<'_> {
    pub(super) fn console(&mut self, auth: &AuthSettings) -> Option<ConsoleConfig> {
        let client_id = self.get("CONSOLE_CLIENT_ID")?;
        let client_secret = self.secret("CONSOLE_CLIENT_SECRET", 1);
        let issuer = match self.get("CONSOLE_ISSUER") {
            Some(_) => self.url("CONSOLE_ISSUER", None),
            None => self.default_issuer(auth),
        };
        Some(ConsoleConfig {
            client_id: client_id.trim().to_owned(),
            client_secret,
            issuer,
            scope: self.required("CONSOLE_SCOPE"),
            public_url: self
                .get("CONSOLE_URL")
                .map(|_| self.url("CONSOLE_URL", None)),
            session_hours: (self.parsed("CONSOLE_SESSION_HOURS", Some("8")))
                .unwrap_or(8u64)
                .clamp(1, 24),
        })
    }

    /// The first issuer the API trusts that names one tenant.
    fn default_issuer(&mut self, auth: &AuthSettings) -> String {
        let issuers = auth.oidc.iter().flat_map(|o| o.issuers.iter());
        let found = issuers.into_iter().find(|i| !i.contains('{'));
        found.cloned().unwrap_or_else(|| {
            let why = "is required with GUEST_RESET_CONSOLE_CLIENT_ID when GUEST_RESET_AUTH_ISSUER names no single-tenant issuer";
            self.issue("CONSOLE_ISSUER", why);
            String::new()
        })
    }
}
