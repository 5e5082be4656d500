//! The catalogue of problem types: the stable `type` URIs, titles and HTTP
//! statuses the API documents (openapi.yaml lists the same set; a test keeps
//! them in step). Module errors name a [`ProblemType`]; the HTTP edge turns it
//! into an RFC 9457 body, and the audit row stores the same type.

/// Every problem `type` is `urn:guest-reset:problem:<slug>`: stable, and not
/// pretending to be a URL that resolves.
pub const TYPE_PREFIX: &str = "urn:guest-reset:problem:";

macro_rules! catalogue {
    ($($variant:ident => ($slug:literal, $status:literal, $title:literal),)*) => {
        /// A documented problem type.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ProblemType { $($variant,)* }

        impl ProblemType {
            pub const ALL: &'static [ProblemType] = &[$(ProblemType::$variant,)*];

            pub fn slug(self) -> &'static str {
                match self { $(ProblemType::$variant => $slug,)* }
            }
            pub fn status(self) -> u16 {
                match self { $(ProblemType::$variant => $status,)* }
            }
            pub fn title(self) -> &'static str {
                match self { $(ProblemType::$variant => $title,)* }
            }
        }
    };
}

catalogue! {
    InvalidJson => ("invalid-json", 400, "Request body is not a JSON object"),
    InvalidRequest => ("invalid-request", 400, "Request is invalid"),
    InvalidIdempotencyKey => ("invalid-idempotency-key", 400, "Idempotency-Key is malformed"),
    JobInvalid => ("job-invalid", 400, "Job input is invalid"),
    TenantRequired => ("tenant-required", 400, "Name the tenant"),
    Unauthenticated => ("unauthenticated", 401, "Authentication required"),
    PermissionDenied => ("permission-denied", 403, "Permission missing"),
    PolicyDenied => ("policy-denied", 403, "Denied by policy"),
    TargetProtected => ("target-protected", 403, "Guest is protected"),
    NotAnApprover => ("not-an-approver", 403, "Not an approver of this reset"),
    SelfApproval => ("self-approval", 403, "Nobody approves their own request"),
    NotFound => ("not-found", 404, "Not found"),
    WebhookSignatureInvalid => ("webhook-signature-invalid", 401, "Webhook delivery could not be verified"),
    MethodNotAllowed => ("method-not-allowed", 405, "Method not allowed"),
    PayloadTooLarge => ("payload-too-large", 413, "Request body too large"),
    ResetInProgress => ("reset-in-progress", 409, "Another reset of this guest is in progress"),
    CooldownActive => ("cooldown-active", 409, "Guest was reset too recently"),
    ResetNotRetryable => ("reset-not-retryable", 409, "Only an unknown reset can be retried, once"),
    ApprovalExpired => ("approval-expired", 409, "The approval period is over"),
    AlreadyDecided => ("already-decided", 409, "The reset is no longer awaiting approval"),
    JobFinished => ("job-finished", 409, "The job is finished"),
    JobAwaitingApproval => ("job-awaiting-approval", 409, "The job awaits approval"),
    IdempotencyKeyInFlight => ("idempotency-key-in-flight", 409, "A request with this Idempotency-Key is in progress"),
    UnsupportedMediaType => ("unsupported-media-type", 415, "Unsupported media type"),
    UserNotFound => ("user-not-found", 422, "Guest not found"),
    TenantUnknown => ("tenant-unknown", 422, "No such tenant"),
    UserAmbiguous => ("user-ambiguous", 422, "Email matches more than one user"),
    NewEmailRequired => ("new-email-required", 422, "No email to reset to"),
    NotAGuest => ("not-a-guest", 422, "Target is not a guest"),
    TargetHasDirectoryRole => ("target-has-directory-role", 422, "Target holds a directory role"),
    EmailNotOnUser => ("email-not-on-user", 422, "New email is not on the user"),
    PolicyInvalid => ("policy-invalid", 422, "Policy file is invalid"),
    WebhookFieldMissing => ("webhook-field-missing", 422, "Webhook delivery lacks a mapped field"),
    IdempotencyKeyReused => ("idempotency-key-reused", 422, "Idempotency-Key was used with another request"),
    QuotaExceeded => ("quota-exceeded", 429, "Reset quota used up"),
    RateLimited => ("rate-limited", 429, "Too many requests"),
    Internal => ("internal", 500, "Internal error"),
    Interrupted => ("interrupted", 500, "Service stopped before the outcome was known"),
    GraphCredentialsInvalid => ("graph-credentials-invalid", 502, "Graph credentials are invalid"),
    GraphCredentialsExpired => ("graph-credentials-expired", 502, "Graph credentials have expired"),
    GraphAuthFailed => ("graph-auth-failed", 502, "Could not obtain a Graph token"),
    GraphPermissionMissing => ("graph-permission-missing", 502, "The service lacks a Graph permission"),
    GraphForbidden => ("graph-forbidden", 502, "Graph refused the reset"),
    GraphRejected => ("graph-rejected", 502, "Graph rejected the request"),
    GraphError => ("graph-error", 502, "Graph failed"),
    InvitationError => ("invitation-error", 502, "Graph reported the invitation as failed"),
    GraphNotApplied => ("graph-not-applied", 502, "Graph did not apply the reset"),
    NotReady => ("not-ready", 503, "Service not ready"),
    AuthUnavailable => ("auth-unavailable", 503, "Token signing keys unavailable"),
    GraphThrottled => ("graph-throttled", 503, "Graph is throttling requests"),
    GraphUnavailable => ("graph-unavailable", 503, "Graph is unavailable"),
    GraphOutcomeUnknown => ("graph-outcome-unknown", 504, "Outcome of the reset is unknown"),
    RequestTimeout => ("request-timeout", 504, "The request took too long"),
}

impl ProblemType {
    /// The full `type` URI.
    pub fn uri(self) -> String {
        format!("{TYPE_PREFIX}{}", self.slug())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_statuses_are_errors() {
        let mut slugs: Vec<_> = ProblemType::ALL.iter().map(|p| p.slug()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), ProblemType::ALL.len());
        assert!(
            ProblemType::ALL
                .iter()
                .all(|p| (400..600).contains(&p.status()))
        );
    }
}
