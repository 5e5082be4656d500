//! The reset record: what the audit store keeps and the API shows for every
//! reset request. It never holds the invitation redeem URL, tokens or secrets:
//! there is simply no field for them.

use serde::{Deserialize, Serialize};

mod approval;

pub use approval::{
    ApprovalRecord, Approver, Approvers, Decision as ApprovalDecision, Verdict as ApprovalVerdict,
};

/// Lifecycle of a reset request (`reset/lifecycle.rs` owns the moves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Received and recorded; its owner is deciding it (the policy, the
    /// guest's state), holding a lease. A dry run ends from here.
    Pending,
    /// Accepted for later (a webhook delivery, `Prefer: respond-async`); a
    /// worker on any replica takes it.
    Queued,
    /// Allowed: its owner (holding a lease) is writing to Graph.
    Running,
    /// Allowed only with approval: waits for the approvers (nothing sent).
    AwaitingApproval,
    Succeeded,
    /// Graph or the input refused or failed; nothing was reset.
    Failed,
    /// The policy or a global protection refused; Graph was not written.
    Denied,
    /// Graph may or may not have applied the reset (e.g. timeout after send).
    Unknown,
    /// Withdrawn by its requester while it waited for approval.
    Cancelled,
    /// Not approved in time, or approved but not run within its window.
    Expired,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Pending,
        Status::Queued,
        Status::Running,
        Status::AwaitingApproval,
        Status::Succeeded,
        Status::Failed,
        Status::Denied,
        Status::Unknown,
        Status::Cancelled,
        Status::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Queued => "queued",
            Status::Running => "running",
            Status::AwaitingApproval => "awaiting_approval",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Denied => "denied",
            Status::Unknown => "unknown",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Not finished yet: received, queued, waiting or running.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Pending | Status::Queued | Status::Running | Status::AwaitingApproval
        )
    }
}

/// The guest as it was before the reset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub id: Option<String>,
    pub user_principal_name: Option<String>,
    pub previous_email: Option<String>,
    pub user_type: Option<String>,
    pub external_user_state: Option<String>,
    /// When `external_user_state` last changed, as Graph said before this
    /// reset wrote anything: what a read-back compares with.
    #[serde(default)]
    pub external_user_state_change_date_time: Option<String>,
}

/// The issuer of a webhook source's resets is this plus the source's name.
pub const WEBHOOK_ISSUER_PREFIX: &str = "urn:guest-reset:webhook:";

/// Who asked, from the validated token (or the webhook source and the
/// person its mapping names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Requester {
    /// Token issuer (`iss`); with `subject` it identifies the owner of a reset.
    pub issuer: Option<String>,
    pub subject: String,
    /// Entra object id (`oid`) and tenant (`tid`), when the token has them.
    pub object_id: Option<String>,
    pub tenant_id: Option<String>,
    /// Client application (`azp` / `appid`).
    pub app: Option<String>,
    pub name: Option<String>,
    /// The person behind an app's call: from a delegated token, or as the
    /// app stated it (`on_behalf_of`, with `resets:act-for-agents`).
    #[serde(default)]
    pub agent: Option<Agent>,
}

/// The human agent a request was made for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    /// Object id (delegated tokens), or the UPN or object id an app stated.
    pub id: String,
    pub via: AgentVia,
}

/// How the agent is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentVia {
    /// The agent's own delegated token (`oid` with `scp`).
    Delegated,
    /// An app token's `on_behalf_of`.
    OnBehalfOf,
}

impl AgentVia {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentVia::Delegated => "delegated",
            AgentVia::OnBehalfOf => "on_behalf_of",
        }
    }

    pub fn parse(s: &str) -> AgentVia {
        match s {
            "delegated" => AgentVia::Delegated,
            _ => AgentVia::OnBehalfOf,
        }
    }
}

/// The policy decision as recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyRecord {
    pub allowed: bool,
    pub rule: Option<String>,
    pub reasons: Vec<String>,
    /// Hash of the policy text the decision was made under.
    pub version: Option<String>,
}

/// Why a reset did not succeed, as the stable problem type and a human text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemRecord {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

/// What a read-back of the guest concluded about this reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Graph shows a change after this reset's own first attempt that no
    /// other reset of the guest can explain.
    Applied,
    /// Graph shows the guest exactly as before this reset: nothing happened
    /// (final once the grace period has passed).
    Unchanged,
    /// The evidence cannot tell; a person decides.
    Undecided,
}

/// What a read-back of the guest showed, after Graph's answer to the reset
/// was lost or the service stopped midway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub read_at: String,
    pub external_user_state: Option<String>,
    pub external_user_state_change_date_time: Option<String>,
    pub mail: Option<String>,
    pub other_mails: Vec<String>,
    /// Rows written before the verdict existed have none: undecided.
    #[serde(default)]
    pub verdict: Option<Verdict>,
    /// The conclusion, in words.
    pub finding: String,
}

impl Evidence {
    /// Graph showed the reset as applied.
    pub fn applied(&self) -> bool {
        self.verdict == Some(Verdict::Applied)
    }
}

/// The invitation Graph created (never its redeem URL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationRecord {
    pub id: String,
    pub status: String,
}

/// A job item's place: its job, its (1-based) number in it, and the job's
/// size (which the policy's `max_job_items` limits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLink {
    pub id: String,
    pub item: u32,
    pub total: u32,
}

/// One reset request and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResetRecord {
    pub id: String,
    pub status: Status,
    /// The tenant's name as configured when the reset was asked for (as the
    /// caller gave it when it names none); rows from before tenants existed
    /// say `default`.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// The tenant's directory id (or domain) as configured then.
    #[serde(default)]
    pub tenant_id: Option<String>,
    pub dry_run: bool,
    /// The identifier the caller gave (object id, UPN or email).
    pub user: Option<String>,
    pub problem: Option<ProblemRecord>,
    pub target: Target,
    pub new_email: Option<String>,
    pub other_mails_added: bool,
    pub send_invitation_message: Option<bool>,
    pub redirect_url: Option<String>,
    pub invitation: Option<InvitationRecord>,
    pub graph_request_ids: Vec<String>,
    pub requested_by: Requester,
    pub ticket: Option<String>,
    pub reason: Option<String>,
    /// The caller asked to override a per-guest cooldown.
    pub override_cooldown: bool,
    pub policy: Option<PolicyRecord>,
    pub request_id: Option<String>,
    /// Our clock just before the first `POST /invitations`, committed before
    /// it was sent; `None`: the invitation was never sent.
    #[serde(default)]
    pub invite_attempted_at: Option<String>,
    /// The read-back after a lost answer or a stop: what Graph showed.
    #[serde(default)]
    pub evidence: Option<Evidence>,
    /// When an `unknown` reset is read back again; `None`: no automatic
    /// re-read is due (a person decides).
    #[serde(default)]
    pub settle_after: Option<String>,
    /// The `unknown` reset this one re-drives (`POST /v1/resets/{id}/retry`).
    #[serde(default)]
    pub retry_of: Option<String>,
    /// The approval the policy required, and its decisions.
    #[serde(default)]
    pub approval: Option<ApprovalRecord>,
    /// The bulk job this reset is an item of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobLink>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub completed_at: Option<String>,
}

impl ResetRecord {
    /// The tenant as metrics label it: only a configured tenant's name, so
    /// a caller cannot mint label values by naming tenants that do not exist.
    pub fn tenant_label(&self) -> &str {
        match self.tenant_id {
            Some(_) => &self.tenant,
            None => "",
        }
    }
}

fn default_tenant() -> String {
    crate::config::DEFAULT_TENANT.to_owned()
}

/// Now, in the fixed-width RFC 3339 form the store compares lexically.
pub fn now_rfc3339() -> String {
    format_timestamp(time::OffsetDateTime::now_utc())
}

/// UTC with microseconds and a `Z`: fixed width, so string order is time order.
pub fn format_timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.format(&format).unwrap_or_default()
}

/// Any RFC 3339 timestamp (ours, or Graph's whole seconds).
pub fn parse_timestamp(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// Parse any RFC 3339 timestamp and normalise it to [`format_timestamp`].
pub fn normalise_timestamp(s: &str) -> Option<String> {
    parse_timestamp(s).map(format_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_normalise_to_sortable_utc() {
        assert_eq!(
            normalise_timestamp("2026-11-25T12:00:00+01:00").as_deref(),
            Some("2026-11-25T11:00:00.000000Z")
        );
        assert_eq!(normalise_timestamp("yesterday"), None);
    }

    #[test]
    fn status_round_trips() {
        for s in ["pending", "succeeded", "failed", "denied", "unknown"] {
            assert_eq!(Status::parse(s).map(Status::as_str), Some(s));
        }
        assert_eq!(Status::parse("done"), None);
    }
}
