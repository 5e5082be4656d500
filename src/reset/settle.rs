//! Settling a reset whose outcome Graph left open: read the guest back and
//! judge the evidence (`evidence.rs`). Right after a lost answer only a
//! change that belongs to this reset settles it (`succeeded`); anything else
//! is `unknown` and read again after the grace period, when Graph is
//! consistent: a guest still exactly as before the reset means nothing
//! happened (`failed`), a change after this reset's own attempt means it
//! happened (`succeeded`), and evidence that cannot tell stays `unknown` for
//! a person (no further automatic re-read).

use time::OffsetDateTime;
use tracing::instrument;

use super::evidence::{Case, Window, judge};
use super::{ResetError, ResetService};
use crate::problem::ProblemType;
use crate::record::{
    Evidence, ProblemRecord, ResetRecord, Status, Verdict, format_timestamp,
    parse_timestamp as parse,
};
use crate::store::StoreError;

/// Rows read back per sweep at most; the rest wait for the next one.
const SWEEP_BATCH: u32 = 64;
/// A row Graph would not let us read back for this long goes to a person.
const GIVE_UP_AFTER: time::Duration = time::Duration::days(1);

/// What one sweep did, for the log and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settled {
    pub succeeded: usize,
    pub failed: usize,
    pub undecided: usize,
    pub unreadable: usize,
    /// Job items Graph shows untouched, back in the queue.
    pub requeued: usize,
}

impl ResetService {
    /// Read the guest of `record` back and judge it. `Err` carries why Graph
    /// (or the store) could not be read.
    pub(super) async fn read_back(&self, record: &ResetRecord) -> Result<Evidence, String> {
        let (Some(target), Some(anchor)) = (
            record.target.id.as_deref(),
            record.invite_attempted_at.as_deref().and_then(parse),
        ) else {
            return Err("the reset has no guest or no invitation attempt to judge".into());
        };
        let others = self
            .windows(target, &record.id)
            .await
            .map_err(|e| format!("the audit store could not be read ({e})"))?;
        let graph = self.graph_of(record).map_err(|e| e.to_string())?;
        let user = graph
            .get_user(target)
            .await
            .map_err(|e| format!("the guest could not be read back from Graph ({e})"))?;
        let case = Case {
            before: &record.target,
            anchor,
            new_email: record.new_email.as_deref().unwrap_or_default(),
            others: &others,
            skew: self.defaults.clock_skew,
        };
        Ok(judge(&case, user.value.as_ref(), OffsetDateTime::now_utc()))
    }

    /// Other resets of the guest that reached the invitation; a `pending` or
    /// `unknown` one may still apply, so its window stays open.
    async fn windows(&self, target: &str, reset_id: &str) -> Result<Vec<Window>, StoreError> {
        let attempts = self.store.attempts_on(target, reset_id).await?;
        Ok(attempts
            .into_iter()
            .filter_map(|a| {
                let until = match a.status {
                    Status::Succeeded => Some(a.completed_at.as_deref().and_then(parse)?),
                    _ => None,
                };
                Some(Window {
                    from: parse(&a.invite_attempted_at)?,
                    until,
                    reset_id: a.reset_id,
                })
            })
            .collect())
    }

    /// When an `unknown` row is read again.
    pub(super) fn settle_time(&self) -> String {
        format_timestamp(OffsetDateTime::now_utc() + self.defaults.unknown_grace)
    }

    /// Re-read every `unknown` row whose grace period is over.
    #[instrument(skip_all)]
    pub async fn settle_due(
        &self,
        lease: Option<&crate::store::Lease>,
    ) -> Result<Settled, ResetError> {
        let now = crate::record::now_rfc3339();
        let mut done = Settled::default();
        for mut record in self.store.unknown_due(&now, SWEEP_BATCH).await? {
            let outcome = self.settle_one(&mut record).await;
            // A job item Graph shows untouched goes back to the queue rather
            // than failing: a single reset's caller sends it again, a job
            // has nobody to.
            if outcome == "failed" && record.job.is_some() {
                let request = super::jobs::item_request(&record);
                let from = Status::Unknown;
                if self
                    .store
                    .requeue_item(&record, from, request, lease)
                    .await?
                {
                    done.requeued += 1;
                    self.wake_jobs();
                    tracing::warn!(reset_id = %record.id, "a job item Graph never applied is queued again");
                    continue;
                }
            }
            if self
                .advance_if_still_fenced(&record, Some(Status::Unknown), lease)
                .await?
            {
                crate::metrics::unknown_settled(outcome);
                match outcome {
                    "succeeded" => done.succeeded += 1,
                    "failed" => done.failed += 1,
                    "undecided" => done.undecided += 1,
                    _ => done.unreadable += 1,
                }
                tracing::info!(reset_id = %record.id, outcome, "unknown reset read back");
            }
        }
        Ok(done)
    }

    /// The re-read of one due row; returns the outcome label.
    async fn settle_one(&self, record: &mut ResetRecord) -> &'static str {
        match self.read_back(record).await {
            Ok(evidence) => {
                let verdict = evidence.verdict.unwrap_or(Verdict::Undecided);
                record.evidence = Some(evidence);
                record.settle_after = None;
                decide(record, verdict)
            }
            Err(why) => {
                let created = parse(&record.created_at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
                let stale = OffsetDateTime::now_utc() - created > GIVE_UP_AFTER;
                record.settle_after = (!stale).then(|| self.settle_time());
                let next = match stale {
                    true => "no further automatic re-read: a person decides".to_owned(),
                    false => format!("read again after {}", self.settle_time()),
                };
                tracing::warn!(reset_id = %record.id, %why, "unknown reset could not be read back");
                if let Some(p) = record.problem.as_mut() {
                    p.detail = format!(
                        "{} The last read-back failed ({why}); {next}.",
                        base(&p.detail)
                    );
                }
                "unreadable"
            }
        }
    }
}

/// The final state an evidence verdict after the grace period leads to.
fn decide(record: &mut ResetRecord, verdict: Verdict) -> &'static str {
    let finding = record
        .evidence
        .as_ref()
        .map_or("", |e| e.finding.as_str())
        .to_owned();
    match verdict {
        Verdict::Applied => {
            crate::store::finalise(record, Status::Succeeded, None);
            "succeeded"
        }
        Verdict::Unchanged => {
            let detail = format!(
                "Graph's answer to the reset was lost; read back after the grace period, {finding}. Nothing was reset: send the request again."
            );
            crate::store::finalise(
                record,
                Status::Failed,
                Some(problem(ProblemType::GraphNotApplied, detail)),
            );
            "failed"
        }
        Verdict::Undecided => {
            let detail = format!(
                "Graph's answer to the reset was lost, and the read-back after the grace period cannot tell: {finding}. A person decides: check the guest in Entra, then re-drive it with POST /v1/resets/{{id}}/retry if it did not happen."
            );
            // The row stays unknown: keep its problem type (a lost answer, or a stop).
            let mut kept = record
                .problem
                .clone()
                .unwrap_or_else(|| problem(ProblemType::GraphOutcomeUnknown, String::new()));
            kept.detail = detail;
            crate::store::finalise(record, Status::Unknown, Some(kept));
            "undecided"
        }
    }
}

/// A problem detail without an earlier "last read-back failed" note.
fn base(detail: &str) -> &str {
    detail
        .split(" The last read-back failed")
        .next()
        .unwrap_or(detail)
}

pub(super) fn problem(kind: ProblemType, detail: String) -> ProblemRecord {
    ProblemRecord {
        kind: kind.uri(),
        title: kind.title().into(),
        status: kind.status(),
        detail,
    }
}
