//! Whether a caller's rules reach a guest at all, before anything is asked:
//! what a guest lookup shows ("outside your rules") so a helpdesk is not
//! led to a form the policy will refuse whatever it says.

use super::decide::target_ok;
use super::{Caller, Effect, Policy, Target};

/// What the policy says about one guest for one caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reach {
    /// A protection no rule overrides (not a guest, a directory role, a
    /// protected user or group), in words.
    pub blocked: Option<String>,
    /// The allow rules for this caller that cover the guest's tenant and
    /// the guest (by domain or group); a reset still needs the request to
    /// meet one of them.
    pub rules: Vec<String>,
}

impl Reach {
    /// Some rule could allow a reset of this guest.
    pub fn within_rules(&self) -> bool {
        self.blocked.is_none() && !self.rules.is_empty()
    }
}

impl Policy {
    /// How far `caller`'s rules reach `target`.
    pub fn reach(&self, caller: &Caller<'_>, target: &Target<'_>) -> Reach {
        let rules = self
            .rules
            .iter()
            .filter(|r| r.effect == Effect::Allow)
            .filter(|r| r.caller.as_ref().is_none_or(|m| m.matches(caller)))
            .filter(|r| r.tenants.covers(&target.tenant) && target_ok(r, target))
            .map(|r| r.name.clone())
            .collect();
        Reach {
            blocked: self.protection_of(target).map(|(_, why)| why),
            rules,
        }
    }
}
