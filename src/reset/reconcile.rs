//! Reconciliation: a `pending` or `running` row whose owner stopped renewing
//! its lease (a crash, a killed replica) is finalised from evidence, never
//! dropped, by whichever replica holds the reconciliation job. A row without an
//! invitation attempt never sent the reset (the attempt is committed before
//! the call), so nothing was reset: `failed`. Otherwise the guest is read back
//! (`settle.rs`): `succeeded` on a change that belongs to this reset, else
//! `unknown`, read again after the grace period.

use time::OffsetDateTime;
use tracing::instrument;

use super::settle::problem;
use super::{Failure, Outcome, ResetError, ResetService};
use crate::problem::ProblemType;
use crate::record::{ResetRecord, Status};
use crate::store::Lease;

/// What reconciliation did, for the log and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub succeeded: usize,
    pub failed: usize,
    pub unknown: usize,
    /// Job items that sent no invitation, back in the queue.
    pub requeued: usize,
}

/// Rows reconciled per sweep; the next sweep takes the rest.
const SWEEP_BATCH: u32 = 100;

impl ResetService {
    /// Finalise the rows whose lease ran out. `lease` is the reconciliation
    /// job's (its epoch fences every write); `None` at start-up, before the
    /// service takes requests.
    #[instrument(skip_all)]
    pub async fn reconcile_expired(&self, lease: Option<&Lease>) -> Result<Reconciled, ResetError> {
        let mut done = Reconciled::default();
        let now = crate::record::format_timestamp(OffsetDateTime::now_utc());
        for mut record in self.store.lease_expired(&now, SWEEP_BATCH).await? {
            let from = Some(record.status);
            if self.requeue_if_unsent(&record, lease).await? {
                done.requeued += 1;
                self.wake_jobs();
                continue;
            }
            self.settle_interrupted(&mut record).await;
            if !self.advance_if_still_fenced(&record, from, lease).await? {
                continue;
            }
            match record.status {
                Status::Succeeded => done.succeeded += 1,
                Status::Failed => done.failed += 1,
                _ => done.unknown += 1,
            }
            let status = record.status.as_str();
            tracing::warn!(reset_id = %record.id, status, "reconciled an interrupted reset");
        }
        Ok(done)
    }

    /// A job item interrupted before its invitation was sent goes back to
    /// the queue rather than failing: nobody waits to send it again, and
    /// the job must lose no item. (With the invitation sent, it is settled
    /// from evidence like any reset: a resend could apply it twice.)
    async fn requeue_if_unsent(
        &self,
        record: &ResetRecord,
        lease: Option<&Lease>,
    ) -> Result<bool, ResetError> {
        if record.job.is_none() || record.invite_attempted_at.is_some() {
            return Ok(false);
        }
        let to = Status::Queued;
        if !super::lifecycle::may_move(Some(record.status), to) {
            return Ok(false);
        }
        let request = super::jobs::item_request(record);
        let moved = self
            .store
            .requeue_item(record, record.status, request, lease)
            .await?;
        if moved {
            tracing::warn!(reset_id = %record.id, "an interrupted job item is queued again");
        }
        Ok(moved)
    }

    async fn settle_interrupted(&self, record: &mut ResetRecord) {
        let claimed = record.policy.as_ref().is_some_and(|p| p.allowed) && !record.dry_run;
        if !claimed || record.invite_attempted_at.is_none() {
            let added = match record.other_mails_added {
                true => " (the new email had been added to otherMails)",
                false => "",
            };
            let detail = format!(
                "The service stopped before this request sent the reset to Graph{added}; nothing was reset. Send it again."
            );
            let interrupted = problem(ProblemType::Interrupted, detail);
            crate::store::finalise(record, Status::Failed, Some(interrupted));
            return;
        }
        let why = "The service stopped while this reset was in flight";
        self.judge_open(record, ProblemType::Interrupted, why).await;
    }

    /// Graph left the outcome of the reset call unknown (timeout, dropped
    /// connection, 5xx, unreadable answer): read the guest back.
    pub(super) async fn settle_unknown(
        &self,
        mut record: ResetRecord,
        error: ResetError,
    ) -> Result<Outcome, Failure> {
        let from = Some(record.status);
        if record.invite_attempted_at.is_none() {
            return Err(self.finish_failed(record, error, from).await);
        }
        let why = "Graph's answer to the reset was lost";
        let kind = error.problem_type();
        self.judge_open(&mut record, kind, why).await;
        match record.status {
            Status::Succeeded => crate::metrics::reset_succeeded(false, record.tenant_label()),
            status => {
                crate::metrics::reset_finished(status.as_str(), kind.slug(), record.tenant_label())
            }
        }
        if let Err(error) = self.advance(&record, from).await {
            return Err(Failure {
                record: Some(record),
                error,
            });
        }
        match record.status {
            Status::Succeeded => {
                tracing::warn!(reset_id = %record.id, "Graph's answer was lost, but the guest shows this reset");
                Ok(Outcome {
                    record,
                    redeem_url: None,
                    plan: None,
                })
            }
            _ => Err(Failure {
                record: Some(record),
                error,
            }),
        }
    }

    /// Read back right after the outcome was lost: `succeeded` only on a
    /// change that belongs to this reset; otherwise `unknown` (problem
    /// `kind`), to be read again after the grace period.
    async fn judge_open(&self, record: &mut ResetRecord, kind: ProblemType, why: &str) {
        let found = self.read_back(record).await;
        let finding = match &found {
            Ok(evidence) => evidence.finding.clone(),
            Err(e) => e.clone(),
        };
        record.evidence = found.ok();
        if record.evidence.as_ref().is_some_and(|e| e.applied()) {
            record.settle_after = None;
            crate::store::finalise(record, Status::Succeeded, None);
            return;
        }
        let settle_after = self.settle_time();
        let detail = format!(
            "{why}; the reset may or may not have happened. Read back now: {finding}. Graph may lag: it is read again after {settle_after} and settled as succeeded or failed when the evidence is clear."
        );
        record.settle_after = Some(settle_after);
        crate::store::finalise(record, Status::Unknown, Some(problem(kind, detail)));
    }
}
