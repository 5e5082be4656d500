//! The emulator's starting directory: a JSON seed (tenant, apps, users, groups, directory
//! roles) and the built-in demo tenant with its well-known ids.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::app_seed::{self, AppSeed};
use super::schema;
use super::{sponsorship, user_roles};

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
        app_seed::validate(&self.apps)?;
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
        sponsorship::validate(&self.users, group_ids)?;
        user_roles::validate(&self.users, &self.apps)
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

fn user_id(user: &Map<String, Value>) -> &str {
    user.get("id").and_then(Value::as_str).unwrap_or_default()
}

fn validate_user(user: &Map<String, Value>) -> Result<(), String> {
    // Besides Graph's properties, a seed user may carry its sponsors (see `sponsorship`)
    // and its app roles on the tenant's APIs (see `user_roles`): relationships, not
    // properties.
    let extra = [sponsorship::SEED_KEY, user_roles::SEED_KEY];
    if let Some(unknown) = user
        .keys()
        .find(|k| !extra.contains(&k.as_str()) && schema::user_property(k) != Some(k.as_str()))
    {
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
