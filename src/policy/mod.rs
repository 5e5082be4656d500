//! The allow-list policy: pure, no I/O. It answers two questions from facts
//! fetched beforehand: what may this caller do (permissions, from `[[grant]]`
//! tables), and may this reset happen (named `[[rule]]`s, deny by default,
//! explicit deny rules win, global protections no rule can lift).

mod approval;
mod decide;
mod file;
mod jobs;
mod matchers;
mod question;
mod reach;
mod summary;
mod tenants;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub use approval::{ApprovalRule, ApprovalWhen, ApproverRule, Requirement};
pub use jobs::JobApproval;
pub use matchers::{CallerMatch, DomainPattern, RedirectRule};
pub use question::{Ask, Caller, Decision, Denial, History, Question, Target};
pub use reach::Reach;
pub use tenants::{Scope, TenantRef, TenantSet};

/// What a caller may do with the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
pub enum Permission {
    #[serde(rename = "resets:create")]
    ResetsCreate,
    #[serde(rename = "resets:read:own")]
    ResetsReadOwn,
    #[serde(rename = "resets:read:all")]
    ResetsReadAll,
    /// May receive the invitation redeem URL (a credential) when no
    /// invitation email is sent.
    #[serde(rename = "resets:redeem-url")]
    ResetsRedeemUrl,
    /// May name the person a request is made for (`on_behalf_of`): a
    /// portal calling with its own app token.
    #[serde(rename = "resets:act-for-agents")]
    ResetsActForAgents,
    /// May submit bulk jobs (each item is still a reset the policy decides).
    #[serde(rename = "jobs:create")]
    JobsCreate,
    /// May read the whole audit trail (events and checkpoints of every
    /// tenant: only a grant without `tenants` gives it).
    #[serde(rename = "audit:read")]
    AuditRead,
    /// May look guests up (`GET /v1/guests`): names, addresses, sponsors,
    /// and whether the caller's rules reach them.
    #[serde(rename = "guests:read")]
    GuestsRead,
    /// May reload the policy.
    #[serde(rename = "admin")]
    Admin,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ResetsCreate => "resets:create",
            Permission::ResetsReadOwn => "resets:read:own",
            Permission::ResetsReadAll => "resets:read:all",
            Permission::ResetsRedeemUrl => "resets:redeem-url",
            Permission::ResetsActForAgents => "resets:act-for-agents",
            Permission::JobsCreate => "jobs:create",
            Permission::AuditRead => "audit:read",
            Permission::GuestsRead => "guests:read",
            Permission::Admin => "admin",
        }
    }
}

/// Whether a rule allows or denies what it selects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    #[default]
    Allow,
    Deny,
}

/// Whom a quota counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QuotaPer {
    /// The calling identity (a portal's app token: every agent behind it).
    #[default]
    Caller,
    /// The person: the agent when the request names one, else the caller.
    Agent,
}

/// What a rule says about the invitation email.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageRule {
    #[default]
    May,
    Must,
    MustNot,
}

/// Permissions for the callers a matcher selects.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub caller: CallerMatch,
    pub permissions: Vec<Permission>,
    /// Where the permissions hold (every tenant when empty).
    pub tenants: TenantSet,
}

/// Users and groups no rule can make resettable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProtectedLists {
    /// Object ids, UPNs or emails (lowercased).
    pub users: Vec<String>,
    /// Group object ids (lowercased); membership is transitive.
    pub groups: Vec<String>,
}

/// The protected lists in every tenant, and those of one tenant only
/// (keyed by lower-cased tenant name or id): a UPN or email means a
/// different person in another tenant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Protections {
    pub global: ProtectedLists,
    pub tenants: std::collections::BTreeMap<String, ProtectedLists>,
}

/// One named rule (see docs/policy.md for every field).
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub description: Option<String>,
    pub effect: Effect,
    pub caller: Option<CallerMatch>,
    /// The tenants whose guests the rule is about (every tenant when empty).
    pub tenants: TenantSet,
    pub target_domains: Vec<DomainPattern>,
    pub target_groups: Vec<String>,
    pub new_email_domains: Vec<DomainPattern>,
    pub allow_email_change: bool,
    pub allow_other_mails_write: bool,
    pub redirect: RedirectRule,
    pub invitation_message: MessageRule,
    pub ticket_pattern: Option<regex::Regex>,
    pub min_reason_length: usize,
    pub max_resets_per_hour: Option<u32>,
    /// Whom `max_resets_per_hour` counts: the caller, or the agent behind it.
    pub quota_per: QuotaPer,
    pub cooldown_hours: Option<u32>,
    pub allow_cooldown_override: bool,
    /// A second person must approve (when its conditions hold).
    pub approval: Option<ApprovalRule>,
    /// The largest bulk job whose items the rule allows; `None`: job items
    /// never match it. For job items it replaces `max_resets_per_hour`.
    pub max_job_items: Option<u32>,
}

/// A compiled policy and the version (hash) of the text it came from.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub version: String,
    pub protections: Protections,
    pub grants: Vec<Grant>,
    pub rules: Vec<Rule>,
    /// `[jobs] approval`: every bulk job waits for it as a whole.
    pub job_approval: Option<JobApproval>,
}

/// Errors loading a policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid policy {path}{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Invalid {
        path: String,
        line: Option<usize>,
        message: String,
    },
}

impl Policy {
    /// The largest `max_resets_per_hour` of any rule (0: no rule has one):
    /// how many of a caller's recent resets a decision needs to see.
    pub fn max_quota(&self) -> u32 {
        self.rules
            .iter()
            .filter_map(|r| r.max_resets_per_hour)
            .max()
            .unwrap_or(0)
    }

    /// Parse TOML; `origin` names the source in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let parsed = file::parse(text).map_err(|e| PolicyError::Invalid {
            path: origin.to_owned(),
            line: e.line,
            message: e.message,
        })?;
        Ok(Policy {
            version: version_of(text),
            protections: parsed.protections,
            grants: parsed.grants,
            rules: parsed.rules,
            job_approval: parsed.job_approval,
        })
    }

    pub fn load(path: &std::path::Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Policy::parse(&text, &path.display().to_string())
    }

    /// Every permission the grants give this caller.
    pub fn permissions(&self, caller: &Caller<'_>) -> BTreeSet<Permission> {
        self.grants
            .iter()
            .filter(|g| g.caller.matches(caller))
            .flat_map(|g| g.permissions.iter().copied())
            .collect()
    }

    /// The rules whose caller selector covers this caller (what `whoami` shows).
    pub fn rules_for<'p>(&'p self, caller: &Caller<'_>) -> impl Iterator<Item = &'p Rule> {
        self.rules
            .iter()
            .filter(|r| r.caller.as_ref().is_none_or(|m| m.matches(caller)))
    }

    /// A human summary, for `check-policy`.
    pub fn summary(&self) -> String {
        summary::render(self)
    }
}

/// `sha256:` and the first 16 hex digits of the text's SHA-256: enough to tell
/// versions apart in the audit log, short enough to read.
fn version_of(text: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    let hex: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}
