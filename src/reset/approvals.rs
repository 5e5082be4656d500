//! A second pair of eyes. A reset the policy allows only with approval waits
//! in `awaiting_approval` with the request kept; approvers (people, never the
//! requester) approve or deny it; the last approval queues it, and the queue
//! runs the whole flow again, Graph read and policy asked anew with the
//! approvals in hand. Each decision is one locked read-modify-write in the
//! store, so concurrent approvals count once each and queue the reset once.

use time::OffsetDateTime;

use super::ruling::{approver, check_approver, decide, expire_if_due, is_requester, person};
use super::{ResetError, ResetService};
use crate::auth::Identity;
use crate::policy::Requirement;
use crate::record::{
    ApprovalDecision, ApprovalRecord, ApprovalVerdict, Approvers, ResetRecord, Status,
    format_timestamp,
};
use crate::store::StoreError;

/// The approval record for a requirement the policy just stated.
pub(super) fn requested(
    need: &Requirement,
    decisions: Vec<ApprovalDecision>,
    now: OffsetDateTime,
) -> ApprovalRecord {
    let approvers = match &need.approvers {
        crate::policy::ApproverRule::Callers(m) => Approvers::Callers { caller: m.clone() },
        // Filled in from Graph once the decision is committed.
        crate::policy::ApproverRule::Sponsors => Approvers::Sponsors {
            object_ids: Vec::new(),
        },
    };
    // Sponsors are read once this wait is committed; should the service
    // stop before, the wait ends soon instead of blocking the guest for the
    // whole approval period with nobody able to approve.
    let expires_at = match need.approvers {
        crate::policy::ApproverRule::Sponsors => now + SPONSORS_READ_WITHIN,
        crate::policy::ApproverRule::Callers(_) => {
            now + time::Duration::hours(need.expires_hours.into())
        }
    };
    ApprovalRecord {
        rule: need.rule.clone(),
        reason: need.reason.clone(),
        approvers,
        count: need.count,
        expires_at: format_timestamp(expires_at),
        run_within_hours: need.run_within_hours,
        run_by: None,
        decisions,
    }
}

/// How long a wait for sponsors may last before they have been read.
const SPONSORS_READ_WITHIN: time::Duration = time::Duration::minutes(5);

/// The expiry of an approval asked for now that lasts `hours`.
pub(super) fn expiry(hours: u32) -> String {
    format_timestamp(OffsetDateTime::now_utc() + time::Duration::hours(hours.into()))
}

/// An approver's decision, as asked for.
pub struct Ruling {
    pub verdict: ApprovalVerdict,
    pub comment: Option<String>,
}

impl ResetService {
    /// `who`'s decision as it is recorded: people only, a denial says why
    /// (reset approvals and job approvals alike).
    pub(super) fn decision(
        &self,
        who: &Identity,
        ruling: &Ruling,
    ) -> Result<ApprovalDecision, ResetError> {
        let comment = ruling
            .comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        if ruling.verdict == ApprovalVerdict::Denied && comment.is_none() {
            return Err(ResetError::Invalid("comment: required to deny".into()));
        }
        if comment.is_some_and(|c| c.chars().count() > 1000) {
            return Err(ResetError::Invalid(
                "comment: at most 1000 characters".into(),
            ));
        }
        person(who)?;
        Ok(ApprovalDecision {
            approver: approver(who),
            verdict: ruling.verdict,
            comment: comment.map(str::to_owned),
            at: crate::record::now_rfc3339(),
            policy_version: self.policy().version.clone(),
        })
    }

    /// Approve or deny reset `id` as `who`. The answer is the record after
    /// the decision (queued when it was the last approval needed).
    pub async fn rule_on(
        &self,
        who: &Identity,
        id: &str,
        ruling: Ruling,
    ) -> Result<Option<ResetRecord>, ResetError> {
        let decision = self.decision(who, &ruling)?;
        let actor = super::intent::actor(who);
        let who = who.clone();
        let act = Box::new(move |record: ResetRecord| decide(record, &who, decision));
        self.act(id, actor, act).await
    }

    /// Withdraw reset `id`, when `who` asked for it and it still waits.
    pub async fn cancel(
        &self,
        who: &Identity,
        id: &str,
    ) -> Result<Option<ResetRecord>, ResetError> {
        let actor = super::intent::actor(who);
        let who = who.clone();
        let act = Box::new(move |mut record: ResetRecord| {
            if record.status != Status::AwaitingApproval {
                return (Err(ResetError::AlreadyDecided(record.status)), None);
            }
            if !is_requester(&who, &record) {
                let why = "only the requester may cancel a reset".into();
                return (Err(ResetError::NotAnApprover(why)), None);
            }
            crate::store::finalise(&mut record, Status::Cancelled, None);
            (Ok(record.clone()), Some(record))
        });
        self.act(id, actor, act).await
    }

    async fn act(
        &self,
        id: &str,
        actor: serde_json::Value,
        act: crate::store::Act<Result<ResetRecord, ResetError>>,
    ) -> Result<Option<ResetRecord>, ResetError> {
        match self.store.act_on_approval(id, actor, act).await? {
            None => Ok(None),
            Some(Ok(record)) => {
                if let Some(event) = event_of(&record) {
                    self.notify(&record, event).await;
                }
                Ok(Some(record))
            }
            Some(Err(e)) => Err(e),
        }
    }

    /// Whether `who` may approve `record` now (the inbox, the console).
    pub fn may_approve(&self, who: &Identity, record: &ResetRecord) -> bool {
        record.status == Status::AwaitingApproval
            && person(who).is_ok()
            && check_approver(who, record).is_ok()
    }

    /// Whether `who` is among the reset's approvers (whatever its status
    /// now): a sponsor opening the reset from a notification may read it.
    pub fn is_approver_of(&self, who: &Identity, record: &ResetRecord) -> bool {
        person(who).is_ok() && check_approver(who, record).is_ok()
    }

    /// Resets waiting for approval that `who` may approve, newest first.
    pub async fn inbox(&self, who: &Identity) -> Result<Vec<ResetRecord>, StoreError> {
        let filter = crate::store::ListFilter {
            status: Some(Status::AwaitingApproval.as_str().into()),
            limit: crate::store::MAX_LIMIT,
            ..Default::default()
        };
        let waiting = self.store.list(&filter).await?;
        Ok(waiting
            .into_iter()
            .filter(|r| self.may_approve(who, r))
            .collect())
    }

    /// Awaiting resets whose approval ran out: `expired`.
    pub async fn expire_approvals(&self) -> Result<usize, StoreError> {
        let now = crate::record::now_rfc3339();
        let due = self.store.approvals_expired(&now, 100).await?;
        let mut expired = 0;
        for record in due {
            let act = Box::new(|record: ResetRecord| match expire_if_due(&record) {
                Some(expired) => (Ok(expired.clone()), Some(expired)),
                None => (Err(ResetError::AlreadyDecided(record.status)), None),
            });
            let actor = crate::store::service_actor(self.store.owner());
            if let Ok(Some(_)) = self.act(&record.id, actor, act).await {
                expired += 1;
            }
        }
        Ok(expired)
    }
}

impl ResetService {
    /// An approved reset must run within its window: one that waited longer
    /// in the queue (workers paused, its tenant's circuit open) expires
    /// instead; the approvers approved a moment, not forever.
    pub(super) async fn approved_too_long_ago(
        &self,
        record: &mut ResetRecord,
    ) -> Option<Option<ResetRecord>> {
        let run_by = record.approval.as_ref()?.run_by.clone()?;
        if run_by >= crate::record::now_rfc3339() {
            return None;
        }
        let from = Some(record.status);
        let kind = crate::problem::ProblemType::ApprovalExpired;
        let detail = format!("Approved, but not run by {run_by}; ask again if it is still needed.");
        let problem = super::settle::problem(kind, detail);
        crate::store::finalise(record, Status::Expired, Some(problem));
        match self.advance(record, from).await {
            Ok(()) => self.notify(record, super::notify::Event::Expired).await,
            Err(e) => {
                tracing::error!(error = %e, reset_id = %record.id, "could not record the expiry")
            }
        }
        Some(Some(record.clone()))
    }
}

/// The event a decision on the row amounts to.
fn event_of(record: &ResetRecord) -> Option<super::notify::Event> {
    use super::notify::Event;
    match record.status {
        Status::Queued | Status::AwaitingApproval => Some(Event::Approved),
        Status::Denied => Some(Event::Denied),
        Status::Cancelled => Some(Event::Cancelled),
        Status::Expired => Some(Event::Expired),
        _ => None,
    }
}
