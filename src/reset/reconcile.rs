//! Reconciliation: a `pending` row whose request stopped midway (a crash, a
//! killed task) is finalised from evidence, never dropped. A row the policy
//! never allowed cannot have reached a Graph write (writes come after the
//! claim), so it failed; otherwise the guest is read back from Graph and the
//! row becomes `succeeded` when Graph shows the reset, else `unknown` with
//! what Graph showed.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::instrument;

use super::ResetService;
use crate::graph::GraphUser;
use crate::problem::ProblemType;
use crate::record::{Evidence, ProblemRecord, ResetRecord, Status, now_rfc3339};
use crate::store::StoreError;

/// What reconciliation did, for the log and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub succeeded: usize,
    pub failed: usize,
    pub unknown: usize,
}

/// A `pending` row older than this belongs to a request that died (every
/// request ends well within it: the Graph deadline is under a minute).
pub const STALE_AFTER: time::Duration = time::Duration::minutes(15);

impl ResetService {
    /// Reconcile rows that have been pending for longer than [`STALE_AFTER`].
    pub async fn reconcile_stale(&self) -> Result<Reconciled, StoreError> {
        let before = crate::record::format_timestamp(OffsetDateTime::now_utc() - STALE_AFTER);
        self.reconcile(&before).await
    }

    /// Finalise every `pending` row created before `before` (RFC 3339).
    #[instrument(skip_all)]
    pub async fn reconcile(&self, before: &str) -> Result<Reconciled, StoreError> {
        let mut done = Reconciled::default();
        for mut record in self.store.pending_before(before).await? {
            let status = self.settle(&mut record).await;
            self.store.update(&record).await?;
            match status {
                Status::Succeeded => done.succeeded += 1,
                Status::Failed => done.failed += 1,
                _ => done.unknown += 1,
            }
            tracing::warn!(reset_id = %record.id, status = status.as_str(), "reconciled an interrupted reset");
        }
        Ok(done)
    }

    async fn settle(&self, record: &mut ResetRecord) -> Status {
        let claimed = record.policy.as_ref().is_some_and(|p| p.allowed) && !record.dry_run;
        let Some(target) = record.target.id.clone().filter(|_| claimed) else {
            let detail = "The service stopped before this request wrote anything to Graph; nothing was reset. Send it again.";
            finish(record, Status::Failed, detail);
            return Status::Failed;
        };
        let evidence = self.evidence(&target, record).await;
        let applied = evidence.applied();
        record.evidence = Some(evidence);
        if applied {
            crate::store::finalise(record, Status::Succeeded, None);
            return Status::Succeeded;
        }
        let detail = "The service stopped while this reset was in flight and Graph does not show it as applied. \
                      Check the evidence and the guest in Entra, then re-drive it with POST /v1/resets/{id}/retry.";
        finish(record, Status::Unknown, detail);
        Status::Unknown
    }
}

impl ResetService {
    /// Read the guest back after Graph left the outcome of the reset call
    /// unknown (timeout, dropped connection, unreadable answer): when Graph
    /// shows the reset, it succeeded; otherwise the row is `unknown` with
    /// what Graph showed.
    pub(super) async fn settle_unknown(
        &self,
        mut record: ResetRecord,
        error: super::ResetError,
    ) -> Result<super::Outcome, super::Failure> {
        let Some(target) = record.target.id.clone() else {
            return Err(self.finish_failed(record, error).await);
        };
        let evidence = self.evidence(&target, &record).await;
        let applied = evidence.applied();
        record.evidence = Some(evidence);
        if !applied {
            return Err(self.finish_failed(record, error).await);
        }
        crate::store::finalise(&mut record, Status::Succeeded, None);
        if let Err(e) = self.store.update(&record).await {
            return Err(super::Failure {
                record: Some(record),
                error: e.into(),
            });
        }
        tracing::warn!(reset_id = %record.id, "Graph's answer was lost, but the guest shows the reset");
        Ok(super::Outcome {
            record,
            redeem_url: None,
            plan: None,
        })
    }

    async fn evidence(&self, target: &str, record: &ResetRecord) -> Evidence {
        match self.graph.get_user(target).await {
            Ok(call) => read_back(record, call.value.as_ref()),
            Err(e) => Evidence {
                read_at: now_rfc3339(),
                external_user_state: None,
                external_user_state_change_date_time: None,
                mail: None,
                other_mails: vec![],
                finding: format!("the guest could not be read back from Graph ({e})"),
            },
        }
    }
}

/// Graph shows the reset when the guest is `PendingAcceptance` since after
/// the request was recorded and carries the new email.
fn read_back(record: &ResetRecord, user: Option<&GraphUser>) -> Evidence {
    let mut evidence = Evidence {
        read_at: now_rfc3339(),
        external_user_state: user.and_then(|u| u.external_user_state.clone()),
        external_user_state_change_date_time: user
            .and_then(|u| u.external_user_state_change_date_time.clone()),
        mail: user.and_then(|u| u.mail.clone()),
        other_mails: user.map(|u| u.other_mails.clone()).unwrap_or_default(),
        finding: String::new(),
    };
    let parse = |s: &str| OffsetDateTime::parse(s, &Rfc3339).ok();
    let since = parse(&record.created_at);
    let changed = evidence
        .external_user_state_change_date_time
        .as_deref()
        .and_then(parse);
    let pending = evidence.external_user_state.as_deref() == Some("PendingAcceptance");
    let after = matches!((changed, since), (Some(c), Some(s)) if c >= s - time::Duration::SECOND);
    let email = record.new_email.as_deref().unwrap_or_default();
    let has_email = evidence
        .mail
        .iter()
        .chain(&evidence.other_mails)
        .any(|m| m.eq_ignore_ascii_case(email));
    evidence.finding = match (user, pending && after && has_email) {
        (None, _) => "the guest no longer exists in Graph".into(),
        (_, true) => "applied: the guest is PendingAcceptance since after this request and carries the new email".into(),
        (_, false) => "not shown as applied: state, change time or email do not match a reset by this request".into(),
    };
    evidence
}

fn finish(record: &mut ResetRecord, status: Status, detail: &str) {
    let kind = ProblemType::Interrupted;
    let problem = ProblemRecord {
        kind: kind.uri(),
        title: kind.title().into(),
        status: kind.status(),
        detail: detail.into(),
    };
    crate::store::finalise(record, status, Some(problem));
}
