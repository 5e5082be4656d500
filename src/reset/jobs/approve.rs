//! Approving a job as a whole (`[jobs] approval` in the policy): the job
//! waits in `awaiting_approval` with its items queued but held; distinct
//! approvers the policy names (never its submitter) approve it once, with
//! its summary (`GET /v1/jobs/{id}`, the dry run) in view; one denial, or
//! the clock, ends it and cancels its items.

use serde::{Deserialize, Serialize};

use super::{JobError, JobView};
use crate::auth::Identity;
use crate::reset::ResetService;

/// The approval a job needs and what was decided (JSON in `jobs.approval`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobApprovalRecord {
    /// Distinct approvals needed.
    pub count: u32,
    pub expires_at: String,
    pub decisions: Vec<JobDecision>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobDecision {
    pub issuer: String,
    pub subject: String,
    pub name: Option<String>,
    /// `approved` or `denied`.
    pub verdict: String,
    pub comment: Option<String>,
    pub at: String,
}

impl JobApprovalRecord {
    /// What a new job needs under `policy`, if anything.
    pub(super) fn required(policy: &crate::policy::Policy) -> Option<JobApprovalRecord> {
        let rule = policy.job_approval.as_ref()?;
        let hours = time::Duration::hours(i64::from(rule.expires_hours));
        let expires = time::OffsetDateTime::now_utc() + hours;
        Some(JobApprovalRecord {
            count: rule.count,
            expires_at: crate::record::format_timestamp(expires),
            decisions: Vec::new(),
        })
    }

    pub(super) fn expired(&self) -> bool {
        crate::record::parse_timestamp(&self.expires_at)
            .is_some_and(|t| t < time::OffsetDateTime::now_utc())
    }

    fn approvals(&self) -> u32 {
        let n = self
            .decisions
            .iter()
            .filter(|d| d.verdict == "approved")
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

impl ResetService {
    /// Approve (`approve` true) or deny a job awaiting approval; the job
    /// as it is afterwards.
    pub async fn rule_job(
        &self,
        caller: &Identity,
        id: &str,
        approve: bool,
        comment: Option<String>,
    ) -> Result<JobView, JobError> {
        let job = self.job(caller, id).await?;
        let mut record = match (job.state.as_str(), job.approval_record()) {
            ("awaiting_approval", Some(record)) => record,
            _ => return Err(JobError::AlreadyDecided(job.state)),
        };
        self.may_rule(caller, &job, &record)?;
        let comment = comment
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if !approve && comment.is_none() {
            let why = "comment: a denial says why (1 to 1000 characters)";
            return Err(JobError::Invalid {
                line: None,
                detail: why.into(),
            });
        }
        record.decisions.push(decision(caller, approve, comment));
        let to = match (approve, record.approvals() >= record.count) {
            (false, _) => "denied",
            (true, true) => "running",
            (true, false) => "awaiting_approval",
        };
        let json = serde_json::to_string(&record).unwrap_or_default();
        if !self.store.decide_job(id, to, json).await? {
            return Err(JobError::AlreadyDecided("decided".into()));
        }
        tracing::info!(job_id = %id, to, approver = %caller.subject, "job approval decided");
        self.job(caller, id).await
    }

    fn may_rule(
        &self,
        caller: &Identity,
        job: &JobView,
        record: &JobApprovalRecord,
    ) -> Result<(), JobError> {
        if job.requested_by == caller.subject && job.issuer == caller.issuer {
            return Err(JobError::SelfApproval);
        }
        let named = (self.policy().job_approval.as_ref())
            .is_some_and(|rule| rule.names(&caller.policy_caller()));
        if !named {
            return Err(JobError::NotAnApprover);
        }
        let again = record
            .decisions
            .iter()
            .any(|d| d.subject == caller.subject && d.issuer == caller.issuer);
        match again {
            true => Err(JobError::AlreadyDecided("approved by you".into())),
            false => Ok(()),
        }
    }

    /// Whether the policy names `caller` among the approvers of jobs.
    pub(super) fn approves_jobs(&self, caller: &Identity) -> bool {
        (self.policy().job_approval.as_ref())
            .is_some_and(|rule| rule.names(&caller.policy_caller()))
    }
}

fn decision(caller: &Identity, approve: bool, comment: Option<String>) -> JobDecision {
    JobDecision {
        issuer: caller.issuer.clone(),
        subject: caller.subject.clone(),
        name: caller.name.clone(),
        verdict: if approve { "approved" } else { "denied" }.into(),
        comment: comment.map(|c| c.chars().take(1000).collect()),
        at: crate::record::now_rfc3339(),
    }
}
