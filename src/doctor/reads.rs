//! One harmless read per Graph read call the service makes: the same
//! request (or its first page), so Graph itself says whether the app may.

use super::Check;
use super::target::Target;
use crate::graph::{Call, GraphClient, GraphError};

const FIND: &str = "read: find users by email (GET /users?$filter=...)";
const GET: &str = "read: get a user (GET /users/{id}?$select=...)";
const MEMBERSHIPS: &str = "read: a user's roles (GET /users/{id}/transitiveMemberOf)";

/// The read checks, in order.
pub(super) const CHECKS: &[&str] = &[FIND, GET, MEMBERSHIPS];

/// RFC 2606 reserves `.invalid`: the service's own lookup, matching nobody.
const NOBODY: &str = "guest-reset-doctor@doctor.invalid";

/// The least-privileged application permission for all three reads. Unlike
/// the user reads, `transitiveMemberOf` does not list User.ReadWrite.All
/// among the permissions that allow it (user-list-transitivememberof).
const READ_PERMISSION: &str = "User.Read.All";

pub(super) async fn probe(client: &GraphClient, target: &Target) -> Vec<Check> {
    let find = match client.find_users_by_email(NOBODY).await {
        Ok(_) => Check::ok(FIND, format!("Graph answered 200 (looked for {NOBODY})")),
        Err(e) => failure(FIND, &e, target),
    };
    let user = match client.any_user_id().await {
        Ok(Call {
            value: Some(id), ..
        }) => id,
        Ok(_) => return with_skipped(find, "the directory lists no user to read"),
        Err(e) => {
            let mut checks = vec![find, failure(GET, &e, target)];
            checks.push(Check::skipped(MEMBERSHIPS, "needs a user to read"));
            return checks;
        }
    };
    let get = match client.get_user(&user).await {
        Ok(Call { value: Some(_), .. }) => {
            Check::ok(GET, format!("Graph answered 200 (user {user})"))
        }
        Ok(Call { value: None, .. }) => Check::failed(
            GET,
            format!("Graph answered 404 for user {user}, which it had just listed"),
            "run the doctor again (directory replication delay)".into(),
        ),
        Err(e) => failure(GET, &e, target),
    };
    let memberships = match client.first_membership(&user).await {
        Ok(_) => Check::ok(MEMBERSHIPS, format!("Graph answered 200 (user {user})")),
        Err(e) => failure(MEMBERSHIPS, &e, target),
    };
    vec![find, get, memberships]
}

fn with_skipped(find: Check, why: &str) -> Vec<Check> {
    vec![
        find,
        Check::skipped(GET, why),
        Check::skipped(MEMBERSHIPS, why),
    ]
}

/// A refused read: a missing permission when Graph says so, else what Graph
/// answered and where to look.
fn failure(what: &str, error: &GraphError, target: &Target) -> Check {
    let request_id = error
        .request_id()
        .map_or(String::new(), |id| format!(", request-id {id}"));
    match error {
        GraphError::Api { status, code, .. } if denied(*status, code) => Check::missing(
            what,
            format!("Graph answered {status} {code}{request_id}: the app lacks the permission"),
            target.grant(READ_PERMISSION),
        ),
        GraphError::Api { status, code, .. } => Check::failed(
            what,
            format!("Graph answered {status} {code}{request_id}"),
            api_fix(*status, code, target),
        ),
        GraphError::Transport { .. } | GraphError::Decode(_) => Check::failed(
            what,
            error.to_string(),
            format!(
                "check {} (https://graph.microsoft.com in the global cloud, without /v1.0) and \
                 that this host can reach it",
                target.graph_url_setting()
            ),
        ),
        GraphError::Token { .. }
        | GraphError::CircuitOpen { .. }
        | GraphError::Budget { .. }
        | GraphError::ThrottledInBatch { .. }
        | GraphError::Refused(_) => Check::failed(
            what,
            error.to_string(),
            "run the doctor again; if it persists, see the token endpoint line".into(),
        ),
    }
}

/// Graph's codes for "not allowed" (graph.md §3.4): the directory's
/// `Authorization_RequestDenied`, the invitation service's generic ones.
fn denied(status: u16, code: &str) -> bool {
    matches!(status, 401 | 403)
        && matches!(
            code,
            "Authorization_RequestDenied" | "Forbidden" | "Unauthorized"
        )
}

fn api_fix(status: u16, code: &str, target: &Target) -> String {
    match (status, code) {
        (401, "InvalidAuthenticationToken") => format!(
            "Graph does not accept the token: {} and {} must be the same cloud",
            target.graph_url_setting(),
            target.authority_setting()
        ),
        (429, _) | (500..=599, _) => {
            "Graph is throttling or unavailable: run the doctor again later".into()
        }
        _ => format!(
            "unexpected for this read: check that {} is Microsoft Graph",
            target.graph_url_setting()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    fn target(client_id: &str) -> Target {
        Target::demo(client_id, false, false)
    }

    fn api(status: u16, code: &str) -> GraphError {
        GraphError::Api {
            status,
            code: code.into(),
            message: "Insufficient privileges to complete the operation.".into(),
            request_id: Some("req-1".into()),
            retry_after: None,
        }
    }

    #[test]
    fn a_denied_read_is_a_missing_permission_with_the_grant_fix() {
        let check = failure(
            MEMBERSHIPS,
            &api(403, "Authorization_RequestDenied"),
            &target("app-1"),
        );
        assert_eq!(check.status, Status::Missing);
        assert!(
            check
                .detail
                .contains("403 Authorization_RequestDenied, request-id req-1")
        );
        assert!(
            check
                .fix
                .unwrap()
                .starts_with("grant User.Read.All (application permission) to app app-1")
        );
    }

    #[test]
    fn other_graph_errors_are_failures_not_missing_permissions() {
        let check = failure(GET, &api(503, "serviceNotAvailable"), &target("a"));
        assert_eq!(check.status, Status::Failed);
        assert!(check.fix.unwrap().contains("again later"));
    }
}
