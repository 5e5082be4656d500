//! Which tenants a grant, rule or protection covers, and where a caller
//! holds a permission. A list names tenants by their configured name or by
//! their directory id; no list means every tenant (a single-tenant policy
//! needs none).

use std::collections::BTreeSet;

use super::{Caller, Permission, Policy, ProtectedLists};

/// The tenants a grant, rule or protection applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantSet(Vec<String>);

impl TenantSet {
    /// Lower-cased names or ids; empty: every tenant.
    pub fn new(list: Vec<String>) -> TenantSet {
        TenantSet(list.into_iter().map(|t| t.trim().to_lowercase()).collect())
    }

    pub fn is_all(&self) -> bool {
        self.0.is_empty()
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    pub fn covers(&self, tenant: &TenantRef<'_>) -> bool {
        self.is_all() || self.0.iter().any(|t| tenant.is(t))
    }
}

/// A tenant as a decision sees it: its name and directory id.
#[derive(Debug, Clone, Copy)]
pub struct TenantRef<'a> {
    pub name: &'a str,
    pub id: Option<&'a str>,
}

impl TenantRef<'_> {
    fn is(&self, wanted: &str) -> bool {
        self.name.eq_ignore_ascii_case(wanted)
            || self.id.is_some_and(|id| id.eq_ignore_ascii_case(wanted))
    }
}

/// Where a caller holds one permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// In every tenant, including ones no longer configured.
    All,
    /// Only in these (lower-cased names or ids); empty: nowhere.
    Only(BTreeSet<String>),
}

impl Scope {
    pub fn covers(&self, tenant: &TenantRef<'_>) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(list) => list.iter().any(|t| tenant.is(t)),
        }
    }

    pub fn is_nowhere(&self) -> bool {
        matches!(self, Scope::Only(list) if list.is_empty())
    }

    /// Both scopes together.
    pub fn union(self, other: Scope) -> Scope {
        match (self, other) {
            (Scope::Only(mut a), Scope::Only(b)) => {
                a.extend(b);
                Scope::Only(a)
            }
            _ => Scope::All,
        }
    }
}

impl Policy {
    /// The tenants in which the grants give `caller` the permission `p`.
    pub fn scope(&self, caller: &Caller<'_>, p: Permission) -> Scope {
        let grants = self
            .grants
            .iter()
            .filter(|g| g.permissions.contains(&p) && g.caller.matches(caller));
        let mut only = BTreeSet::new();
        for grant in grants {
            if grant.tenants.is_all() {
                return Scope::All;
            }
            only.extend(grant.tenants.names().iter().cloned());
        }
        Scope::Only(only)
    }

    /// Every tenant name or id the policy mentions (grants, rules,
    /// protections), lower-cased.
    pub fn tenant_names(&self) -> BTreeSet<String> {
        let grants = self.grants.iter().flat_map(|g| g.tenants.names());
        let rules = self.rules.iter().flat_map(|r| r.tenants.names());
        let protected = self.protections.tenants.keys();
        grants.chain(rules).chain(protected).cloned().collect()
    }

    /// The protected lists that apply in `tenant`: the global ones and the
    /// tenant's own.
    pub(super) fn protected_in<'p>(
        &'p self,
        tenant: &TenantRef<'_>,
    ) -> impl Iterator<Item = &'p ProtectedLists> {
        let own = self
            .protections
            .tenants
            .iter()
            .filter(|(name, _)| tenant.is(name))
            .map(|(_, lists)| lists);
        std::iter::once(&self.protections.global).chain(own)
    }
}
