//! A job as callers see it: what was asked, and its progress counted from
//! its items (counts per state, rate, time to go).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::JobError;
use crate::record::{Status, parse_timestamp};
use crate::reset::ResetService;
use crate::store::{JobCounts, StoredJob};

/// What the job was asked to do, kept with it (JSON in `jobs.spec`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Spec {
    #[serde(default)]
    pub select: Option<serde_json::Value>,
    #[serde(default)]
    pub rewrite_domain: Option<String>,
    #[serde(default)]
    pub ticket: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Who submitted the job, from the identity kept with it (`jobs.caller`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Creator {
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub object_id: Option<String>,
}

/// The Job resource of the API.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub requested_by: String,
    #[serde(skip)]
    pub creator: Creator,
    pub tenant: Option<String>,
    pub select: Option<serde_json::Value>,
    pub rewrite_domain: Option<String>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
    pub total: u32,
    /// Items in a final state (`unknown` is not: it is still read back).
    pub done: u64,
    pub counts: BTreeMap<&'static str, u64>,
    pub rate_per_second: Option<f64>,
    pub eta_seconds: Option<f64>,
    /// The approval the job needs as a whole, and its decisions.
    pub approval: Option<serde_json::Value>,
}

impl JobView {
    /// Nothing more will happen to it on its own.
    pub fn is_over(&self) -> bool {
        matches!(
            self.state.as_str(),
            "finished" | "cancelled" | "denied" | "expired"
        )
    }

    pub(super) fn approval_record(&self) -> Option<super::JobApprovalRecord> {
        serde_json::from_value(self.approval.clone()?).ok()
    }
}

impl ResetService {
    /// The stored job with its progress. `finished` is not stored: a
    /// running or paused job with no open item left is finished (and runs
    /// again should reconciliation queue an item once more).
    pub(super) async fn view(&self, job: StoredJob) -> Result<JobView, JobError> {
        let mut job = job;
        if job.state == "awaiting_approval" && self.approval_ran_out(&job).await? {
            job = self.store.job(&job.id).await?.unwrap_or(job);
        }
        let counts = self.store.job_counts(&job.id).await?;
        Ok(build(job, &counts))
    }
}

impl ResetService {
    /// A job whose approval period is over expires (its items cancelled)
    /// when it is next looked at; true when it did.
    async fn approval_ran_out(&self, job: &StoredJob) -> Result<bool, JobError> {
        let record = job
            .approval
            .as_deref()
            .and_then(|a| serde_json::from_str::<super::JobApprovalRecord>(a).ok());
        match record.filter(super::JobApprovalRecord::expired) {
            Some(record) => {
                let json = serde_json::to_string(&record).unwrap_or_default();
                let actor = crate::store::service_actor(self.store.owner());
                Ok(self
                    .store
                    .decide_job(&job.id, "expired", json, actor)
                    .await?)
            }
            None => Ok(false),
        }
    }
}

fn build(job: StoredJob, counts: &JobCounts) -> JobView {
    let spec: Spec = serde_json::from_str(&job.spec).unwrap_or_default();
    let done: u64 = Status::ALL
        .iter()
        .filter(|s| !s.is_open() && **s != Status::Unknown)
        .map(|s| counts.of(*s))
        .sum();
    let open: u64 = Status::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| counts.of(*s))
        .sum();
    let mut job = job;
    if open == 0 && matches!(job.state.as_str(), "running" | "paused") {
        job.state = "finished".into();
        job.finished_at.clone_from(&counts.last_completed_at);
    }
    let creator = serde_json::from_str(&job.caller).unwrap_or_else(|_| Creator {
        subject: job.requested_by.clone(),
        ..Creator::default()
    });
    let (rate, eta) = pace(&job, counts, done);
    JobView {
        counts: Status::ALL
            .iter()
            .map(|s| (s.as_str(), counts.of(*s)))
            .collect(),
        id: job.id,
        kind: job.kind,
        state: job.state,
        created_at: job.created_at,
        finished_at: job.finished_at,
        requested_by: job.requested_by,
        creator,
        tenant: job.tenant,
        select: spec.select,
        rewrite_domain: spec.rewrite_domain,
        ticket: spec.ticket,
        reason: spec.reason,
        total: job.total,
        done,
        rate_per_second: rate,
        eta_seconds: eta,
        approval: job
            .approval
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok()),
    }
}

/// Items finished per second since the job was created (until its last
/// item finished), and the seconds the rest will take at that rate.
fn pace(job: &StoredJob, counts: &JobCounts, done: u64) -> (Option<f64>, Option<f64>) {
    let start = parse_timestamp(&job.created_at);
    let end = match job.state.as_str() {
        "running" | "paused" => Some(time::OffsetDateTime::now_utc()),
        _ => counts
            .last_completed_at
            .as_deref()
            .and_then(parse_timestamp),
    };
    let (Some(start), Some(end)) = (start, end) else {
        return (None, None);
    };
    let seconds = (end - start).as_seconds_f64();
    if done == 0 || seconds <= 0.0 {
        return (None, None);
    }
    let rate = done as f64 / seconds;
    let left = u64::from(job.total).saturating_sub(done) as f64;
    let eta = (job.state == "running").then(|| (left / rate * 10.0).round() / 10.0);
    (Some((rate * 100.0).round() / 100.0), eta)
}
