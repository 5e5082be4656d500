//! Approval events for people: requested, approved, denied, cancelled,
//! expired, executed. Each goes out as a Standard Webhooks-signed event
//! through the callback sender to the configured URL (a Teams or Slack
//! workflow, a ticketing system), with a link to the record.

use super::ResetService;
use crate::callback::Notifier;
use crate::record::ResetRecord;
use crate::store::NewNotification;

/// What happened to a reset's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Requested,
    Approved,
    Denied,
    Cancelled,
    Expired,
    /// The approved reset ran to its end (succeeded, failed, denied, unknown).
    Executed,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Requested => "approval.requested",
            Event::Approved => "approval.approved",
            Event::Denied => "approval.denied",
            Event::Cancelled => "approval.cancelled",
            Event::Expired => "approval.expired",
            Event::Executed => "approval.executed",
        }
    }
}

impl ResetService {
    /// Send approval events through `notifier` (from start-up on, so no
    /// event is lost before the sender runs: they wait in the store).
    pub fn with_notifier(mut self, notifier: Option<Notifier>) -> ResetService {
        self.notifier = notifier;
        self
    }

    /// The notifier the sender shares (its wake-up), when configured.
    pub fn notifier(&self) -> Option<&Notifier> {
        self.notifier.as_ref()
    }

    /// Schedule `event` about `record` for the notification URL, if one is
    /// configured. A failure to schedule is logged, never the reset's.
    pub(super) async fn notify(&self, record: &ResetRecord, event: Event) {
        tracing::info!(reset_id = %record.id, event = event.as_str(), "approval event");
        let Some(notifier) = &self.notifier else {
            return;
        };
        let now = crate::record::now_rfc3339();
        let links = (notifier.link(&record.id), notifier.console_link(&record.id));
        let body = body(record, event, links, &now);
        let notification = NewNotification {
            // Its own id, kept across retries, so a receiver can dedupe; a
            // reset can have the same event twice (a second approver, or a
            // request asked again when the policy changed in between).
            id: uuid::Uuid::now_v7().to_string(),
            reset_id: record.id.clone(),
            event: event.as_str(),
            body: body.to_string(),
            url: notifier.url().to_string(),
        };
        match self.store.schedule_notification(&notification, &now).await {
            Ok(()) => notifier.wake(),
            Err(e) => tracing::error!(
                error = %e, reset_id = %record.id, event = event.as_str(),
                "could not schedule the approval notification"
            ),
        }
    }
}

/// What a receiver gets: who asked what, where it stands, and a link to the
/// record. Only what the record holds (never a redeem URL, token or secret:
/// the record has none), and of the guest only what the approval says: a
/// chat channel is a wider audience than the API's readers, and the link
/// shows the rest to those allowed to read it.
fn body(
    record: &ResetRecord,
    event: Event,
    (link, console_link): (String, Option<String>),
    now: &str,
) -> serde_json::Value {
    serde_json::json!({
        "type": event.as_str(),
        "reset_id": record.id,
        "status": record.status,
        "tenant": record.tenant,
        "link": link,
        "console_link": console_link,
        "requested_by": record.requested_by,
        "approval": record.approval,
        "problem": record.problem.as_ref().map(|p| &p.kind),
        "occurred_at": now,
    })
}
