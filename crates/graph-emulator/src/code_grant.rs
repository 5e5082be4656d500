//! `grant_type=authorization_code` at the token endpoint (v2-oauth2-auth-code-flow.md,
//! "Redeem a code for an access token"): the client authenticates as for client
//! credentials, sends the `code`, "the same `redirect_uri` value that was used to acquire
//! the `authorization_code`", and the `code_verifier` if the sign-in sent a challenge.
//! The answer carries the API's delegated access token and, when `openid` was asked for,
//! an ID token (see `user_token`); no refresh token is issued, even for `offline_access`
//! (an emulator limit).
//!
//! Refusals, all `invalid_grant` unless said otherwise (reference-error-codes.md and
//! observed answers):
//! - unknown or expired code: AADSTS70008 (observed for expired codes; an unknown code is
//!   answered the same, UNVERIFIED);
//! - a code already redeemed: AADSTS54005;
//! - a code issued to another client: AADSTS70000 (UNVERIFIED);
//! - another `redirect_uri`: AADSTS50011 with the wording Entra used for it (UNVERIFIED;
//!   newer answers may carry AADSTS500112);
//! - no verifier for a challenge: AADSTS50148, observed as the answer to a redemption
//!   without `code_verifier` (pennersr/django-allauth#2920);
//! - a verifier that does not match: AADSTS501481.

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::auth_codes::{Grant, Refused};
use super::client_auth::{authenticate, client_credentials, required};
use super::delegated_scope::{self, Requested};
use super::errors::AadError;
use super::form::field;
use super::state::State as Directory;
use super::user_token::{SignIn, Tokens};
use super::{Emulator, oidc, user_token};

/// Redeems a code; the JSON body of the token response.
pub(super) fn redeem(
    emulator: &Emulator,
    directory: &mut Directory,
    tenant: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<Value, AadError> {
    let (client_id, credential) = client_credentials(form, headers)?;
    let origin = oidc::origin(headers);
    let (client, _) = authenticate(directory, tenant, &client_id, &credential, &origin)?;
    let code = required(form, "code")?;
    let grant = directory.auth_codes.grant(code).map_err(refused)?;
    check(grant, &client.client_id, form)?;
    let scope = narrowed(&grant.scope, field(form, "scope"), directory)?;
    let signed_in = SignIn {
        grant,
        scope: &scope,
        client,
        acr: credential.acr(),
        origin: &origin,
    };
    let tokens = user_token::issue(emulator, directory, &signed_in)?;
    directory.auth_codes.spend(code);
    Ok(token_body(&scope, directory.token_lifetime, tokens))
}

/// The documented success body, with `ext_expires_in` as real answers carry it.
fn token_body(scope: &Requested, lifetime: u64, tokens: Tokens) -> Value {
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scope.granted(),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": tokens.access_token,
    });
    if let Some(id_token) = tokens.id_token {
        body["id_token"] = Value::String(id_token);
    }
    body
}

/// The code belongs to this client and this redirect URI, and the verifier answers its
/// challenge.
fn check(grant: &Grant, client_id: &str, form: &[(String, String)]) -> Result<(), AadError> {
    if !grant.client_id.eq_ignore_ascii_case(client_id) {
        let message = "Provided grant is invalid or malformed: the authorization code was issued to another client.";
        return Err(invalid_grant(70000, message.to_owned()));
    }
    let redirect_uri = required(form, "redirect_uri")?;
    if redirect_uri != grant.redirect_uri {
        let message = format!(
            "The reply address '{redirect_uri}' does not match the reply address '{}' provided when requesting Authorization code.",
            grant.redirect_uri
        );
        return Err(invalid_grant(50011, message));
    }
    let Some(challenge) = &grant.challenge else {
        return Ok(());
    };
    match field(form, "code_verifier").filter(|v| !v.is_empty()) {
        None => {
            let message = "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.";
            Err(invalid_grant(50148, message.to_owned()))
        }
        Some(verifier) if !challenge.verifies(verifier) => {
            let message = "The Code_Verifier does not match the code_challenge supplied in the authorization request.";
            Err(invalid_grant(501481, message.to_owned()))
        }
        Some(_) => Ok(()),
    }
}

/// The granted scope, or the part of it the redemption names: "the scopes must all be
/// from a single resource, along with OIDC scopes", and here they must have been granted
/// at sign-in (anything else is an invalid scope; Entra's answer is UNVERIFIED).
fn narrowed(
    granted: &Requested,
    asked: Option<&str>,
    directory: &Directory,
) -> Result<Requested, AadError> {
    let Some(asked) = asked.filter(|s| !s.trim().is_empty()) else {
        return Ok(granted.clone());
    };
    let wanted = delegated_scope::parse(asked, directory)?;
    let same_api = wanted.api_client_id == granted.api_client_id;
    let within = wanted.values.iter().all(|v| granted.values.contains(v));
    if !(same_api && within) {
        return Err(delegated_scope::invalid_scope(asked));
    }
    Ok(wanted)
}

fn refused(refused: Refused) -> AadError {
    match refused {
        Refused::UnknownOrExpired => {
            let message = "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.";
            invalid_grant(70008, message.to_owned())
        }
        Refused::AlreadyRedeemed => {
            let message = "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.";
            invalid_grant(54005, message.to_owned())
        }
    }
}

fn invalid_grant(code: u32, message: String) -> AadError {
    AadError::new(StatusCode::BAD_REQUEST, "invalid_grant", code, message)
}
