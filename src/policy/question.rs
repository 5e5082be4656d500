//! What the policy is asked (the facts, fetched beforehand) and what it
//! answers.

use std::time::Duration;

use time::OffsetDateTime;

/// The caller, from its validated token.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub object_id: Option<&'a str>,
    pub app_id: Option<&'a str>,
    pub roles: &'a [String],
    pub scopes: &'a [String],
    pub groups: &'a [String],
}

/// The guest, as Graph describes it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The tenant the guest lives in.
    pub tenant: super::TenantRef<'a>,
    pub id: &'a str,
    pub upn: Option<&'a str>,
    pub mail: Option<&'a str>,
    pub user_type: Option<&'a str>,
    /// Display names (or ids) of directory roles the guest holds.
    pub roles: &'a [String],
    /// Ids of the groups the guest is a transitive member of.
    pub groups: &'a [String],
}

/// What the caller asks for, defaults applied.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub new_email: &'a str,
    /// The new email is on neither `mail` nor `otherMails`, so it must be added.
    pub other_mails_write: bool,
    pub redirect_url: &'a str,
    /// The caller did not choose the redirect URL: it is the configured default.
    pub redirect_is_default: bool,
    pub send_invitation_message: bool,
    pub ticket: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub override_cooldown: bool,
    /// Distinct approvals this reset already has (at execution, after its
    /// approval); 0 when asked for the first time.
    pub approvals: u32,
    /// The size of the bulk job this reset is an item of; `None`: a single reset.
    pub job_items: Option<u32>,
}

/// Earlier resets, from the audit store.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Creation times of the caller's resets (allowed, not dry runs, not
    /// failed) in the hour before `now`.
    pub caller_last_hour: Vec<OffsetDateTime>,
    /// The same for the agent the request names (any caller), when it names one.
    pub agent_last_hour: Option<Vec<OffsetDateTime>>,
    /// The latest such reset of the same guest, by anyone.
    pub target_last_reset: Option<OffsetDateTime>,
    /// Another reset of this guest is still being applied.
    pub target_in_flight: bool,
}

/// Everything the policy needs, fetched beforehand.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub caller: Caller<'a>,
    pub target: Target<'a>,
    pub ask: Ask<'a>,
    pub history: &'a History,
    pub now: OffsetDateTime,
}

/// Why a reset was refused, as far as the caller's next move differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    NotAGuest,
    HasDirectoryRole,
    Protected,
    InFlight,
    /// No rule allows it, or a deny rule matched.
    Rules,
    Quota {
        retry_after: Duration,
    },
    Cooldown {
        retry_after: Duration,
    },
}

/// The answer: which rule allowed, or why nothing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The policy allows it (with `approval`, only once approved).
    pub allowed: bool,
    pub rule: Option<String>,
    pub reasons: Vec<String>,
    pub denial: Option<Denial>,
    pub policy_version: String,
    /// Approval still needed before the reset may run.
    pub approval: Option<Box<super::Requirement>>,
}
