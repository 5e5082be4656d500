//! The rules of one approval decision, pure: who may decide (people, not
//! the requester, among the approvers), what a decision does to the record
//! (a denial ends it, the last approval queues it), and when it expired.
//! The store applies them on the locked row.

use time::OffsetDateTime;

use super::ResetError;
use crate::auth::Identity;
use crate::record::{
    ApprovalDecision, ApprovalVerdict, Approver, Approvers, ResetRecord, Status, format_timestamp,
};

/// Approvers are people: a delegated token of a user (object id and scopes).
pub(super) fn person(who: &Identity) -> Result<(), ResetError> {
    match who.object_id.is_some() && !who.scopes.is_empty() {
        true => Ok(()),
        false => Err(ResetError::NotAnApprover(
            "approvals come from people: sign in (a delegated token with a user object id); an \
             app-only token never approves"
                .into(),
        )),
    }
}

pub(super) fn approver(who: &Identity) -> Approver {
    Approver {
        issuer: who.issuer.clone(),
        subject: who.subject.clone(),
        object_id: who.object_id.clone(),
        name: who.name.clone(),
    }
}

/// The requester, or the agent the request was made for.
pub(super) fn is_requester(who: &Identity, record: &ResetRecord) -> bool {
    let by = &record.requested_by;
    let same_token = by.subject == who.subject && by.issuer.as_deref() == Some(&who.issuer);
    let same =
        |a: Option<&str>, b: Option<&str>| a.zip(b).is_some_and(|(a, b)| a.eq_ignore_ascii_case(b));
    let oid = who.object_id.as_deref();
    // An app names its agent by object id or by sign-in name (UPN).
    let agent = by.agent.as_ref().map(|a| a.id.as_str());
    let same_person = same(by.object_id.as_deref(), oid)
        || same(agent, oid)
        || same(agent, who.username.as_deref());
    same_token || same_person
}

/// Whether object id `oid` is the requester or the agent of `record`.
pub(super) fn is_person_of(oid: &str, record: &ResetRecord) -> bool {
    let by = &record.requested_by;
    let agent = by.agent.as_ref().map(|a| a.id.as_str());
    [by.object_id.as_deref(), agent]
        .into_iter()
        .flatten()
        .any(|id| id.eq_ignore_ascii_case(oid))
}

pub(super) fn check_approver(who: &Identity, record: &ResetRecord) -> Result<(), ResetError> {
    if is_requester(who, record) {
        return Err(ResetError::SelfApproval);
    }
    let listed = match record.approval.as_ref().map(|a| &a.approvers) {
        Some(Approvers::Callers { caller }) => caller.matches(&who.policy_caller()),
        Some(Approvers::Sponsors { object_ids }) => who
            .object_id
            .as_ref()
            .is_some_and(|oid| object_ids.iter().any(|id| id.eq_ignore_ascii_case(oid))),
        None => false,
    };
    match listed {
        true => Ok(()),
        false => Err(ResetError::NotAnApprover(
            "you are not among this reset's approvers".into(),
        )),
    }
}

pub(super) type Acted = (Result<ResetRecord, ResetError>, Option<ResetRecord>);

/// One decision on the locked row.
pub(super) fn decide(mut record: ResetRecord, who: &Identity, decision: ApprovalDecision) -> Acted {
    if record.status != Status::AwaitingApproval {
        return (Err(ResetError::AlreadyDecided(record.status)), None);
    }
    if let Some(expired) = expire_if_due(&record) {
        return (Err(ResetError::ApprovalExpired), Some(expired));
    }
    if let Err(e) = check_approver(who, &record) {
        return (Err(e), None);
    }
    let Some(approval) = record.approval.as_mut() else {
        return (Err(ResetError::AlreadyDecided(record.status)), None);
    };
    let who_key = (&decision.approver.issuer, &decision.approver.subject);
    if approval
        .decisions
        .iter()
        .any(|d| (&d.approver.issuer, &d.approver.subject) == who_key)
    {
        // The same approver twice counts once.
        return (Ok(record), None);
    }
    let verdict = decision.verdict;
    approval.decisions.push(decision);
    match verdict {
        ApprovalVerdict::Denied => deny(&mut record),
        ApprovalVerdict::Approved if approval.is_approved() => {
            let run_by =
                OffsetDateTime::now_utc() + time::Duration::hours(approval.run_within_hours.into());
            approval.run_by = Some(format_timestamp(run_by));
            record.status = Status::Queued;
        }
        ApprovalVerdict::Approved => {}
    }
    (Ok(record.clone()), Some(record))
}

pub(super) fn deny(record: &mut ResetRecord) {
    let by = record
        .approval
        .as_ref()
        .and_then(|a| a.decisions.last())
        .map(|d| {
            let who = d
                .approver
                .name
                .clone()
                .unwrap_or_else(|| d.approver.subject.clone());
            format!("{who}: {}", d.comment.clone().unwrap_or_default())
        })
        .unwrap_or_default();
    let kind = crate::problem::ProblemType::PolicyDenied;
    let detail = format!("An approver denied this reset ({by}).");
    crate::store::finalise(
        record,
        Status::Denied,
        Some(super::settle::problem(kind, detail)),
    );
}

/// An awaiting reset past its expiry, or an approved one still queued past
/// its run-by time, moved to `expired`.
pub(super) fn expire_if_due(record: &ResetRecord) -> Option<ResetRecord> {
    let now = crate::record::now_rfc3339();
    let due = record
        .approval
        .as_ref()
        .is_some_and(|a| match record.status {
            Status::AwaitingApproval => a.expires_at < now,
            Status::Queued => a.run_by.as_ref().is_some_and(|by| *by < now),
            _ => false,
        });
    due.then(|| {
        let mut expired = record.clone();
        let kind = crate::problem::ProblemType::ApprovalExpired;
        let detail = "Not approved in time; ask again if the reset is still needed.".to_owned();
        let problem = super::settle::problem(kind, detail);
        crate::store::finalise(&mut expired, Status::Expired, Some(problem));
        expired
    })
}
