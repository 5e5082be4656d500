//! The authority side of [`Emulator`]'s public API: the app roles apps hold, token
//! lifetimes, signing-key rotation, the issuer, and API tokens minted without HTTP.

use super::{Emulator, KeyError, api_token, oidc};

impl Emulator {
    /// Replaces the application permissions granted to an app; tokens issued afterwards
    /// carry them (tokens already issued keep theirs, as in Entra). Unknown apps are
    /// ignored.
    pub fn set_app_roles(&self, client_id: &str, roles: &[&str]) {
        match self.lock().app_mut(client_id) {
            Some(app) => app.roles = roles.iter().map(|r| (*r).to_owned()).collect(),
            None => tracing::warn!(client_id, "set_app_roles: no such app in the emulator"),
        }
    }

    /// Lifetime (`expires_in`, `exp`) of tokens issued from now on.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.lock().token_lifetime = secs;
    }

    /// Adds a new RSA key that signs API tokens from now on and returns its `kid`. The
    /// older keys stay published unless `keep_old` is false (Entra lists several keys
    /// during a rollover).
    pub fn rotate_signing_key(&self, keep_old: bool) -> Result<String, KeyError> {
        self.signing_keys().rotate(keep_old)
    }

    /// The `iss` of API tokens and the discovery `issuer` when the emulator is reached at
    /// `base` (e.g. `http://127.0.0.1:8081`): `{base}/{tenant id}/v2.0`.
    pub fn api_issuer(&self, base: &str) -> String {
        oidc::issuer(base.trim_end_matches('/'), &self.lock().tenant.id)
    }

    /// An API access token for `client_id`, as the token endpoint would issue it to a
    /// caller that reached the emulator at `base`, minted without HTTP or the client's
    /// secret (for the demo banner and tests). The audience is the tenant's first app
    /// that is an API. None for an unknown client, a seed without an API, a client the
    /// API refuses (AADSTS501051), or a signing failure.
    pub fn issue_api_token(&self, base: &str, client_id: &str) -> Option<String> {
        let directory = self.lock();
        let client = directory.app(client_id)?;
        let api = directory.apps.iter().find(|a| a.is_api())?;
        let origin = base.trim_end_matches('/');
        api_token::issue(self, &directory, client, api, origin).ok()
    }
}
