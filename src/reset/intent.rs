//! The audit record of a new request, before anything is known but what the
//! caller sent.

use super::ResetRequest;
use crate::auth::Identity;
use crate::record::{Agent, AgentVia, Requester, ResetRecord, Status, Target};

/// `c` as the actor of an audit event.
pub(super) fn actor(c: &Identity) -> serde_json::Value {
    crate::store::caller_actor(&requester(c))
}

pub(super) fn requester(c: &Identity) -> Requester {
    Requester {
        issuer: Some(c.issuer.clone()),
        subject: c.subject.clone(),
        object_id: c.object_id.clone(),
        tenant_id: c.tenant_id.clone(),
        app: c.app_id.clone(),
        name: c.name.clone(),
        // A delegated token is the person's own: the agent is known.
        agent: (c.object_id.is_some() && !c.scopes.is_empty()).then(|| Agent {
            id: c.object_id.clone().unwrap_or_default(),
            via: AgentVia::Delegated,
        }),
    }
}

pub(super) fn new_record(
    requester: Requester,
    request_id: Option<String>,
    input: Option<&ResetRequest>,
) -> ResetRecord {
    ResetRecord {
        job: None,
        id: uuid::Uuid::now_v7().to_string(),
        status: Status::Pending,
        // Until the tenant is resolved: what the caller named, if anything.
        tenant: input
            .and_then(|r| r.tenant.as_deref())
            .map(|t| clip(t, 64))
            .unwrap_or_default(),
        tenant_id: None,
        dry_run: input.is_some_and(|r| r.dry_run),
        user: input.map(|r| clip(&r.user, 256)),
        problem: None,
        target: Target::default(),
        new_email: input
            .and_then(|r| r.new_email.as_deref())
            .map(|e| clip(e, 256)),
        other_mails_added: false,
        send_invitation_message: None,
        redirect_url: None,
        invitation: None,
        graph_request_ids: Vec::new(),
        requested_by: requester,
        ticket: input
            .and_then(|r| r.ticket.as_deref())
            .map(|t| clip(t, 128)),
        reason: input
            .and_then(|r| r.reason.as_deref())
            .map(|t| clip(t, 1000)),
        override_cooldown: input.is_some_and(|r| r.override_cooldown),
        policy: None,
        request_id,
        invite_attempted_at: None,
        evidence: None,
        settle_after: None,
        retry_of: None,
        approval: None,
        created_at: crate::record::now_rfc3339(),
        completed_at: None,
    }
}

/// Unvalidated input is recorded too, so bound what an invalid request can
/// make the audit store keep.
fn clip(s: &str, max_chars: usize) -> String {
    s.trim().chars().take(max_chars).collect()
}
