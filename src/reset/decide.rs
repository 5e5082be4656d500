//! Asking the policy: gather the facts (the caller, the guest as Graph
//! describes it, the request, earlier resets from the audit store) and, when
//! the policy allows, claim the guest in the same store transaction so a
//! concurrent request for the same guest or over the same quota sees it.

use time::OffsetDateTime;

use super::{ResetError, ResetService, ValidRequest};
use crate::auth::Identity;
use crate::graph::{GraphUser, Memberships};
use crate::policy::{Ask, Decision, History, Question, Target, TenantRef};
use crate::record::{PolicyRecord, ResetRecord, format_timestamp};
use crate::store::{HistoryQuery, StoredHistory};

/// The Graph facts about the guest and what the request needs done.
pub(super) struct Facts<'a> {
    pub user: &'a GraphUser,
    pub memberships: &'a Memberships,
    pub new_email: &'a str,
    pub other_mails_write: bool,
}

impl ResetService {
    pub(super) async fn decide(
        &self,
        caller: &Identity,
        req: &ValidRequest,
        record: &mut ResetRecord,
        facts: Facts<'_>,
    ) -> Result<(), ResetError> {
        let policy = self.policy();
        let now = OffsetDateTime::now_utc();
        let query = HistoryQuery {
            reset_id: record.id.clone(),
            retry_of: record.retry_of.clone(),
            requester_issuer: record.requested_by.issuer.clone(),
            requester_subject: record.requested_by.subject.clone(),
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
                // The row says "allowed" inside the transaction that checked the
                // limits, so the next request counts it. Dry runs claim nothing.
                let claim = (decision.allowed && !req.dry_run).then(|| {
                    // With no email to add first, the invitation is the next Graph
                    // call: this commit is its first attempt's anchor too (one
                    // durable write fewer; see flow.rs `anchor`).
                    if !adds_email {
                        record.invite_attempted_at = Some(crate::record::now_rfc3339());
                    }
                    // pending -> running: the Graph writes start.
                    record.status = crate::record::Status::Running;
                    record.clone()
                });
                (decision, claim)
            })
            .await?;
        match decision.allowed {
            true => Ok(()),
            false => Err(ResetError::PolicyDenied(decision)),
        }
    }
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
    }
}

fn history(stored: &StoredHistory) -> History {
    let parse = |s: &String| crate::record::parse_timestamp(s);
    History {
        caller_last_hour: stored.caller_window.iter().filter_map(parse).collect(),
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
