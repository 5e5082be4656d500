//! The emulator's starting directory: a JSON seed (tenant, apps, users, groups, directory
//! roles) and the built-in demo tenant with its well-known ids.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::schema;

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

/// An app registration with a client secret and the application permissions (app roles)
/// granted to its service principal in this tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSeed {
    pub client_id: String,
    pub client_secret: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub secret_expired: bool,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Object id of the service principal (the token's `oid`); generated when absent.
    #[serde(default)]
    pub service_principal_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupSeed {
    pub id: String,
    pub display_name: String,
    /// Ids of member users and member groups (nesting is followed by transitiveMemberOf).
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

/// Well-known values of the built-in demo tenant (`src/emulator/demo_tenant.json`).
pub mod demo {
    pub const TENANT_ID: &str = "abd52d7b-5a6e-4d73-ab8b-f23b4a22e7c2";
    pub const TENANT_DOMAIN: &str = "contoso.onmicrosoft.com";
    /// The service's app: User.ReadWrite.All + User.Read.All.
    pub const CLIENT_ID: &str = "94a4b756-3601-47b7-9c4d-5e19738c4145";
    pub const CLIENT_SECRET: &str = "dQ98Q~Emu1ator.Demo-Secret_Contoso.App01";
    /// User.Invite.All + User.Read.All: may invite, may not reset.
    pub const INVITE_ONLY_CLIENT_ID: &str = "1e8cd27d-501f-4463-9065-9db1076570db";
    pub const INVITE_ONLY_CLIENT_SECRET: &str = "iN98Q~Invite.Only-Demo_Secret.Contoso02";
    /// Its only secret has expired (AADSTS7000222).
    pub const EXPIRED_CLIENT_ID: &str = "7b683e72-e04e-4835-ab20-2572f1f8b6d6";
    pub const EXPIRED_CLIENT_SECRET: &str = "eX98Q~Expired.Demo-Secret_Contoso.App03";
    /// User.Read.All only: may read, may neither write nor invite.
    pub const READ_ONLY_CLIENT_ID: &str = "6af41a6b-0716-477b-9cce-07cd4788efa8";
    pub const READ_ONLY_CLIENT_SECRET: &str = "rD98Q~Read.Only-Demo_Secret.Contoso04";

    /// Adele Vance: Accepted guest; her new address is not on the object yet.
    pub const ADELE_ID: &str = "a75a50af-c591-45d9-af8d-ccc72f36768e";
    pub const ADELE_UPN: &str = "adele.vance_fabrikam.example#EXT#@contoso.onmicrosoft.com";
    pub const ADELE_MAIL: &str = "adele.vance@fabrikam.example";
    pub const ADELE_NEW_MAIL: &str = "adele@northwind.example";
    /// Bianca Pisani: guest still PendingAcceptance.
    pub const PENDING_GUEST_ID: &str = "a1dfca7e-0f65-49c2-bb6d-7d28151afe07";
    pub const PENDING_GUEST_MAIL: &str = "bianca.pisani@fabrikam.example";
    /// Megan Bowen: a member, not a guest.
    pub const MEMBER_ID: &str = "1d4c24ea-15bd-40e1-9613-7d1e6c1e4c06";
    pub const MEMBER_MAIL: &str = "megan.bowen@contoso.example";
    /// Grady Archie: guest holding the Guest Inviter role directly.
    pub const ROLE_GUEST_ID: &str = "1a082a85-5c57-40bf-b81d-297d33f707a4";
    pub const ROLE_GUEST_MAIL: &str = "grady.archie@fabrikam.example";
    /// Lynne Robbins: guest holding Helpdesk Administrator through a role-assignable group.
    pub const GROUP_ROLE_GUEST_ID: &str = "e61b1379-ffc5-4bf1-8800-5114917c09f7";
    pub const GROUP_ROLE_GUEST_MAIL: &str = "lynne.robbins@fabrikam.example";
    /// Diego Siciliani and Isaiah Langer both carry SHARED_MAIL in otherMails.
    pub const SHARED_GUEST_A_ID: &str = "11d9ee1b-f95e-4496-9b61-cdc42726be06";
    pub const SHARED_GUEST_B_ID: &str = "857b6bba-7ef9-4a24-9291-546826a34333";
    pub const SHARED_MAIL: &str = "shared@tailspin.example";
    /// Lee Gu: Accepted guest from tailspin.example.
    pub const OTHER_DOMAIN_GUEST_ID: &str = "2eb47519-7e1b-4077-add6-6466992f12b7";
    pub const OTHER_DOMAIN_GUEST_MAIL: &str = "lee.gu@tailspin.example";
    /// Liam O'Connor: an address with an apostrophe, for `''` escaping in `$filter`.
    pub const APOSTROPHE_GUEST_ID: &str = "ae52f443-491a-4d7d-98d3-94517faa8870";
    pub const APOSTROPHE_GUEST_MAIL: &str = "liam.o'connor@fabrikam.example";

    /// Fabrikam Partners (Adele, Bianca), nested in All External Partners.
    pub const PARTNERS_GROUP_ID: &str = "6addca51-d8d4-49de-8fc2-b77c5f83a88c";
    pub const ALL_PARTNERS_GROUP_ID: &str = "f76092fd-1f0e-49f2-8b8c-8ea14f4dacdc";
    /// Tier 1 Helpdesk: role-assignable group holding Helpdesk Administrator (Lynne).
    pub const ROLE_GROUP_ID: &str = "9b62d3c2-0218-4a63-b19c-6c01aed107dc";
    pub const GUEST_INVITER_ROLE_ID: &str = "418c0b90-fd77-4ad6-95cb-6ab485b523cd";
    pub const GUEST_INVITER_TEMPLATE_ID: &str = "95e79109-95c0-4d8e-aee3-d01accf2d47b";
    pub const HELPDESK_ROLE_ID: &str = "a8969210-e5be-4cc6-a45a-d62ca9a13cd2";
    pub const HELPDESK_TEMPLATE_ID: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
}

const DEMO_TENANT_JSON: &str = include_str!("demo_tenant.json");

impl Seed {
    /// The built-in demo tenant. It is compiled in and covered by a unit test, so a parse
    /// failure is a build defect; the empty tenant keeps even that case panic-free.
    pub fn demo() -> Seed {
        serde_json::from_str(DEMO_TENANT_JSON).unwrap_or_else(|e| {
            tracing::error!(error = %e, "built-in demo tenant does not parse");
            Seed::empty()
        })
    }

    fn empty() -> Seed {
        Seed {
            tenant: TenantSeed {
                id: demo::TENANT_ID.to_owned(),
                domain: demo::TENANT_DOMAIN.to_owned(),
                display_name: None,
            },
            apps: Vec::new(),
            users: Vec::new(),
            groups: Vec::new(),
            directory_roles: Vec::new(),
        }
    }

    /// Checks what serde cannot: GUID ids, unique ids, known user properties and member
    /// references that resolve. The message names the offending entry.
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
        self.validate_members(&ids)
    }

    fn validate_apps(&self) -> Result<(), String> {
        let mut seen = HashSet::new();
        for (i, app) in self.apps.iter().enumerate() {
            if app.client_id.trim().is_empty() || app.client_secret.is_empty() {
                return Err(format!("apps[{i}]: clientId and clientSecret are required"));
            }
            if !seen.insert(app.client_id.to_ascii_lowercase()) {
                return Err(format!("apps[{i}]: duplicate clientId '{}'", app.client_id));
            }
        }
        Ok(())
    }

    fn validate_members(&self, ids: &HashSet<String>) -> Result<(), String> {
        let groups = self.groups.iter().map(|g| ("groups", &g.id, &g.members));
        let roles = self.directory_roles.iter().map(|r| ("directoryRoles", &r.id, &r.members));
        for (kind, owner, members) in groups.chain(roles) {
            if let Some(missing) = members.iter().find(|m| !ids.contains(&m.to_ascii_lowercase())) {
                return Err(format!("{kind} '{owner}': member '{missing}' does not exist"));
            }
        }
        Ok(())
    }
}

fn user_id(user: &Map<String, Value>) -> &str {
    user.get("id").and_then(Value::as_str).unwrap_or_default()
}

fn validate_user(user: &Map<String, Value>) -> Result<(), String> {
    if let Some(unknown) = user.keys().find(|k| schema::user_property(k) != Some(k.as_str())) {
        return Err(format!("unknown property '{unknown}' on type 'microsoft.graph.user'"));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn user<'a>(seed: &'a Seed, id: &str) -> &'a Map<String, Value> {
        let found = seed.users.iter().find(|u| user_id(u) == id);
        found.unwrap_or_else(|| panic!("demo tenant lacks user {id}"))
    }

    fn text<'a>(user: &'a Map<String, Value>, key: &str) -> &'a str {
        user.get(key).and_then(Value::as_str).unwrap_or_default()
    }

    #[test]
    fn demo_tenant_is_valid() {
        assert_eq!(Seed::demo().validate(), Ok(()));
    }

    #[test]
    fn demo_constants_match_the_json() {
        let seed = Seed::demo();
        assert_eq!(seed.tenant.id, demo::TENANT_ID);
        assert_eq!(seed.tenant.domain, demo::TENANT_DOMAIN);
        let app = |id: &str| seed.apps.iter().find(|a| a.client_id == id).cloned();
        assert_eq!(app(demo::CLIENT_ID).map(|a| a.client_secret).as_deref(), Some(demo::CLIENT_SECRET));
        let invite = app(demo::INVITE_ONLY_CLIENT_ID).map(|a| (a.client_secret, a.roles));
        assert_eq!(invite.as_ref().map(|i| i.0.as_str()), Some(demo::INVITE_ONLY_CLIENT_SECRET));
        assert!(invite.is_some_and(|i| i.1.iter().any(|r| r == "User.Invite.All")));
        let expired = app(demo::EXPIRED_CLIENT_ID);
        assert!(expired.as_ref().is_some_and(|a| a.secret_expired));
        assert_eq!(expired.map(|a| a.client_secret).as_deref(), Some(demo::EXPIRED_CLIENT_SECRET));
        let read_only = app(demo::READ_ONLY_CLIENT_ID).map(|a| a.client_secret);
        assert_eq!(read_only.as_deref(), Some(demo::READ_ONLY_CLIENT_SECRET));
    }

    #[test]
    fn demo_users_match_their_constants() {
        let seed = Seed::demo();
        let adele = user(&seed, demo::ADELE_ID);
        assert_eq!(text(adele, "userPrincipalName"), demo::ADELE_UPN);
        assert_eq!(text(adele, "mail"), demo::ADELE_MAIL);
        assert_eq!(text(adele, "externalUserState"), "Accepted");
        assert_eq!(adele.get("otherMails"), Some(&Value::Array(Vec::new())));
        let pairs = [
            (demo::PENDING_GUEST_ID, demo::PENDING_GUEST_MAIL),
            (demo::MEMBER_ID, demo::MEMBER_MAIL),
            (demo::ROLE_GUEST_ID, demo::ROLE_GUEST_MAIL),
            (demo::GROUP_ROLE_GUEST_ID, demo::GROUP_ROLE_GUEST_MAIL),
            (demo::OTHER_DOMAIN_GUEST_ID, demo::OTHER_DOMAIN_GUEST_MAIL),
            (demo::APOSTROPHE_GUEST_ID, demo::APOSTROPHE_GUEST_MAIL),
        ];
        for (id, mail) in pairs {
            assert_eq!(text(user(&seed, id), "mail"), mail, "user {id}");
        }
        assert_eq!(text(user(&seed, demo::PENDING_GUEST_ID), "externalUserState"), "PendingAcceptance");
        assert_eq!(text(user(&seed, demo::MEMBER_ID), "userType"), "Member");
        for id in [demo::SHARED_GUEST_A_ID, demo::SHARED_GUEST_B_ID] {
            let other = user(&seed, id).get("otherMails").cloned();
            assert_eq!(other, Some(serde_json::json!([demo::SHARED_MAIL])), "user {id}");
        }
    }

    #[test]
    fn demo_roles_and_groups_match_their_constants() {
        let seed = Seed::demo();
        let role = |id: &str| seed.directory_roles.iter().find(|r| r.id == id).cloned();
        let inviter = role(demo::GUEST_INVITER_ROLE_ID).map(|r| (r.role_template_id, r.members));
        assert_eq!(inviter, Some((demo::GUEST_INVITER_TEMPLATE_ID.to_owned(), vec![demo::ROLE_GUEST_ID.to_owned()])));
        let helpdesk = role(demo::HELPDESK_ROLE_ID).map(|r| (r.role_template_id, r.members));
        assert_eq!(helpdesk, Some((demo::HELPDESK_TEMPLATE_ID.to_owned(), vec![demo::ROLE_GROUP_ID.to_owned()])));
        let group = seed.groups.iter().find(|g| g.id == demo::ROLE_GROUP_ID);
        assert!(group.is_some_and(|g| g.is_assignable_to_role && g.members == [demo::GROUP_ROLE_GUEST_ID]));
        let all = seed.groups.iter().find(|g| g.id == demo::ALL_PARTNERS_GROUP_ID);
        assert!(all.is_some_and(|g| g.members.iter().any(|m| m == demo::PARTNERS_GROUP_ID)));
    }

    #[test]
    fn validation_names_the_offending_entry() {
        let mut seed = Seed::demo();
        seed.users[1].insert("favouriteColour".to_owned(), Value::from("teal"));
        let err = seed.validate().unwrap_err();
        assert!(err.contains("users[1]") && err.contains("favouriteColour"), "{err}");

        let mut seed = Seed::demo();
        seed.groups[0].members.push("00000000-0000-0000-0000-000000000001".to_owned());
        let err = seed.validate().unwrap_err();
        assert!(err.contains("does not exist"), "{err}");

        let mut seed = Seed::demo();
        let duplicate = seed.users[0].clone();
        seed.users.push(duplicate);
        assert!(seed.validate().unwrap_err().contains("duplicate id"));
    }
}
