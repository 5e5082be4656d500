//! The emulator's starting directory: a JSON seed (tenant, apps, users, groups, directory
//! roles) and the built-in demo tenant with its well-known ids.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::key_credentials::{self, KeyCredentialSeed};
use super::schema;
use super::sponsorship;

/// A tenant to emulate, as loaded from JSON. Users are kept as Graph-shaped JSON objects
/// (camelCase property names) so any property of `microsoft.graph.user` can be seeded.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    pub tenant: TenantSeed,
    #[serde(default)]
    pub apps: Vec<AppSeed>,
    #[serde(default)]
    pub users: Vec<Map<String, Value>>,
    #[serde(default)]
    pub groups: Vec<GroupSeed>,
    #[serde(default)]
    pub directory_roles: Vec<DirectoryRoleSeed>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantSeed {
    pub id: String,
    pub domain: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// An app registration with a client secret and/or certificates and the application
/// permissions (app roles) granted to its service principal in this tenant. An app may also be an API of the
/// tenant (App ID URIs and app roles), for which the emulator issues v2.0 access tokens.
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
    /// App roles the API defines for applications.
    #[serde(default)]
    pub app_roles: Vec<AppRoleSeed>,
    /// Entra's "Assignment required?" on the API's service principal: when set, a
    /// client without an assigned role gets AADSTS501051 instead of a token.
    #[serde(default)]
    pub app_role_assignment_required: bool,
    /// Role values granted to this app on the tenant's APIs, keyed by the API's clientId.
    #[serde(default)]
    pub api_roles: BTreeMap<String, Vec<String>>,
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

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupSeed {
    pub id: String,
    pub display_name: String,
    /// Ids of member users and member groups (nesting is followed by transitiveMemberOf
    /// and transitiveMembers).
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub is_assignable_to_role: bool,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryRoleSeed {
    pub id: String,
    pub display_name: String,
    pub role_template_id: String,
    /// Ids of users or (role-assignable) groups holding the role.
    #[serde(default)]
    pub members: Vec<String>,
}

const DEMO_TENANT_JSON: &str = include_str!("demo_tenant.json");
const DEMO_TAILSPIN_JSON: &str = include_str!("demo_tailspin.json");

impl Seed {
    /// The built-in demo tenant. It is compiled in and covered by a unit test, so a parse
    /// failure is a build defect; the empty tenant keeps even that case panic-free.
    pub fn demo() -> Seed {
        use super::demo::{TENANT_DOMAIN, TENANT_ID};
        Seed::built_in(DEMO_TENANT_JSON, TENANT_ID, TENANT_DOMAIN)
    }

    /// The demo's second tenant, Tailspin Toys (see `demo::tailspin`).
    pub fn demo_tailspin() -> Seed {
        use super::demo::tailspin::{TENANT_DOMAIN, TENANT_ID};
        Seed::built_in(DEMO_TAILSPIN_JSON, TENANT_ID, TENANT_DOMAIN)
    }

    fn built_in(json: &str, id: &str, domain: &str) -> Seed {
        serde_json::from_str(json).unwrap_or_else(|e| {
            tracing::error!(error = %e, domain, "built-in demo tenant does not parse");
            Seed::empty(id, domain)
        })
    }

    fn empty(id: &str, domain: &str) -> Seed {
        Seed {
            tenant: TenantSeed {
                id: id.to_owned(),
                domain: domain.to_owned(),
                display_name: None,
            },
            apps: Vec::new(),
            users: Vec::new(),
            groups: Vec::new(),
            directory_roles: Vec::new(),
        }
    }

    /// Checks what serde cannot: GUID ids, unique ids, known user properties, member and
    /// sponsor references that resolve. The message names the offending entry.
    pub fn validate(&self) -> Result<(), String> {
        if uuid::Uuid::parse_str(&self.tenant.id).is_err() {
            return Err(format!("tenant.id '{}' is not a GUID", self.tenant.id));
        }
        if self.tenant.domain.trim().is_empty() {
            return Err("tenant.domain is empty".to_owned());
        }
        self.validate_apps()?;
        let mut ids = HashSet::new();
        for (i, user) in self.users.iter().enumerate() {
            validate_user(user).map_err(|e| format!("users[{i}]: {e}"))?;
            claim_id(&mut ids, user_id(user), &format!("users[{i}]"))?;
        }
        for (i, group) in self.groups.iter().enumerate() {
            claim_id(&mut ids, &group.id, &format!("groups[{i}]"))?;
        }
        for (i, role) in self.directory_roles.iter().enumerate() {
            claim_id(&mut ids, &role.id, &format!("directoryRoles[{i}]"))?;
        }
        self.validate_members(&ids)?;
        let group_ids = self.groups.iter().map(|g| g.id.as_str());
        sponsorship::validate(&self.users, group_ids)
    }

    fn validate_apps(&self) -> Result<(), String> {
        let mut seen = HashSet::new();
        let mut uris = HashSet::new();
        for (i, app) in self.apps.iter().enumerate() {
            let is_api = !app.app_roles.is_empty() || !app.identifier_uris.is_empty();
            let has_credential = !app.client_secret.is_empty() || !app.key_credentials.is_empty();
            if app.client_id.trim().is_empty() || !(has_credential || is_api) {
                return Err(format!(
                    "apps[{i}]: clientId and clientSecret are required (keyCredentials may replace the secret)"
                ));
            }
            key_credentials::validate(&app.key_credentials)
                .map_err(|e| format!("apps[{i}]: {e}"))?;
            if !seen.insert(app.client_id.to_ascii_lowercase()) {
                return Err(format!("apps[{i}]: duplicate clientId '{}'", app.client_id));
            }
            validate_api(app, &mut uris).map_err(|e| format!("apps[{i}]: {e}"))?;
        }
        for (i, app) in self.apps.iter().enumerate() {
            self.validate_api_roles(app)
                .map_err(|e| format!("apps[{i}]: {e}"))?;
        }
        Ok(())
    }

    /// Every granted API role must name an API of this seed and one of its role values.
    fn validate_api_roles(&self, app: &AppSeed) -> Result<(), String> {
        for (api_id, values) in &app.api_roles {
            let api = self
                .apps
                .iter()
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

    fn validate_members(&self, ids: &HashSet<String>) -> Result<(), String> {
        let groups = self.groups.iter().map(|g| ("groups", &g.id, &g.members));
        let roles = self
            .directory_roles
            .iter()
            .map(|r| ("directoryRoles", &r.id, &r.members));
        for (kind, owner, members) in groups.chain(roles) {
            if let Some(missing) = members
                .iter()
                .find(|m| !ids.contains(&m.to_ascii_lowercase()))
            {
                return Err(format!(
                    "{kind} '{owner}': member '{missing}' does not exist"
                ));
            }
        }
        Ok(())
    }
}

/// App role ids are GUIDs and values unique per app; App ID URIs are unique in the seed.
fn validate_api(app: &AppSeed, uris: &mut HashSet<String>) -> Result<(), String> {
    let mut values = HashSet::new();
    for role in &app.app_roles {
        if uuid::Uuid::parse_str(&role.id).is_err() {
            return Err(format!("appRoles: id '{}' is not a GUID", role.id));
        }
        if role.value.trim().is_empty() || !values.insert(role.value.as_str()) {
            return Err(format!(
                "appRoles: empty or duplicate value '{}'",
                role.value
            ));
        }
    }
    for uri in &app.identifier_uris {
        if uri.trim().is_empty() || !uris.insert(uri.to_ascii_lowercase()) {
            return Err(format!("identifierUris: empty or duplicate '{uri}'"));
        }
    }
    Ok(())
}

fn user_id(user: &Map<String, Value>) -> &str {
    user.get("id").and_then(Value::as_str).unwrap_or_default()
}

fn validate_user(user: &Map<String, Value>) -> Result<(), String> {
    // `sponsors` is the seed's one navigation property (see `sponsorship`).
    if let Some(unknown) = user.keys().find(|k| {
        k.as_str() != sponsorship::SEED_KEY && schema::user_property(k) != Some(k.as_str())
    }) {
        return Err(format!(
            "unknown property '{unknown}' on type 'microsoft.graph.user'"
        ));
    }
    match user.get("userPrincipalName").and_then(Value::as_str) {
        Some(upn) if upn.contains('@') => Ok(()),
        _ => Err("userPrincipalName is required and must contain '@'".to_owned()),
    }
}

fn claim_id(ids: &mut HashSet<String>, id: &str, owner: &str) -> Result<(), String> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(format!("{owner}: id '{id}' is not a GUID"));
    }
    if !ids.insert(id.to_ascii_lowercase()) {
        return Err(format!("{owner}: duplicate id '{id}'"));
    }
    Ok(())
}
