//! Why a reset did not happen, and which documented problem type that is.

use std::time::Duration;

use crate::graph::GraphError;
use crate::policy::{Decision, Denial};
use crate::problem::ProblemType;
use crate::record::Status;
use crate::store::StoreError;

/// The Graph call a failure happened in; it decides what the failure means
/// and which permission is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    ReadUser,
    /// A guest lookup (`$search` on users).
    SearchUsers,
    ReadRoles,
    /// The guest's sponsors (and their groups' members), for an approval.
    ReadSponsors,
    /// The users among a sponsor group's transitive members.
    ReadSponsorGroup,
    AddOtherMail,
    Invite,
}

impl Step {
    fn describe(self) -> &'static str {
        match self {
            Step::ReadUser => "reading the user",
            Step::SearchUsers => "searching the directory's guests ($search)",
            Step::ReadRoles => "reading the user's directory roles (transitiveMemberOf)",
            Step::ReadSponsors => "reading the guest's sponsors",
            Step::ReadSponsorGroup => "reading a sponsor group's members (transitiveMembers)",
            Step::AddOtherMail => "adding the new email to otherMails",
            Step::Invite => "resetting the redemption (POST /invitations)",
        }
    }

    /// The least-privileged application permission the step needs.
    fn permission(self) -> &'static str {
        match self {
            Step::ReadUser | Step::SearchUsers | Step::ReadRoles | Step::ReadSponsors => {
                "User.Read.All"
            }
            Step::ReadSponsorGroup => "GroupMember.Read.All",
            Step::AddOtherMail | Step::Invite => "User.ReadWrite.All",
        }
    }
}

/// Errors of the reset use case.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("{0}")]
    InvalidJson(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the delivery has no {field} at {pointer} (the source's field mapping)")]
    FieldMissing {
        field: &'static str,
        pointer: String,
    },
    #[error("no user matches {0:?}")]
    UserNotFound(String),
    #[error("{count} users have the email {email:?}")]
    UserAmbiguous { email: String, count: usize },
    #[error("the guest has no mail; give new_email")]
    NewEmailRequired,
    #[error("new email is not on the user and writing otherMails is disabled")]
    EmailNotOnUser,
    #[error("denied by policy")]
    PolicyDenied(Decision),
    #[error("{0}")]
    Tenant(#[from] crate::tenants::TenantError),
    /// The caller's grants give the permission in other tenants only.
    #[error("the caller's grants give {permission} in no tenant named {tenant:?}")]
    TenantNotPermitted {
        tenant: String,
        permission: &'static str,
    },
    /// A stored reset names a tenant no longer configured.
    #[error("tenant {0:?} is no longer configured; this reset cannot reach its Graph")]
    TenantGone(String),
    #[error("{0}")]
    NotAnApprover(String),
    #[error(
        "nobody approves their own request, or one made for them; another approver must decide"
    )]
    SelfApproval,
    #[error("the approval period is over")]
    ApprovalExpired,
    #[error("the reset is {} and no longer awaits approval", .0.as_str())]
    AlreadyDecided(Status),
    #[error(
        "approval by the guest's sponsors is required, but the guest has no sponsor who could approve"
    )]
    NoSponsors,
    #[error("the caller may not receive redeem URLs")]
    RedeemUrlNotPermitted,
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyKeyInFlight,
    #[error("{0}")]
    NotRetryable(String),
    #[error("Graph failed while {}: {error}", step.describe())]
    Graph { step: Step, error: GraphError },
    #[error("Graph answered the invitation with status {0:?}")]
    InvitationStatus(String),
    #[error("audit store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Lifecycle(#[from] super::lifecycle::LifecycleError),
}

impl ResetError {
    pub fn problem_type(&self) -> ProblemType {
        use ProblemType as P;
        match self {
            ResetError::InvalidJson(_) => P::InvalidJson,
            ResetError::Invalid(_) => P::InvalidRequest,
            ResetError::FieldMissing { .. } => P::WebhookFieldMissing,
            ResetError::UserNotFound(_) => P::UserNotFound,
            ResetError::UserAmbiguous { .. } => P::UserAmbiguous,
            ResetError::NewEmailRequired => P::NewEmailRequired,
            ResetError::EmailNotOnUser => P::EmailNotOnUser,
            ResetError::PolicyDenied(d) => denial_problem(d.denial),
            ResetError::NotAnApprover(_) => P::NotAnApprover,
            ResetError::SelfApproval => P::SelfApproval,
            ResetError::ApprovalExpired => P::ApprovalExpired,
            ResetError::AlreadyDecided(_) => P::AlreadyDecided,
            ResetError::NoSponsors => P::PolicyDenied,
            ResetError::RedeemUrlNotPermitted | ResetError::TenantNotPermitted { .. } => {
                P::PermissionDenied
            }
            ResetError::Tenant(crate::tenants::TenantError::Required { .. }) => P::TenantRequired,
            ResetError::Tenant(_) | ResetError::TenantGone(_) => P::TenantUnknown,
            ResetError::IdempotencyKeyInFlight => P::IdempotencyKeyInFlight,
            ResetError::NotRetryable(_) => P::ResetNotRetryable,
            ResetError::Graph { step, error } => graph_problem(*step, error),
            ResetError::InvitationStatus(_) => P::InvitationError,
            ResetError::Store(_) | ResetError::Lifecycle(_) => P::Internal,
        }
    }

    /// The audit status this failure ends in.
    pub fn status(&self) -> Status {
        match self.problem_type() {
            ProblemType::PolicyDenied
            | ProblemType::NotAGuest
            | ProblemType::TargetHasDirectoryRole
            | ProblemType::TargetProtected
            | ProblemType::ResetInProgress
            | ProblemType::CooldownActive
            | ProblemType::QuotaExceeded
            | ProblemType::PermissionDenied
            | ProblemType::EmailNotOnUser => Status::Denied,
            ProblemType::GraphOutcomeUnknown => Status::Unknown,
            _ => Status::Failed,
        }
    }

    /// How long the caller should wait before trying again, when Graph or
    /// a policy limit says.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ResetError::PolicyDenied(Decision {
                denial: Some(Denial::Quota { retry_after } | Denial::Cooldown { retry_after }),
                ..
            }) => Some(*retry_after),
            ResetError::Graph {
                error: GraphError::Api { retry_after, .. },
                ..
            } => *retry_after,
            ResetError::Graph {
                error: GraphError::CircuitOpen { retry_after } | GraphError::Budget { retry_after },
                ..
            } => Some(*retry_after),
            _ => None,
        }
    }

    /// A human explanation that helps the caller act. Never Graph's own
    /// message text (it is not ours to pass through).
    pub fn detail(&self) -> String {
        match self {
            ResetError::UserNotFound(u) => format!("No user in the directory matches {u:?}."),
            ResetError::UserAmbiguous { email, count } => format!(
                "{count} users have {email:?} as mail, otherMails or UPN; name the guest by object id (GET /v1/guests?search= finds it)."
            ),
            ResetError::NewEmailRequired => "The guest has no mail; give new_email.".into(),
            ResetError::EmailNotOnUser => "The new email is on neither mail nor otherMails, and this \
                service may not add it (GUEST_RESET_ALLOW_OTHER_MAILS_WRITE=false). Add it in Entra first."
                .into(),
            ResetError::PolicyDenied(d) => policy_detail(d),
            ResetError::RedeemUrlNotPermitted => "With send_invitation_message=false the answer carries the \
                invitation redeem URL, which needs the resets:redeem-url permission. Send the invitation \
                email instead, or ask for the permission."
                .into(),
            ResetError::Graph { step, error } => graph_detail(*step, error),
            ResetError::TenantNotPermitted { tenant, permission } => format!(
                "The policy's grants do not give you {permission} in tenant {tenant:?}; \
                 they come from its [[grant]] tables (and their `tenants`)."
            ),
            ResetError::Store(_) => "The audit store failed; nothing was sent to Graph if no audit row exists.".into(),
            other => other.to_string(),
        }
    }
}

fn denial_problem(denial: Option<Denial>) -> ProblemType {
    use ProblemType as P;
    match denial {
        Some(Denial::NotAGuest) => P::NotAGuest,
        Some(Denial::HasDirectoryRole) => P::TargetHasDirectoryRole,
        Some(Denial::Protected) => P::TargetProtected,
        Some(Denial::InFlight) => P::ResetInProgress,
        Some(Denial::Quota { .. }) => P::QuotaExceeded,
        Some(Denial::Cooldown { .. }) => P::CooldownActive,
        Some(Denial::Rules) | None => P::PolicyDenied,
    }
}

fn policy_detail(d: &Decision) -> String {
    let reasons = d.reasons.join("; ");
    match d.denial {
        Some(Denial::NotAGuest) => format!("Redemption can only be reset for guests: {reasons}."),
        Some(Denial::HasDirectoryRole) => format!(
            "Graph refuses app-only resets of role holders: {reasons}. Remove the role first or \
             reset in the Entra admin center."
        ),
        Some(Denial::Protected) => format!("This guest is protected by the policy: {reasons}."),
        Some(Denial::InFlight) => format!("{reasons}; wait for it to finish."),
        Some(Denial::Quota { .. } | Denial::Cooldown { .. }) => {
            format!("A policy limit applies: {reasons}. Try again after Retry-After seconds.")
        }
        Some(Denial::Rules) | None => format!("No policy rule allows this reset: {reasons}."),
    }
}

fn graph_problem(step: Step, error: &GraphError) -> ProblemType {
    use ProblemType as P;
    match error {
        GraphError::Token { codes, .. } if codes.contains(&7000222) => P::GraphCredentialsExpired,
        GraphError::Token { codes, .. }
            if codes
                .iter()
                // Wrong secret, client id, tenant, certificate or authority:
                // something an operator has to fix in configuration.
                .any(|c| {
                    [
                        7000215, 700016, 700011, 90002, 7000216, 700027, 700021, 700023, 50048,
                    ]
                    .contains(c)
                }) =>
        {
            P::GraphCredentialsInvalid
        }
        GraphError::Token { status: 429, .. } => P::GraphThrottled,
        GraphError::Token { .. } => P::GraphAuthFailed,
        GraphError::ThrottledInBatch { .. } if step == Step::Invite => P::GraphOutcomeUnknown,
        GraphError::Api { status: 429, .. }
        | GraphError::Budget { .. }
        | GraphError::ThrottledInBatch { .. } => P::GraphThrottled,
        // A 503 says Graph did not act. Any other 5xx from the reset call may
        // come after the invitation service acted: its outcome is unknown.
        GraphError::Api {
            status: 500..=599, ..
        } if step == Step::Invite && !matches!(error, GraphError::Api { status: 503, .. }) => {
            P::GraphOutcomeUnknown
        }
        GraphError::Api {
            status: 503 | 504, ..
        } => P::GraphUnavailable,
        GraphError::Api { status: 404, .. } => P::UserNotFound,
        GraphError::Api {
            status: 401, code, ..
        } if code == "InvalidAuthenticationToken" => P::GraphAuthFailed,
        GraphError::Api {
            status: 401 | 403,
            code,
            ..
        } if code == "Authorization_RequestDenied" || code == "Unauthorized" => {
            P::GraphPermissionMissing
        }
        GraphError::Api { status: 403, .. } if step == Step::Invite => P::GraphForbidden,
        GraphError::Api {
            status: 400..=499, ..
        } => P::GraphRejected,
        GraphError::Api { .. } => P::GraphError,
        GraphError::Transport {
            maybe_sent: true, ..
        }
        | GraphError::Decode(_)
            if step == Step::Invite =>
        {
            P::GraphOutcomeUnknown
        }
        GraphError::Transport { .. } | GraphError::CircuitOpen { .. } => P::GraphUnavailable,
        GraphError::Decode(_) => P::GraphError,
        // Our own refusal of a request Graph would refuse: a bug, not Graph's.
        GraphError::Refused(_) => P::Internal,
    }
}

fn graph_detail(step: Step, error: &GraphError) -> String {
    let what = step.describe();
    match (graph_problem(step, error), error) {
        (ProblemType::GraphPermissionMissing, _) => format!(
            "Graph refused {what}: grant the app the {} application permission and admin-consent it.",
            step.permission()
        ),
        (ProblemType::GraphForbidden, _) => format!(
            "Graph refused {what} (403). Usual causes: the app lacks User.ReadWrite.All, the guest \
             holds a directory role, or guest invitations are restricted in the tenant."
        ),
        (ProblemType::GraphOutcomeUnknown, _) => format!(
            "No answer from Graph while {what}; the reset may or may not have happened. The guest \
             is read back now and again after the grace period, and the reset is settled as \
             succeeded or failed when the evidence is clear: follow its record (reset_id), do not \
             send it again."
        ),
        (_, GraphError::Api { status, code, .. }) => {
            format!("Graph answered {status} {code} while {what}.")
        }
        (_, GraphError::Token { error, codes, .. }) => format!(
            "The token endpoint refused the service's credentials ({error}, AADSTS{}).",
            codes.first().map_or(String::new(), u64::to_string)
        ),
        (_, GraphError::Budget { .. }) => format!(
            "This tenant's budget for Graph writes is used up (Graph allows 150 invitations per 5 \
             seconds per tenant and 3,000 user writes per 150 seconds per app and tenant); nothing \
             was sent while {what}. Try again after Retry-After seconds."
        ),
        (_, GraphError::CircuitOpen { .. }) => format!(
            "Graph failed repeatedly, so calls to it are paused (circuit open); nothing was sent while \
             {what}. Try again after Retry-After seconds."
        ),
        (_, other) => format!("Graph failed while {what}: {other}."),
    }
}
