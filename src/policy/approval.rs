//! Approval in the policy: an allow rule may require a second person,
//! always, only when the new email's domain differs from the current one
//! (the account-takeover case), or when a cooldown is overridden. Pure: the
//! use case resolves sponsors and counts decisions.

use serde::Deserialize;

use super::matchers::{CallerMatch, domain};
use super::{Question, Rule};

/// When a rule's approval applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalWhen {
    Always,
    /// The new email's domain differs from the guest's current mail's.
    NewDomain,
    /// The request overrides the rule's cooldown.
    CooldownOverride,
}

/// Who may approve, as the policy says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApproverRule {
    Callers(CallerMatch),
    /// The guest's sponsors (a sponsor group: its users, transitively).
    Sponsors,
}

/// A rule's `approval = { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRule {
    pub when: Vec<ApprovalWhen>,
    pub approvers: ApproverRule,
    pub count: u32,
    pub expires_hours: u32,
    pub run_within_hours: u32,
}

/// What the decision asks for before the reset may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub rule: String,
    pub reason: String,
    pub approvers: ApproverRule,
    pub count: u32,
    pub expires_hours: u32,
    pub run_within_hours: u32,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ApproversFile {
    Named(String),
    Callers(CallerMatch),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum WhenFile {
    One(ApprovalWhen),
    Many(Vec<ApprovalWhen>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ApprovalFile {
    #[serde(default)]
    when: Option<WhenFile>,
    approvers: ApproversFile,
    #[serde(default)]
    count: Option<u32>,
    #[serde(default)]
    expires_hours: Option<u32>,
    #[serde(default)]
    run_within_hours: Option<u32>,
}

impl ApprovalFile {
    pub(super) fn compile(self) -> Result<ApprovalRule, String> {
        let approvers = match self.approvers {
            ApproversFile::Named(n) if n == "sponsors" => ApproverRule::Sponsors,
            ApproversFile::Named(n) => {
                return Err(format!(
                    "approval.approvers {n:?}: \"sponsors\" or a caller matcher like {{ roles = [...] }}"
                ));
            }
            ApproversFile::Callers(m) => {
                m.check().map_err(|e| format!("approval.approvers: {e}"))?;
                ApproverRule::Callers(m)
            }
        };
        let when = match self.when {
            None => vec![ApprovalWhen::Always],
            Some(WhenFile::One(w)) => vec![w],
            Some(WhenFile::Many(list)) if list.is_empty() => {
                return Err("approval.when = [] never applies; leave it out for \"always\"".into());
            }
            Some(WhenFile::Many(list)) => list,
        };
        let bounded =
            |v: Option<u32>, default: u32, max: u32, name: &str| match v.unwrap_or(default) {
                n if (1..=max).contains(&n) => Ok(n),
                _ => Err(format!("approval.{name} must be between 1 and {max}")),
            };
        Ok(ApprovalRule {
            when,
            approvers,
            count: bounded(self.count, 1, 10, "count")?,
            expires_hours: bounded(self.expires_hours, 24, 720, "expires_hours")?,
            run_within_hours: bounded(self.run_within_hours, 1, 168, "run_within_hours")?,
        })
    }
}

/// The approval `rule` asks for in question `q`, unless `q` already has
/// enough approvals.
pub(super) fn requirement(rule: &Rule, q: &Question<'_>) -> Option<Requirement> {
    let approval = rule.approval.as_ref()?;
    let reason = approval.when.iter().find_map(|w| applies(*w, rule, q))?;
    (q.ask.approvals < approval.count).then(|| Requirement {
        rule: rule.name.clone(),
        reason,
        approvers: approval.approvers.clone(),
        count: approval.count,
        expires_hours: approval.expires_hours,
        run_within_hours: approval.run_within_hours,
    })
}

fn applies(when: ApprovalWhen, rule: &Rule, q: &Question<'_>) -> Option<String> {
    match when {
        ApprovalWhen::Always => Some(format!("rule {:?} always requires approval", rule.name)),
        ApprovalWhen::NewDomain => {
            let new = domain(q.ask.new_email);
            let old = q.target.mail.map(domain);
            (old.as_deref() != Some(new.as_str())).then(|| {
                let old = old.unwrap_or_else(|| "(no mail)".into());
                format!("the new email's domain {new} differs from the current {old}")
            })
        }
        ApprovalWhen::CooldownOverride => {
            let hours = rule.cooldown_hours?;
            let last = q.history.target_last_reset?;
            let within = last + time::Duration::hours(i64::from(hours)) > q.now;
            (q.ask.override_cooldown && within)
                .then(|| "the request overrides the guest's cooldown".to_owned())
        }
    }
}
