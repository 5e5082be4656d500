//! What a reset's approval looks like in its record: what the policy
//! required, who may approve, until when, and every decision. A JSON column;
//! the API shows it as `approval`.

use serde::{Deserialize, Serialize};

/// Who may approve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Approvers {
    /// Callers the rule's matcher selects (roles, groups, subjects...).
    Callers { caller: crate::policy::CallerMatch },
    /// The guest's sponsors when the request was made: users, and the
    /// users among the transitive members of sponsor groups (object ids).
    Sponsors { object_ids: Vec<String> },
}

/// One approver's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approved,
    Denied,
}

/// Who decided: from their (delegated) token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approver {
    pub issuer: String,
    pub subject: String,
    pub object_id: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub approver: Approver,
    pub verdict: Verdict,
    pub comment: Option<String>,
    /// RFC 3339.
    pub at: String,
    /// The policy in force when the decision was taken.
    pub policy_version: String,
}

/// The approval a reset needs, and what happened to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// The rule that asked for it, and why (e.g. the new domain).
    pub rule: String,
    pub reason: String,
    pub approvers: Approvers,
    /// Distinct approvers needed.
    pub count: u32,
    /// An awaiting reset not approved by then expires.
    pub expires_at: String,
    /// How long an approved reset may wait to run (hours).
    pub run_within_hours: u32,
    /// Once approved: it must run before this, or it expires.
    #[serde(default)]
    pub run_by: Option<String>,
    #[serde(default)]
    pub decisions: Vec<Decision>,
}

impl ApprovalRecord {
    /// Distinct approvers who approved (the same person twice counts once).
    pub fn approvals(&self) -> u32 {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for d in self
            .decisions
            .iter()
            .filter(|d| d.verdict == Verdict::Approved)
        {
            let who = (d.approver.issuer.as_str(), d.approver.subject.as_str());
            if !seen.contains(&who) {
                seen.push(who);
            }
        }
        u32::try_from(seen.len()).unwrap_or(u32::MAX)
    }

    pub fn is_approved(&self) -> bool {
        self.approvals() >= self.count
    }
}
