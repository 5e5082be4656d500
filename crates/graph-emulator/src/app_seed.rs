//! The apps of a seed: client registrations (secret, certificates, redirect URIs, the
//! roles they hold) and the tenant's own APIs (App ID URIs, app roles, delegated
//! scopes), and the checks serde cannot make on them.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::key_credentials::{self, KeyCredentialSeed};
use super::redirect_uri;

/// An app registration with a client secret and/or certificates and the application
/// permissions (app roles) granted to its service principal in this tenant. An app may
/// also be an API of the tenant (App ID URIs, app roles, delegated scopes), for which the
/// emulator issues v2.0 access tokens, or a web app that signs users in (redirect URIs).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSeed {
    pub client_id: String,
    /// Required, except for an API registration that never signs in itself or an app
    /// that signs in with a certificate only.
    #[serde(default)]
    pub client_secret: String,
    /// Certificates whose keys sign client assertions (see `key_credentials`).
    #[serde(default)]
    pub key_credentials: Vec<KeyCredentialSeed>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub secret_expired: bool,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Object id of the service principal (the token's `oid`); generated when absent.
    #[serde(default)]
    pub service_principal_id: Option<String>,
    /// App ID URIs of an API (`api://...`); `<uri>/.default` or `<clientId>/.default`
    /// asks for a token for it.
    #[serde(default)]
    pub identifier_uris: Vec<String>,
    /// App roles the API defines (for applications and for users).
    #[serde(default)]
    pub app_roles: Vec<AppRoleSeed>,
    /// Delegated permissions the API defines (the application's
    /// `api.oauth2PermissionScopes`): `<App ID URI>/<value>` in a sign-in's `scope`.
    #[serde(default)]
    pub oauth2_permission_scopes: Vec<PermissionScopeSeed>,
    /// Entra's "Assignment required?" on the API's service principal: when set, a
    /// client without an assigned role gets AADSTS501051 instead of a token.
    #[serde(default)]
    pub app_role_assignment_required: bool,
    /// Role values granted to this app on the tenant's APIs, keyed by the API's clientId.
    #[serde(default)]
    pub api_roles: BTreeMap<String, Vec<String>>,
    /// Web redirect URIs (the application's `web.redirectUris`) the authorization
    /// endpoint may send a sign-in's answer to (see `redirect_uri`).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
}

/// An app role of an API, as in the application manifest's `appRoles`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppRoleSeed {
    pub id: String,
    pub value: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// A delegated permission of an API, minimally as Graph's `permissionScope`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PermissionScopeSeed {
    pub id: String,
    pub value: String,
    #[serde(default)]
    pub admin_consent_display_name: Option<String>,
}

/// Client ids present and unique, a credential unless the app is only an API, valid
/// certificates, well-formed APIs and redirect URIs, and roles granted that exist.
pub(super) fn validate(apps: &[AppSeed]) -> Result<(), String> {
    let mut seen = HashSet::new();
    let mut uris = HashSet::new();
    for (i, app) in apps.iter().enumerate() {
        let is_api = !app.app_roles.is_empty() || !app.identifier_uris.is_empty();
        let has_credential = !app.client_secret.is_empty() || !app.key_credentials.is_empty();
        if app.client_id.trim().is_empty() || !(has_credential || is_api) {
            return Err(format!(
                "apps[{i}]: clientId and clientSecret are required (keyCredentials may replace the secret)"
            ));
        }
        key_credentials::validate(&app.key_credentials).map_err(|e| format!("apps[{i}]: {e}"))?;
        if !seen.insert(app.client_id.to_ascii_lowercase()) {
            return Err(format!("apps[{i}]: duplicate clientId '{}'", app.client_id));
        }
        let checked = validate_api(app, &mut uris).and_then(|()| validate_redirect_uris(app));
        checked.map_err(|e| format!("apps[{i}]: {e}"))?;
    }
    for (i, app) in apps.iter().enumerate() {
        check_api_roles(apps, &app.api_roles).map_err(|e| format!("apps[{i}]: {e}"))?;
    }
    Ok(())
}

/// Every granted API role must name an API of the seed and one of its role values (for
/// an app's `apiRoles` and a user's alike).
pub(super) fn check_api_roles(
    apps: &[AppSeed],
    granted: &BTreeMap<String, Vec<String>>,
) -> Result<(), String> {
    for (api_id, values) in granted {
        let api = (apps.iter())
            .find(|a| a.client_id.eq_ignore_ascii_case(api_id) && !a.app_roles.is_empty());
        let Some(api) = api else {
            return Err(format!("apiRoles: '{api_id}' is not an app with appRoles"));
        };
        if let Some(unknown) = values
            .iter()
            .find(|v| !api.app_roles.iter().any(|r| &r.value == *v))
        {
            return Err(format!("apiRoles: '{api_id}' defines no role '{unknown}'"));
        }
    }
    Ok(())
}

/// Role and scope ids are GUIDs and their values unique per app; App ID URIs are unique
/// in the seed.
fn validate_api(app: &AppSeed, uris: &mut HashSet<String>) -> Result<(), String> {
    let roles = app
        .app_roles
        .iter()
        .map(|r| (r.id.as_str(), r.value.as_str()));
    check_values("appRoles", roles)?;
    let scopes = (app.oauth2_permission_scopes.iter()).map(|s| (s.id.as_str(), s.value.as_str()));
    check_values("oauth2PermissionScopes", scopes)?;
    for uri in &app.identifier_uris {
        if uri.trim().is_empty() || !uris.insert(uri.to_ascii_lowercase()) {
            return Err(format!("identifierUris: empty or duplicate '{uri}'"));
        }
    }
    Ok(())
}

/// `(id, value)` pairs: GUID ids, values unique and without spaces (a scope value is one
/// item of a space-separated `scope`).
fn check_values<'a>(
    kind: &str,
    entries: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), String> {
    let mut values = HashSet::new();
    for (id, value) in entries {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(format!("{kind}: id '{id}' is not a GUID"));
        }
        let blank = value.trim().is_empty() || value.contains(char::is_whitespace);
        if blank || !values.insert(value) {
            return Err(format!(
                "{kind}: empty, spaced or duplicate value '{value}'"
            ));
        }
    }
    Ok(())
}

fn validate_redirect_uris(app: &AppSeed) -> Result<(), String> {
    for uri in &app.redirect_uris {
        redirect_uri::check_registered(uri).map_err(|e| format!("redirectUris: '{uri}' {e}"))?;
    }
    Ok(())
}
