//! Jobs in the policy: `[jobs] approval = { approvers = { ... }, count,
//! expires_hours }` makes every bulk job wait for people (not the one who
//! submitted it) to approve it as a whole, with its summary in view, before
//! any item runs. A bulk move to an attacker's domain is the account
//! takeover at scale; one decision per job keeps the second pair of eyes
//! practical for thousands of guests.

use serde::Deserialize;

use super::Caller;
use super::matchers::CallerMatch;

/// `[jobs]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JobsFile {
    #[serde(default)]
    approval: Option<JobApprovalFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobApprovalFile {
    approvers: CallerMatch,
    #[serde(default)]
    count: Option<u32>,
    #[serde(default)]
    expires_hours: Option<u32>,
}

/// The approval every job needs, when the policy asks for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobApproval {
    pub approvers: CallerMatch,
    /// Distinct approvers needed (1 to 5).
    pub count: u32,
    /// After this long without enough approvals the job expires.
    pub expires_hours: u32,
}

impl JobApproval {
    /// Whether `caller` is one of the approvers (their own job aside).
    pub fn names(&self, caller: &Caller<'_>) -> bool {
        self.approvers.matches(caller)
    }
}

impl JobsFile {
    pub(super) fn compile(self) -> Result<Option<JobApproval>, String> {
        let Some(a) = self.approval else {
            return Ok(None);
        };
        a.approvers.check()?;
        let count = a.count.unwrap_or(1);
        if !(1..=5).contains(&count) {
            return Err("jobs.approval.count must be from 1 to 5".into());
        }
        let expires_hours = a.expires_hours.unwrap_or(24);
        if !(1..=720).contains(&expires_hours) {
            return Err("jobs.approval.expires_hours must be from 1 to 720".into());
        }
        Ok(Some(JobApproval {
            approvers: a.approvers,
            count,
            expires_hours,
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::Policy;

    #[test]
    fn jobs_approval_is_compiled_and_checked() {
        let ok = "[jobs]\napproval = { approvers = { roles = ['Board'] }, count = 2 }\n";
        let approval = Policy::parse(ok, "t").unwrap().job_approval.unwrap();
        assert_eq!((approval.count, approval.expires_hours), (2, 24));
        assert!(Policy::parse("", "t").unwrap().job_approval.is_none());
        let bad = "\n[jobs]\napproval = { approvers = { roles = ['Board'] }, count = 0 }\n";
        let e = Policy::parse(bad, "t").unwrap_err().to_string();
        assert!(e.contains("count") && e.contains("line 3"), "{e}");
        let typo = "[jobs]\napprovals = {}\n";
        assert!(Policy::parse(typo, "t").is_err());
    }
}
