//! The `scope` of a sign-in (v2-oauth2-auth-code-flow.md): "a space-separated list of
//! scopes that you want the user to consent to", here one API of the tenant
//! (`<App ID URI or client id>/<delegated permission>`, or `/.default` for all of them)
//! plus the OpenID Connect scopes `openid`, `profile`, `email` and `offline_access`.
//!
//! Entra lets the authorize leg name several resources and the token leg pick one; the
//! emulator takes one API per sign-in, and issues no delegated Graph tokens, so a scope
//! without an API is refused too (both emulator limits).

use axum::http::StatusCode;

use super::errors::AadError;
use super::state::{App, State as Directory};

/// The OpenID Connect scopes (scopes-oidc.md).
const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// What a sign-in asked for.
#[derive(Clone, Debug)]
pub(super) struct Requested {
    /// The API's client id (the access token's `aud`).
    pub(super) api_client_id: String,
    /// The API as the scope named it (`api://guest-reset`).
    pub(super) resource: String,
    /// Delegated permission values (`access_as_user`): the token's `scp`.
    pub(super) values: Vec<String>,
    /// OpenID Connect scopes, in request order.
    pub(super) oidc: Vec<String>,
}

impl Requested {
    pub(super) fn has(&self, oidc_scope: &str) -> bool {
        self.oidc.iter().any(|s| s == oidc_scope)
    }

    /// The token response's `scope`: the API's permissions as named, then `openid`,
    /// `profile` and `email` when asked for. `offline_access` is left out, as the
    /// emulator issues no refresh token. (Entra's exact listing is UNVERIFIED.)
    pub(super) fn granted(&self) -> String {
        let api = self.values.iter().map(|v| format!("{}/{v}", self.resource));
        let oidc = self.oidc.iter().filter(|s| *s != "offline_access").cloned();
        api.chain(oidc).collect::<Vec<_>>().join(" ")
    }
}

/// Reads a sign-in's `scope` against the tenant's APIs.
pub(super) fn parse(scope: &str, directory: &Directory) -> Result<Requested, AadError> {
    let (oidc, named): (Vec<&str>, Vec<&str>) =
        (scope.split_whitespace()).partition(|item| oidc_scope(item).is_some());
    let mut items = named.iter().map(|item| resolve(item, directory, scope));
    let (api, resource, mut values) = items.next().ok_or_else(|| invalid_scope(scope))??;
    for item in items {
        let (other, _, more) = item?;
        if other.client_id != api.client_id {
            return Err(more_than_one_resource(scope));
        }
        values.extend(more);
    }
    let oidc = oidc.into_iter().filter_map(oidc_scope).map(str::to_owned);
    Ok(Requested {
        api_client_id: api.client_id.clone(),
        resource,
        values,
        oidc: oidc.collect(),
    })
}

fn oidc_scope(item: &str) -> Option<&'static str> {
    OIDC_SCOPES
        .iter()
        .copied()
        .find(|s| s.eq_ignore_ascii_case(item))
}

/// One `<resource>/<permission>` item: the API, the resource as named, the permissions.
fn resolve<'a>(
    item: &str,
    directory: &'a Directory,
    scope: &str,
) -> Result<(&'a App, String, Vec<String>), AadError> {
    let (resource, value) = item.rsplit_once('/').ok_or_else(|| invalid_scope(scope))?;
    let api = directory
        .api(resource)
        .ok_or_else(|| invalid_scope(scope))?;
    let values = permissions(api, value).ok_or_else(|| invalid_scope(scope))?;
    Ok((api, resource.to_owned(), values))
}

/// `.default` is every delegated permission the API defines; any other value must be
/// one of them.
fn permissions(api: &App, value: &str) -> Option<Vec<String>> {
    if value == ".default" {
        return (!api.scopes.is_empty()).then(|| api.scopes.clone());
    }
    let defined = api.scopes.iter().find(|s| *s == value)?;
    Some(vec![defined.clone()])
}

/// AADSTS70011, the token endpoint's documented example of an invalid scope.
pub(super) fn invalid_scope(scope: &str) -> AadError {
    let message = format!(
        "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
    );
    AadError::new(StatusCode::BAD_REQUEST, "invalid_scope", 70011, message)
}

/// As for client credentials (see `scope.rs`): the code is UNVERIFIED.
fn more_than_one_resource(scope: &str) -> AadError {
    let message = format!(
        "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."
    );
    AadError::new(StatusCode::BAD_REQUEST, "invalid_scope", 28000, message)
}
