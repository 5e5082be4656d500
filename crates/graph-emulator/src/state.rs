//! The emulated directory in memory: tenant, apps, users, groups and directory roles,
//! plus what tests observe (request log, sent invitation emails).

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

use super::RecordedRequest;
use super::adversary::AppliedReset;
use super::app_seed::AppSeed;
use super::auth_codes::AuthCodes;
use super::fault_plan::ActiveFaults;
use super::key_credentials::{self, KeyCredential};
use super::replication::Replication;
use super::seed::{DirectoryRoleSeed, GroupSeed, Seed, TenantSeed};
use super::seen_assertions::SeenAssertions;
use super::sponsorship::{self, Sponsors};
use super::throttle::SlidingWindow;
use super::user_roles::{self, UserRoles};
use super::write_limit::WriteLimits;

/// Access tokens live 3599 s, as the token service reports (graph.md §6.2).
pub(super) const DEFAULT_TOKEN_LIFETIME: u64 = 3599;

pub(super) struct App {
    pub(super) client_id: String,
    pub(super) client_secret: String,
    pub(super) roles: Vec<String>,
    pub(super) secret_expired: bool,
    /// Registered certificates, for client assertions.
    pub(super) key_credentials: Vec<KeyCredential>,
    pub(super) service_principal_id: String,
    pub(super) display_name: String,
    /// API side: App ID URIs, defined app role values, "Assignment required?".
    pub(super) identifier_uris: Vec<String>,
    pub(super) app_roles: Vec<String>,
    /// Delegated permission values (`access_as_user`), in definition order.
    pub(super) scopes: Vec<String>,
    pub(super) assignment_required: bool,
    /// Client side: role values granted on each API, keyed by lower-case API client id.
    pub(super) api_roles: BTreeMap<String, Vec<String>>,
    /// Where the authorization endpoint may send a sign-in's answer.
    pub(super) redirect_uris: Vec<String>,
}

pub(super) struct State {
    pub(super) tenant: TenantSeed,
    pub(super) apps: Vec<App>,
    pub(super) users: Vec<Map<String, Value>>,
    pub(super) groups: Vec<GroupSeed>,
    pub(super) roles: Vec<DirectoryRoleSeed>,
    /// Each user's sponsors (users or groups), by lower-case user id.
    pub(super) sponsors: Sponsors,
    /// Each user's app roles on the tenant's APIs, by lower-case user id.
    pub(super) user_roles: UserRoles,
    /// Authorization codes issued by the sign-in page, until they expire.
    pub(super) auth_codes: AuthCodes,
    /// Requests with an arrival sequence number, so a response can find its entry even
    /// after `clear_requests` or while other requests are in flight.
    pub(super) requests: Vec<(u64, RecordedRequest)>,
    pub(super) next_request_seq: u64,
    pub(super) outbox: Vec<Value>,
    pub(super) token_lifetime: u64,
    /// Client assertions already used, so a replayed one is refused.
    pub(super) seen_assertions: SeenAssertions,
    /// Graph access tokens handed out, so tests can look for them in logs.
    pub(super) issued_graph_tokens: Vec<String>,
    /// The adversary: injected faults, the invitation and write limits, replication lag,
    /// and the resets that really happened despite them.
    pub(super) faults: Option<ActiveFaults>,
    pub(super) invitation_bucket: SlidingWindow,
    /// The directory's write quota, a bucket per application.
    pub(super) write_limits: WriteLimits,
    pub(super) replication: Replication,
    /// How far the directory's clock is ahead of the real one (ms; negative: behind).
    pub(super) clock_offset_ms: i64,
    pub(super) applied_resets: Vec<AppliedReset>,
}

/// One object `transitiveMemberOf` reports.
pub(super) enum Membership<'a> {
    Group(&'a GroupSeed),
    Role(&'a DirectoryRoleSeed),
}

impl State {
    pub(super) fn from_seed(seed: Seed) -> State {
        let (users, sponsors) = sponsorship::take_sponsors(seed.users);
        let (users, user_roles) = user_roles::take_roles(users);
        State {
            tenant: seed.tenant,
            apps: seed.apps.into_iter().map(App::from_seed).collect(),
            users,
            groups: seed.groups,
            roles: seed.directory_roles,
            sponsors,
            user_roles,
            auth_codes: AuthCodes::default(),
            requests: Vec::new(),
            next_request_seq: 0,
            outbox: Vec::new(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            seen_assertions: SeenAssertions::default(),
            issued_graph_tokens: Vec::new(),
            faults: None,
            invitation_bucket: SlidingWindow::default(),
            write_limits: WriteLimits::default(),
            replication: Replication::default(),
            clock_offset_ms: 0,
            applied_resets: Vec::new(),
        }
    }

    /// Tenant by GUID or verified domain, both case-insensitive.
    pub(super) fn is_tenant(&self, key: &str) -> bool {
        self.tenant.id.eq_ignore_ascii_case(key) || self.tenant.domain.eq_ignore_ascii_case(key)
    }

    pub(super) fn app(&self, client_id: &str) -> Option<&App> {
        self.apps
            .iter()
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    }

    /// The API a token request's resource names: one of its App ID URIs or its client id.
    pub(super) fn api(&self, resource: &str) -> Option<&App> {
        self.apps.iter().filter(|a| a.is_api()).find(|a| {
            a.client_id.eq_ignore_ascii_case(resource)
                || a.identifier_uris
                    .iter()
                    .any(|u| u.eq_ignore_ascii_case(resource))
        })
    }

    pub(super) fn app_mut(&mut self, client_id: &str) -> Option<&mut App> {
        self.apps
            .iter_mut()
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    }

    /// A user by object id or userPrincipalName; Graph matches both case-insensitively.
    /// Ids and UPNs are ASCII (GUIDs; UPN characters are restricted to ASCII),
    /// so an allocation-free ASCII comparison is exact, and cheap enough for
    /// the load benchmark's tenant of thousands of guests.
    pub(super) fn user_index(&self, key: &str) -> Option<usize> {
        let same = |field: Option<&str>| field.is_some_and(|v| v.eq_ignore_ascii_case(key));
        self.users
            .iter()
            .position(|user| same(text(user, "id")) || same(text(user, "userPrincipalName")))
    }

    pub(super) fn user(&self, key: &str) -> Option<&Map<String, Value>> {
        self.user_index(key).and_then(|i| self.users.get(i))
    }

    /// Groups the object belongs to directly or through nested groups, then the directory
    /// roles held by the object or by any of those groups.
    pub(super) fn transitive_memberships(&self, object_id: &str) -> Vec<Membership<'_>> {
        let mut holders = vec![object_id.to_ascii_lowercase()];
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        while let Some(member) = holders.pop() {
            for group in self
                .groups
                .iter()
                .filter(|g| has_member(&g.members, &member))
            {
                if seen.insert(group.id.to_ascii_lowercase()) {
                    holders.push(group.id.to_ascii_lowercase());
                    found.push(Membership::Group(group));
                }
            }
        }
        let mut everyone: HashSet<String> = seen;
        everyone.insert(object_id.to_ascii_lowercase());
        for role in &self.roles {
            if role
                .members
                .iter()
                .any(|m| everyone.contains(&m.to_ascii_lowercase()))
            {
                found.push(Membership::Role(role));
            }
        }
        found
    }

    /// The user's app roles on `api`, in the API's definition order.
    pub(super) fn user_roles_on(&self, user_id: &str, api: &App) -> Vec<String> {
        user_roles::roles_on(&self.user_roles, user_id, &api.client_id, &api.app_roles)
    }

    pub(super) fn holds_directory_role(&self, object_id: &str) -> bool {
        let memberships = self.transitive_memberships(object_id);
        memberships.iter().any(|m| matches!(m, Membership::Role(_)))
    }

    /// Whether another object already uses `address` as mail or proxy address; Graph keeps
    /// proxyAddresses unique across users, groups and contacts (graph.md §2.1).
    pub(super) fn address_taken_by_other(&self, address: &str, except_user_id: &str) -> bool {
        let smtp = format!("smtp:{address}");
        let user_uses = |user: &Map<String, Value>| {
            text(user, "mail").is_some_and(|m| m.eq_ignore_ascii_case(address))
                || strings(user, "proxyAddresses").any(|p| p.eq_ignore_ascii_case(&smtp))
        };
        let is_self = |user: &&Map<String, Value>| {
            text(user, "id").is_some_and(|id| id.eq_ignore_ascii_case(except_user_id))
        };
        let group_uses = |g: &GroupSeed| {
            g.mail
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(address))
        };
        self.users.iter().filter(|u| !is_self(u)).any(user_uses)
            || self.groups.iter().any(group_uses)
    }
}

impl App {
    fn from_seed(seed: AppSeed) -> App {
        let service_principal_id = seed
            .service_principal_id
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let api_roles = seed
            .api_roles
            .into_iter()
            .map(|(api, roles)| (api.to_ascii_lowercase(), roles))
            .collect();
        let key_credentials = key_credentials::from_seeds(&seed.client_id, &seed.key_credentials);
        App {
            key_credentials,
            display_name: seed.display_name.unwrap_or_else(|| seed.client_id.clone()),
            client_id: seed.client_id,
            client_secret: seed.client_secret,
            roles: seed.roles,
            secret_expired: seed.secret_expired,
            service_principal_id,
            identifier_uris: seed.identifier_uris,
            app_roles: seed.app_roles.into_iter().map(|r| r.value).collect(),
            scopes: (seed.oauth2_permission_scopes.into_iter())
                .map(|s| s.value)
                .collect(),
            assignment_required: seed.app_role_assignment_required,
            api_roles,
            redirect_uris: seed.redirect_uris,
        }
    }

    pub(super) fn is_api(&self) -> bool {
        !self.app_roles.is_empty() || !self.identifier_uris.is_empty() || !self.scopes.is_empty()
    }

    /// The app roles this (client) app holds on `api`, in the API's definition order.
    pub(super) fn roles_on(&self, api: &App) -> Vec<String> {
        let granted = self.api_roles.get(&api.client_id.to_ascii_lowercase());
        let granted = granted.map(Vec::as_slice).unwrap_or_default();
        api.app_roles
            .iter()
            .filter(|r| granted.contains(r))
            .cloned()
            .collect()
    }
}

fn has_member(members: &[String], id: &str) -> bool {
    members.iter().any(|m| m.eq_ignore_ascii_case(id))
}

/// A string property of a Graph-shaped object.
pub(super) fn text<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

/// The string items of a collection property (absent or non-array: none).
pub(super) fn strings<'a>(
    object: &'a Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a str> + Clone {
    object
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// The addresses an invitation may be sent to for this user: `mail` and `otherMails`.
pub(super) fn user_emails(user: &Map<String, Value>) -> impl Iterator<Item = &str> {
    text(user, "mail")
        .into_iter()
        .chain(strings(user, "otherMails"))
}
