//! The life of a reset: its states and the moves allowed between them. The
//! only place that knows them; every write of a reset's row names the state
//! it moves from, and the store applies it only if the row is still there (a
//! compare-and-set), so two writers (a request and reconciliation, or two
//! replicas) can never both move one reset.
//!
//! ```text
//! (new) ──> pending ──> running ──> succeeded | failed | unknown
//! (new) ──> queued ──> pending       (a worker on any replica takes it, with a lease)
//! (new) ──> failed | denied           (refused before anything else, recorded as such)
//! pending ──> succeeded | failed | denied | unknown   (dry runs, refusals, validation)
//! pending ──> awaiting_approval ──> queued | denied | cancelled | expired   (approvals)
//! pending ──> expired                (approved, but not run within its window)
//! queued ──> expired                (approved, but not run within its window)
//! running (lease expired) ──> succeeded | failed | unknown   (reconciliation, any replica)
//! unknown ──> succeeded | failed | unknown   (the read-back after the grace period)
//! pending | running ──> queued       (a job item interrupted before its invitation)
//! unknown ──> queued                 (a job item Graph shows untouched after the grace period)
//! ```
//! `succeeded`, `failed`, `denied`, `cancelled` and `expired` are final.
//! `pending` and `running` rows carry their owner's lease (store/lease.rs).

use super::{ResetError, ResetService};
use crate::record::{ResetRecord, Status};

impl ResetService {
    /// Write `record` (in its new state) over the row in state `from`
    /// (`None`: there is none yet): only a move the lifecycle allows, and
    /// only if no other writer moved the row first.
    pub(super) async fn advance(
        &self,
        record: &ResetRecord,
        from: Option<Status>,
    ) -> Result<(), ResetError> {
        match self.advance_if_still(record, from).await? {
            true => Ok(()),
            false => Err(LifecycleError::Moved {
                id: record.id.clone(),
                from,
            }
            .into()),
        }
    }

    /// [`ResetService::advance_if_still`] for a periodic job: written only
    /// while `lease` (when given) is still the job's, so a replica that
    /// paused past its lease cannot overwrite what the new holder decided.
    pub(super) async fn advance_if_still_fenced(
        &self,
        record: &ResetRecord,
        from: Option<Status>,
        lease: Option<&crate::store::Lease>,
    ) -> Result<bool, ResetError> {
        match (from, lease) {
            (Some(from), Some(lease)) => {
                let to = record.status;
                if !may_move(Some(from), to) {
                    return Err(LifecycleError::NotAllowed {
                        from: Some(from),
                        to,
                    }
                    .into());
                }
                Ok(self.store.update_fenced(record, from, lease).await?)
            }
            _ => self.advance_if_still(record, from).await,
        }
    }

    /// [`ResetService::advance`] for writers that expect to lose the race
    /// sometimes (reconciliation, the grace-period re-read): false when
    /// another writer moved the row first.
    pub(super) async fn advance_if_still(
        &self,
        record: &ResetRecord,
        from: Option<Status>,
    ) -> Result<bool, ResetError> {
        let to = record.status;
        if !may_move(from, to) {
            return Err(LifecycleError::NotAllowed { from, to }.into());
        }
        Ok(match from {
            None => self.store.insert(record).await.map(|()| true)?,
            Some(from) => self.store.update_from(record, from).await?,
        })
    }
}

/// Whether a row in state `from` (`None`: not written yet) may be written in
/// state `to`.
pub fn may_move(from: Option<Status>, to: Status) -> bool {
    use Status::*;
    matches!(
        (from, to),
        (None, Pending | Queued | Failed | Denied)
            // A worker on some replica takes it; an approved one not run in
            // time expires (cancel: reserved).
            | (Some(Queued), Pending | Failed | Cancelled | Expired)
            // Its owner decides: a dry run ends here, an allowed reset runs
            // or waits for approval; an approved one not run in time expires.
            | (Some(Pending), Pending | Running | AwaitingApproval | Succeeded | Failed | Denied | Unknown | Expired)
            // Approvers decide (the last approval queues it), the requester
            // withdraws it, the clock ends it; its sponsors are read while it
            // waits (failed: they could not be read).
            | (Some(AwaitingApproval), AwaitingApproval | Queued | Denied | Cancelled | Expired | Failed)
            // Its owner (or reconciliation, once the lease ran out) finishes it.
            | (Some(Running), Running | Succeeded | Failed | Denied | Unknown)
            // Reconciliation queues an interrupted job item again when it
            // sent no invitation, or Graph shows it never applied it after
            // the grace period (store/jobs.rs checks it is one).
            | (Some(Pending | Running | Unknown), Queued)
            | (Some(Unknown), Succeeded | Failed | Unknown)
    )
}

/// A move the lifecycle does not allow, or one another writer got to first.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LifecycleError {
    #[error("a reset cannot move from {} to {}", name(*.from), .to.as_str())]
    NotAllowed { from: Option<Status>, to: Status },
    #[error("reset {id} is no longer {}: another writer moved it first", name(*.from))]
    Moved { id: String, from: Option<Status> },
}

fn name(state: Option<Status>) -> &'static str {
    state.map_or("new", Status::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn the_allowed_moves_and_no_others() {
        let all = [Pending, Succeeded, Failed, Denied, Unknown];
        let allowed = |from: Option<Status>| -> Vec<Status> {
            all.into_iter().filter(|to| may_move(from, *to)).collect()
        };
        assert_eq!(allowed(None), [Pending, Failed, Denied]);
        assert_eq!(allowed(Some(Pending)), all);
        assert_eq!(allowed(Some(Unknown)), [Succeeded, Failed, Unknown]);
        for last in [Succeeded, Failed, Denied] {
            assert!(allowed(Some(last)).is_empty(), "{} is final", last.as_str());
        }
    }

    #[test]
    fn approvals_move_only_out_of_awaiting_approval() {
        let waiting = Some(AwaitingApproval);
        for to in [AwaitingApproval, Queued, Denied, Cancelled, Expired, Failed] {
            assert!(
                may_move(waiting, to),
                "awaiting_approval -> {}",
                to.as_str()
            );
        }
        for to in [Pending, Running, Succeeded, Unknown] {
            assert!(
                !may_move(waiting, to),
                "awaiting_approval -> {}",
                to.as_str()
            );
        }
        assert!(may_move(Some(Pending), AwaitingApproval));
        assert!(
            may_move(Some(Pending), Expired),
            "approved, not run in time"
        );
        assert!(
            !may_move(None, AwaitingApproval),
            "a new row is first decided"
        );
        for last in [Cancelled, Expired] {
            assert!(
                Status::ALL.iter().all(|to| !may_move(Some(last), *to)),
                "{} is final",
                last.as_str()
            );
        }
    }

    #[test]
    fn errors_name_the_states() {
        let e = LifecycleError::NotAllowed {
            from: Some(Succeeded),
            to: Pending,
        };
        assert_eq!(
            e.to_string(),
            "a reset cannot move from succeeded to pending"
        );
        let e = LifecycleError::Moved {
            id: "r1".into(),
            from: None,
        };
        assert!(e.to_string().contains("no longer new"), "{e}");
    }
}
