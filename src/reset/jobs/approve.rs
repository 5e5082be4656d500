//! Approving a job as a whole (`[jobs] approval` in the policy): the job
//! waits in `awaiting_approval` with its items queued but held; distinct
//! approvers the policy names (never its submitter) approve it once, with
//! its summary (`GET /v1/jobs/{id}`, the dry run) in view; one denial, or
//! the clock, ends it and cancels its items.

use serde::{Deserialize, Serialize};

use super::{JobError, JobView};
use crate::auth::Identity;
use crate::record::{ApprovalDecision, ApprovalVerdict};
use crate::reset::{ResetService, Ruling};

/// The approval a job needs and what was decided (JSON in `jobs.approval`);
/// decisions are recorded as a reset's are.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobApprovalRecord {
    /// Distinct approvals needed.
    pub count: u32,
    pub expires_at: String,
    pub decisions: Vec<ApprovalDecision>,
}

impl JobApprovalRecord {
    /// What a new job needs under `policy`, if anything.
    pub(super) fn required(policy: &crate::policy::Policy) -> Option<JobApprovalRecord> {
        let rule = policy.job_approval.as_ref()?;
        Some(JobApprovalRecord {
            count: rule.count,
            expires_at: crate::reset::approvals::expiry(rule.expires_hours),
            decisions: Vec::new(),
        })
    }

    pub(super) fn expired(&self) -> bool {
        crate::record::parse_timestamp(&self.expires_at)
            .is_some_and(|t| t < time::OffsetDateTime::now_utc())
    }

    fn approvals(&self) -> u32 {
        let approved = |d: &&ApprovalDecision| d.verdict == ApprovalVerdict::Approved;
        u32::try_from(self.decisions.iter().filter(approved).count()).unwrap_or(u32::MAX)
    }
}

impl ResetService {
    /// Approve or deny a job awaiting approval; the job as it is afterwards.
    pub async fn rule_job(
        &self,
        caller: &Identity,
        id: &str,
        ruling: Ruling,
    ) -> Result<JobView, JobError> {
        let job = self.job(caller, id).await?;
        let mut record = match (job.state.as_str(), job.approval_record()) {
            ("awaiting_approval", Some(record)) => record,
            _ => return Err(JobError::AlreadyDecided(job.state)),
        };
        self.may_rule(caller, &job, &record)?;
        record.decisions.push(self.decision(caller, &ruling)?);
        let to = match (ruling.verdict, record.approvals() >= record.count) {
            (ApprovalVerdict::Denied, _) => "denied",
            (ApprovalVerdict::Approved, true) => "running",
            (ApprovalVerdict::Approved, false) => "awaiting_approval",
        };
        let json = serde_json::to_string(&record).unwrap_or_default();
        let actor = crate::reset::intent::actor(caller);
        if !self.store.decide_job(id, to, json, actor).await? {
            return Err(JobError::AlreadyDecided("decided".into()));
        }
        tracing::info!(job_id = %id, to, approver = %caller.subject, "job approval decided");
        if to == "running" {
            self.wake_jobs();
        }
        self.job(caller, id).await
    }

    /// Among the approvers the policy names, not the submitter (by token or
    /// by person), and not twice.
    fn may_rule(
        &self,
        caller: &Identity,
        job: &JobView,
        record: &JobApprovalRecord,
    ) -> Result<(), JobError> {
        let same_person = (caller.object_id.as_deref())
            .zip(job.creator.object_id.as_deref())
            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b));
        if super::is_creator(caller, job) || same_person {
            return Err(JobError::SelfApproval);
        }
        if !self.approves_jobs(caller) {
            return Err(JobError::NotAnApprover);
        }
        let again = record
            .decisions
            .iter()
            .any(|d| d.approver.subject == caller.subject && d.approver.issuer == caller.issuer);
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
