//! The tokens of a user's sign-in: a v2.0 delegated access token for the tenant's API
//! (access-token-claims-reference.md) and an OpenID Connect ID token for the client
//! (id-token-claims-reference.md), RS256-signed with the keys published at
//! `/{tenant}/discovery/v2.0/keys`, as the app-only API tokens of `api_token` are.
//!
//! Both carry the same pairwise `sub`: "the `sub` claim is a pair-wise value that's
//! unique. The value is based on a combination of the token recipient, tenant, and user";
//! here the base64url SHA-256 of tenant, client and user ids (the shape of Entra's 43
//! characters). That the access token's `sub` is keyed by the client (`azp`) rather than
//! the API is UNVERIFIED.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::api_token::opaque_id;
use super::auth_codes::Grant;
use super::delegated_scope::Requested;
use super::errors::AadError;
use super::state::{App, State as Directory, text};
use super::{Emulator, clock, oidc};

/// A delegated (user) access token's payload. No `idtyp`: Entra adds it to app-only
/// tokens only.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct DelegatedClaims {
    /// The API's client id.
    pub aud: String,
    pub iss: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    /// The client that signed the user in, and how it authenticated ("1" secret).
    pub azp: String,
    pub azpacr: String,
    pub name: String,
    pub oid: String,
    /// The user's UPN.
    pub preferred_username: String,
    pub rh: String,
    /// The user's app roles on the API; absent, not empty, when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The delegated permissions granted, space-separated (`access_as_user`).
    pub scp: String,
    pub sub: String,
    pub tid: String,
    pub uti: String,
    pub ver: String,
}

/// An ID token's payload. `name`, `oid` and `preferred_username` need the `profile`
/// scope ("The `profile` scope is required to receive this claim").
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct IdClaims {
    /// The client's id.
    pub aud: String,
    pub iss: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The authorize request's `nonce`, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    pub rh: String,
    pub sub: String,
    pub tid: String,
    pub uti: String,
    pub ver: String,
}

/// A redemption that passed its checks.
pub(super) struct SignIn<'a> {
    pub(super) grant: &'a Grant,
    /// The scope granted by this redemption (the sign-in's, or a part of it).
    pub(super) scope: &'a Requested,
    pub(super) client: &'a App,
    pub(super) acr: &'static str,
    /// Scheme and authority the caller reached the emulator at (the issuer's base).
    pub(super) origin: &'a str,
}

pub(super) struct Tokens {
    pub(super) access_token: String,
    /// When the sign-in asked for `openid`.
    pub(super) id_token: Option<String>,
}

/// Signs the sign-in's tokens.
pub(super) fn issue(
    emulator: &Emulator,
    directory: &Directory,
    sign_in: &SignIn<'_>,
) -> Result<Tokens, AadError> {
    let user = (directory.user(&sign_in.grant.user_id)).ok_or_else(user_gone)?;
    let api = (directory.app(&sign_in.scope.api_client_id)).ok_or_else(user_gone)?;
    let base = Base::new(directory, sign_in, user);
    let access = delegated(&base, sign_in, directory.user_roles_on(&base.oid, api), api);
    let mut keys = emulator.signing_keys();
    let access_token = keys.sign(&access).map_err(AadError::signing_failed)?;
    let id_token = if sign_in.grant.scope.has("openid") {
        let claims = id_claims(&base, sign_in);
        Some(keys.sign(&claims).map_err(AadError::signing_failed)?)
    } else {
        None
    };
    Ok(Tokens {
        access_token,
        id_token,
    })
}

/// What both tokens say of the sign-in.
struct Base {
    iss: String,
    now: u64,
    exp: u64,
    oid: String,
    name: String,
    upn: String,
    sub: String,
    tid: String,
}

impl Base {
    fn new(directory: &Directory, sign_in: &SignIn<'_>, user: &Map<String, Value>) -> Base {
        let now = clock::unix_seconds();
        let tid = directory.tenant.id.clone();
        let oid = text(user, "id").unwrap_or_default().to_owned();
        Base {
            iss: oidc::issuer(sign_in.origin, &tid),
            now,
            exp: now + directory.token_lifetime,
            sub: pairwise_subject(&tid, &sign_in.client.client_id, &oid),
            name: text(user, "displayName").unwrap_or_default().to_owned(),
            upn: text(user, "userPrincipalName")
                .unwrap_or_default()
                .to_owned(),
            oid,
            tid,
        }
    }
}

fn delegated(base: &Base, sign_in: &SignIn<'_>, roles: Vec<String>, api: &App) -> DelegatedClaims {
    DelegatedClaims {
        aud: api.client_id.clone(),
        iss: base.iss.clone(),
        iat: base.now,
        nbf: base.now,
        exp: base.exp,
        azp: sign_in.client.client_id.clone(),
        azpacr: sign_in.acr.to_owned(),
        name: base.name.clone(),
        oid: base.oid.clone(),
        preferred_username: base.upn.clone(),
        rh: format!("1.{}.", opaque_id()),
        roles: (!roles.is_empty()).then_some(roles),
        scp: sign_in.scope.values.join(" "),
        sub: base.sub.clone(),
        tid: base.tid.clone(),
        uti: opaque_id(),
        ver: "2.0".to_owned(),
    }
}

fn id_claims(base: &Base, sign_in: &SignIn<'_>) -> IdClaims {
    let profile = sign_in.grant.scope.has("profile");
    let with_profile = |value: &String| profile.then(|| value.clone());
    IdClaims {
        aud: sign_in.client.client_id.clone(),
        iss: base.iss.clone(),
        iat: base.now,
        nbf: base.now,
        exp: base.exp,
        name: with_profile(&base.name),
        nonce: sign_in.grant.nonce.clone(),
        oid: with_profile(&base.oid),
        preferred_username: with_profile(&base.upn),
        rh: format!("1.{}.", opaque_id()),
        sub: base.sub.clone(),
        tid: base.tid.clone(),
        uti: opaque_id(),
        ver: "2.0".to_owned(),
    }
}

/// The `sub` of `user_id` for `client_id` in `tenant_id`.
pub(super) fn pairwise_subject(tenant_id: &str, client_id: &str, user_id: &str) -> String {
    let input = format!(
        "{}:{}:{}",
        tenant_id.to_ascii_lowercase(),
        client_id.to_ascii_lowercase(),
        user_id.to_ascii_lowercase()
    );
    URL_SAFE_NO_PAD.encode(digest(&SHA256, input.as_bytes()))
}

/// The user or the API went away between sign-in and redemption; the emulator never
/// deletes either, so this only guards a hand-edited directory.
fn user_gone() -> AadError {
    let message = "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.";
    AadError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "invalid_grant",
        70008,
        message.to_owned(),
    )
}
