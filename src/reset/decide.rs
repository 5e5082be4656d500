//! Asking the policy: gather the facts (the caller, the guest as Graph
//! describes it, the request, earlier resets from the audit store) and, when
//! the policy allows, claim the guest in the same store transaction so a
//! concurrent request for the same guest or over the same quota sees it.

use time::OffsetDateTime;

use super::{ResetError, ResetService, ValidRequest};
use crate::auth::Identity;
use crate::graph::{GraphUser, Memberships};
use crate::policy::{Ask, Decision, History, Question, Requirement, Target, TenantRef};
use crate::record::{PolicyRecord, ResetRecord, format_timestamp};
use crate::store::{HistoryQuery, QueueEntry, StoredHistory};

/// The Graph facts about the guest and what the request needs done.
pub(super) struct Facts<'a> {
    pub user: &'a GraphUser,
    pub memberships: &'a Memberships,
    pub new_email: &'a str,
    pub other_mails_write: bool,
    /// Approvals the reset already has.
    pub approvals: u32,
    /// The size of the job this reset is an item of.
    pub job_items: Option<u32>,
}

impl ResetService {
    pub(super) async fn decide(
        &self,
        caller: &Identity,
        req: &ValidRequest,
        record: &mut ResetRecord,
        facts: Facts<'_>,
        origin: &QueueEntry,
    ) -> Result<Option<Box<Requirement>>, ResetError> {
        let policy = self.policy();
        let now = OffsetDateTime::now_utc();
        let query = HistoryQuery {
            reset_id: record.id.clone(),
            retry_of: record.retry_of.clone(),
            requester_issuer: record.requested_by.issuer.clone(),
            requester_subject: record.requested_by.subject.clone(),
            agent: record.requested_by.agent.as_ref().map(|a| a.id.clone()),
            caller_window_limit: policy.max_quota(),
            target_id: facts.user.id.clone(),
            window_start: format_timestamp(now - time::Duration::HOUR),
        };
        let roles: Vec<String> = facts
            .memberships
            .roles
            .iter()
            .map(|r| r.display_name.clone().unwrap_or_else(|| r.id.clone()))
            .collect();
        let adds_email = facts.other_mails_write;
        let tenant = (record.tenant.clone(), record.tenant_id.clone());
        let decision = self
            .store
            .decide_with_history(query, |stored| {
                let history = history(&stored);
                let question = Question {
                    caller: caller.policy_caller(),
                    target: target(&facts, &roles, record_tenant(&tenant)),
                    ask: ask(req, &facts),
                    history: &history,
                    now,
                };
                let decision = policy.decide(&question);
                record.policy = Some(policy_record(&decision));
                let claim = claim(record, req, &decision, adds_email, origin, now);
                (decision, claim)
            })
            .await?;
        if !decision.allowed {
            return Err(ResetError::PolicyDenied(decision));
        }
        match decision.approval {
            Some(_) if !req.send_invitation_message && !req.dry_run => {
                Err(ResetError::Invalid(APPROVAL_NEEDS_EMAIL.into()))
            }
            need if !req.dry_run => Ok(need),
            _ => Ok(None),
        }
    }
}

const APPROVAL_NEEDS_EMAIL: &str = "send_invitation_message: this reset needs approval, and the \
     redeem URL is handed over only in a synchronous answer; send the invitation email instead";

/// What the decision's transaction writes: the row says "allowed" inside
/// the transaction that checked the limits, so the next request counts it.
/// Dry runs claim nothing. A reset that needs approval waits for it, with
/// the request kept for the queue.
fn claim(
    record: &mut ResetRecord,
    req: &ValidRequest,
    decision: &Decision,
    adds_email: bool,
    origin: &QueueEntry,
    now: OffsetDateTime,
) -> Option<(ResetRecord, Option<QueueEntry>)> {
    if !decision.allowed || req.dry_run {
        return None;
    }
    if let Some(need) = &decision.approval {
        if !req.send_invitation_message {
            return None;
        }
        let earlier = record
            .approval
            .take()
            .map(|a| a.decisions)
            .unwrap_or_default();
        record.approval = Some(super::approvals::requested(need, earlier, now));
        record.status = crate::record::Status::AwaitingApproval;
        return Some((record.clone(), Some(origin.clone())));
    }
    // With no email to add first, the invitation is the next Graph call:
    // this commit is its first attempt's anchor too (one durable write
    // fewer; see flow.rs `anchor`).
    if !adds_email {
        record.invite_attempted_at = Some(crate::record::now_rfc3339());
    }
    // pending -> running: the Graph writes start.
    record.status = crate::record::Status::Running;
    Some((record.clone(), None))
}

fn record_tenant(t: &(String, Option<String>)) -> TenantRef<'_> {
    TenantRef {
        name: &t.0,
        id: t.1.as_deref(),
    }
}

fn target<'a>(f: &Facts<'a>, roles: &'a [String], tenant: TenantRef<'a>) -> Target<'a> {
    Target {
        tenant,
        id: &f.user.id,
        upn: f.user.user_principal_name.as_deref(),
        mail: f.user.mail.as_deref(),
        user_type: f.user.user_type.as_deref(),
        roles,
        groups: &f.memberships.groups,
    }
}

fn ask<'a>(req: &'a ValidRequest, f: &Facts<'a>) -> Ask<'a> {
    Ask {
        new_email: f.new_email,
        other_mails_write: f.other_mails_write,
        redirect_url: &req.redirect_url,
        redirect_is_default: req.redirect_is_default,
        send_invitation_message: req.send_invitation_message,
        ticket: req.ticket.as_deref(),
        reason: req.reason.as_deref(),
        override_cooldown: req.override_cooldown,
        approvals: f.approvals,
        job_items: f.job_items,
    }
}

fn history(stored: &StoredHistory) -> History {
    let parse = |s: &String| crate::record::parse_timestamp(s);
    History {
        caller_last_hour: stored.caller_window.iter().filter_map(parse).collect(),
        agent_last_hour: stored
            .agent_window
            .as_ref()
            .map(|w| w.iter().filter_map(parse).collect()),
        target_last_reset: stored.target_last.as_ref().and_then(parse),
        target_in_flight: stored.target_in_flight,
    }
}

pub(super) fn policy_record(d: &Decision) -> PolicyRecord {
    PolicyRecord {
        allowed: d.allowed,
        rule: d.rule.clone(),
        reasons: d.reasons.clone(),
        version: Some(d.policy_version.clone()),
    }
}
