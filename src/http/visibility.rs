//! Which resets a caller may read: `resets:read:all` shows every row of the
//! tenants where the grants give it, `resets:read:own` the caller's own rows
//! there. Rows of other tenants are "not found", never "forbidden", so a
//! helpdesk of one customer cannot even learn another's reset ids.

use super::AppState;
use super::auth::Caller;
use super::problem::Problem;
use crate::policy::{Permission, Scope, TenantRef};
use crate::record::ResetRecord;
use crate::store::Visible;
use crate::tenants::Tenants;

/// Where a caller reads: every row in `all`, its own rows in `own`.
pub(super) struct ReadScope {
    all: Scope,
    own: Scope,
}

impl ReadScope {
    pub(super) fn of(state: &AppState, caller: &Caller) -> ReadScope {
        let policy = state.resets.policy();
        let who = caller.identity.policy_caller();
        let tenants = state.resets.tenants();
        let all = expand(policy.scope(&who, Permission::ResetsReadAll), tenants);
        let own = expand(policy.scope(&who, Permission::ResetsReadOwn), tenants);
        ReadScope {
            own: own.union(all.clone()),
            all,
        }
    }

    /// The same rule as a store filter.
    pub(super) fn visible(&self, caller: &Caller) -> Option<Visible> {
        let list = |s: &Scope| match s {
            Scope::All => None,
            Scope::Only(set) => Some(set.iter().cloned().collect()),
        };
        if self.all == Scope::All {
            return None;
        }
        Some(Visible {
            all_in: list(&self.all),
            own_in: list(&self.own),
            issuer: caller.identity.issuer.clone(),
            subject: caller.identity.subject.clone(),
        })
    }

    pub(super) fn may_read(&self, caller: &Caller, record: &ResetRecord) -> bool {
        let tenant = TenantRef {
            name: &record.tenant,
            id: record.tenant_id.as_deref(),
        };
        let by = &record.requested_by;
        let own = by.subject == caller.identity.subject
            && by.issuer.as_deref() == Some(caller.identity.issuer.as_str());
        self.all.covers(&tenant) || (own && self.own.covers(&tenant))
    }
}

/// A configured tenant named in a scope by name or by id is named by both:
/// rows written before tenants existed know only the name `default`, and a
/// grant may name the tenant by its directory id.
fn expand(scope: Scope, tenants: &Tenants) -> Scope {
    let Scope::Only(mut named) = scope else {
        return Scope::All;
    };
    for t in tenants.iter() {
        let (name, id) = (t.name.to_lowercase(), t.id.to_lowercase());
        if named.contains(&name) || named.contains(&id) {
            named.extend([name, id]);
        }
    }
    Scope::Only(named)
}

pub(super) fn require_read(caller: &Caller) -> Result<(), Problem> {
    match caller.has(Permission::ResetsReadAll) {
        true => Ok(()),
        false => caller.require(Permission::ResetsReadOwn),
    }
}
