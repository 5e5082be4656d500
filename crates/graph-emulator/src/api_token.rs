//! Access tokens for the tenant's own APIs (guest-reset's API in the demo tenant): app-only
//! v2.0 tokens, RS256-signed with the key published at `/{tenant}/discovery/v2.0/keys`,
//! with the claims Entra puts in them (access-token-claims-reference).
//!
//! The emulated API registration is taken to request v2.0 tokens
//! (`requestedAccessTokenVersion: 2`) and the `idtyp` optional claim; a real registration
//! needs both, or Entra issues v1.0 tokens (`iss` https://sts.windows.net/{tid}/, `aud` the
//! App ID URI) without `idtyp`.

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::errors::AadError;
use super::state::{App, State as Directory};
use super::{Emulator, clock, oidc};

/// The payload of an API access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct ApiClaims {
    /// v2.0 tokens always carry the API's client id, even when the scope named its App
    /// ID URI.
    pub aud: String,
    pub iss: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    /// The calling client's id (v1.0: `appid`).
    pub azp: String,
    /// "1": the client authenticated with a secret (v1.0: `appidacr`).
    pub azpacr: String,
    pub idtyp: String,
    /// The client's service principal: `oid` and `sub` are equal in app-only tokens.
    pub oid: String,
    pub sub: String,
    pub tid: String,
    /// Absent, not empty, when the client holds no role on the API, as in Entra.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Opaque to resources; random here.
    pub rh: String,
    /// Unique token id (Entra's `jti`).
    pub uti: String,
    pub ver: String,
}

/// A signed token for `client` calling `api`; `origin` is the scheme and authority the
/// caller reached the emulator at, which makes up the issuer.
pub(super) fn issue(
    emulator: &Emulator,
    directory: &Directory,
    client: &App,
    api: &App,
    origin: &str,
) -> Result<String, AadError> {
    let claims = claims(directory, client, api, origin)?;
    emulator
        .signing_keys()
        .sign(&claims)
        .map_err(AadError::signing_failed)
}

fn claims(
    directory: &Directory,
    client: &App,
    api: &App,
    origin: &str,
) -> Result<ApiClaims, AadError> {
    let roles = client.roles_on(api);
    // Without an assignment Entra still issues a token (with no `roles`) unless the API's
    // service principal requires assignment; the API must then refuse it itself.
    if roles.is_empty() && api.assignment_required {
        return Err(not_assigned(client, api));
    }
    let now = clock::unix_seconds();
    let tenant_id = &directory.tenant.id;
    Ok(ApiClaims {
        aud: api.client_id.clone(),
        iss: oidc::issuer(origin, tenant_id),
        iat: now,
        nbf: now,
        exp: now + directory.token_lifetime,
        azp: client.client_id.clone(),
        azpacr: "1".to_owned(),
        idtyp: "app".to_owned(),
        oid: client.service_principal_id.clone(),
        sub: client.service_principal_id.clone(),
        tid: tenant_id.clone(),
        roles: (!roles.is_empty()).then_some(roles),
        rh: format!("1.{}.", opaque_id()),
        uti: opaque_id(),
        ver: "2.0".to_owned(),
    })
}

/// AADSTS501051, as seen in answers to clients of APIs that require assignment.
fn not_assigned(client: &App, api: &App) -> AadError {
    let api_name = api.identifier_uris.first().unwrap_or(&api.client_id);
    let message = format!(
        "Application '{}'({}) is not assigned to a role for the application '{api_name}'({}).",
        client.client_id, client.display_name, api.display_name
    );
    AadError::new(StatusCode::BAD_REQUEST, "invalid_grant", 501051, message)
}

/// 16 random bytes, base64url: the shape of Entra's `uti`.
pub(super) fn opaque_id() -> String {
    URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}
