//! Bulk jobs: many resets asked for at once. A job is planned whole (every
//! item validated, a domain move listed from Graph) and written with all its
//! items in one transaction; each item is then an ordinary queued reset with
//! its own audit row, run by the queue workers after any single reset, as
//! bulk work (`x-ms-throttle-priority: Low`, leaving budget slots for single
//! resets). Pause, resume and cancel act on the queued items only.

mod approve;
mod csv;
mod dry_run;
mod input;
mod plan;
mod view;

pub use approve::JobApprovalRecord;
pub use csv::record as csv_record;
pub use dry_run::{DryItem, DryRun};
pub use input::{ItemInput, JobInput, JobSubmission, from_csv, from_json};
pub use plan::item_request;
pub use view::JobView;

use crate::auth::Identity;
use crate::policy::Permission;
use crate::record::{ResetRecord, Status};
use crate::store::StoreError;

use super::{ResetError, ResetService};

/// Errors of the jobs API.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The job's file or body: `line` is the CSV line or JSON item number.
    #[error("{detail}")]
    Invalid { line: Option<usize>, detail: String },
    #[error("no job {0} that you may see")]
    NotFound(String),
    #[error("job {id} is {state}: it can no longer be paused, resumed or cancelled")]
    Finished { id: String, state: String },
    #[error(
        "job {0} awaits approval: it runs once approved (or cancel it); until then there is nothing to pause or resume"
    )]
    AwaitingApproval(String),
    #[error("you are not among the approvers of jobs (the policy's [jobs] approval)")]
    NotAnApprover,
    #[error("nobody approves a job they submitted")]
    SelfApproval,
    #[error("the job is no longer awaiting this approval ({0})")]
    AlreadyDecided(String),
    #[error("only the job's creator or an admin may pause, resume or cancel it")]
    NotYours,
    /// A step the items share with single resets (tenant, Graph, policy).
    #[error(transparent)]
    Reset(#[from] ResetError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an operator does to a running job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Pause,
    Resume,
    Cancel,
}

impl ResetService {
    /// The most items a job may have (`GUEST_RESET_JOB_MAX_ITEMS`).
    pub fn job_max_items(&self) -> usize {
        self.defaults.job_max_items
    }

    /// The job, if the caller may see it: its creator, or anyone with
    /// `resets:read:all` or `admin`.
    pub async fn job(&self, caller: &Identity, id: &str) -> Result<JobView, JobError> {
        let missing = || JobError::NotFound(id.to_owned());
        let stored = self.store.job(id).await?.ok_or_else(missing)?;
        let view = self.view(stored).await?;
        match self.may_see_job(caller, &view) {
            true => Ok(view),
            false => Err(missing()),
        }
    }

    /// The newest jobs the caller may see.
    pub async fn jobs(&self, caller: &Identity) -> Result<Vec<JobView>, JobError> {
        // Approvers of jobs see every job, to find the ones awaiting them.
        let everyone = self.sees_all_jobs(caller) || self.approves_jobs(caller);
        let mine = (!everyone).then_some(caller.subject.as_str());
        let stored = self.store.jobs(mine, 100).await?;
        let mut out = Vec::with_capacity(stored.len());
        for job in stored {
            let view = self.view(job).await?;
            if self.may_see_job(caller, &view) {
                out.push(view);
            }
        }
        Ok(out)
    }

    /// The job's items after item `after`, optionally in one state.
    pub async fn job_items(
        &self,
        caller: &Identity,
        id: &str,
        status: Option<Status>,
        after: u32,
        limit: u32,
    ) -> Result<Vec<ResetRecord>, JobError> {
        self.job(caller, id).await?;
        Ok(self.store.job_items(id, status, after, limit).await?)
    }

    /// Pause, resume or cancel; the job as it is afterwards.
    pub async fn control_job(
        &self,
        caller: &Identity,
        id: &str,
        control: Control,
    ) -> Result<JobView, JobError> {
        let job = self.job(caller, id).await?;
        let admin = self.holds(caller, Permission::Admin);
        if !is_creator(caller, &job) && !admin {
            return Err(JobError::NotYours);
        }
        // Finished is not stored: nothing is left to pause or cancel.
        if job.is_over() {
            return Err(JobError::Finished {
                id: id.to_owned(),
                state: job.state,
            });
        }
        if job.state == "awaiting_approval" && control != Control::Cancel {
            return Err(JobError::AwaitingApproval(id.to_owned()));
        }
        let actor = super::intent::actor(caller);
        let moved = match control {
            Control::Pause => {
                self.store
                    .move_job(id, &["running"], "paused", actor)
                    .await?
            }
            Control::Resume => {
                self.store
                    .move_job(id, &["paused"], "running", actor)
                    .await?
            }
            Control::Cancel => {
                // Queued items end as cancelled: a move the lifecycle allows.
                debug_assert!(super::lifecycle::may_move(
                    Some(Status::Queued),
                    Status::Cancelled
                ));
                self.store.cancel_job(id, actor).await?.is_some()
            }
        };
        if moved && control == Control::Resume {
            self.wake_jobs();
        }
        let after = self.job(caller, id).await?;
        let idempotent = matches!(
            (control, after.state.as_str()),
            (Control::Pause, "paused") | (Control::Resume, "running")
        );
        match moved || idempotent {
            true => Ok(after),
            false => Err(JobError::Finished {
                id: id.to_owned(),
                state: after.state,
            }),
        }
    }

    fn holds(&self, caller: &Identity, p: Permission) -> bool {
        self.policy()
            .permissions(&caller.policy_caller())
            .contains(&p)
    }

    fn sees_all_jobs(&self, caller: &Identity) -> bool {
        self.holds(caller, Permission::ResetsReadAll) || self.holds(caller, Permission::Admin)
    }

    fn may_see_job(&self, caller: &Identity, job: &JobView) -> bool {
        let approver = job.approval.is_some() && self.approves_jobs(caller);
        is_creator(caller, job) || self.sees_all_jobs(caller) || approver
    }
}

/// The subject within its issuer: two identity providers may both have a
/// subject "alice".
fn is_creator(caller: &Identity, job: &JobView) -> bool {
    job.creator.subject == caller.subject && job.creator.issuer == caller.issuer
}
