//! The application permissions in the token. There is no harmless way to try
//! `PATCH /users/{id}` or `POST /invitations`, so those two are judged from
//! the token's `roles` claim.

use super::Check;
use super::target::Target;
use crate::graph::{GraphClient, GraphError, TokenGrants};

const ROLES: &str = "application permissions";
const RESET: &str = "permission: reset redemption (POST /invitations)";
const OTHER_MAILS: &str = "permission: add address to otherMails (PATCH /users/{id})";

/// The checks that need a token, in order.
pub(super) const CHECKS: &[&str] = &[ROLES, RESET, OTHER_MAILS];

/// A write the service makes, and the application permissions that allow it.
struct Need {
    what: &'static str,
    /// Any one of these suffices.
    accepted: &'static [&'static str],
    /// The least-privileged one we recommend.
    recommend: &'static str,
}

/// graph.md §1.5: User.ReadWrite.All is the least-privileged permission for
/// `resetRedemption`; User.Invite.All only invites.
const RESET_NEED: Need = Need {
    what: RESET,
    accepted: &["User.ReadWrite.All", "Directory.ReadWrite.All"],
    recommend: "User.ReadWrite.All",
};

/// graph.md §2.1: User-Mail.ReadWrite.All is the least privileged for
/// `otherMails`, but the reset needs User.ReadWrite.All anyway, which covers it.
const OTHER_MAILS_NEED: Need = Need {
    what: OTHER_MAILS,
    accepted: &[
        "User.ReadWrite.All",
        "User-Mail.ReadWrite.All",
        "Directory.ReadWrite.All",
    ],
    recommend: "User.ReadWrite.All",
};

/// What the token's `roles` claim allows; `other_mails`: whether the service
/// writes `otherMails` (GUEST_RESET_ALLOW_OTHER_MAILS_WRITE).
pub(super) async fn permissions(
    client: &GraphClient,
    target: &Target,
    other_mails: bool,
) -> Vec<Check> {
    let grants = match client.granted_roles().await {
        Ok(grants) => grants,
        Err(e) => return undecodable(&e, &target.graph.client_id),
    };
    let other_mails = match other_mails {
        true => judge(&OTHER_MAILS_NEED, &grants, target),
        false => Check::skipped(
            OTHER_MAILS,
            "not used: GUEST_RESET_ALLOW_OTHER_MAILS_WRITE is false",
        ),
    };
    vec![
        roles(&grants, target),
        judge(&RESET_NEED, &grants, target),
        other_mails,
    ]
}

fn undecodable(error: &GraphError, client_id: &str) -> Vec<Check> {
    let fix = format!(
        "check app {client_id}'s API permissions in the Entra admin center: Microsoft Graph \
         application permissions User.ReadWrite.All and User.Read.All, admin consent granted"
    );
    let mut checks = vec![Check::failed(
        ROLES,
        format!("{error}; the write permissions cannot be judged"),
        fix,
    )];
    checks.extend(
        [RESET, OTHER_MAILS]
            .iter()
            .map(|what| Check::skipped(what, "needs the token's roles")),
    );
    checks
}

fn roles(grants: &TokenGrants, target: &Target) -> Check {
    let client_id = &target.graph.client_id;
    let scopes = match grants.scp.as_deref().filter(|s| !s.is_empty()) {
        Some(scp) => {
            format!("delegated scopes ({scp}) are ignored: the service calls Graph app-only")
        }
        None => "delegated scopes (scp) are not used: the service calls Graph app-only".into(),
    };
    let whose = format!(
        "app {}, tenant {}",
        grants.app_id().unwrap_or(client_id),
        grants.tid.as_deref().unwrap_or("?")
    );
    if grants.roles.is_empty() {
        let detail = format!("the token's roles claim is empty ({whose}); {scopes}");
        let fix = target.grant("User.ReadWrite.All and User.Read.All");
        return Check::missing(ROLES, detail, fix);
    }
    let detail = format!("roles: {} ({whose}); {scopes}", grants.roles.join(", "));
    Check::ok(ROLES, detail)
}

fn judge(need: &Need, grants: &TokenGrants, target: &Target) -> Check {
    let how = "judged from the token's roles: there is no harmless test call for this write";
    if let Some(role) = need.accepted.iter().find(|role| grants.has_any(&[**role])) {
        return Check::ok(need.what, format!("{role} granted ({how})"));
    }
    let mut detail = format!("none of {} granted ({how})", need.accepted.join(", "));
    if need.what == RESET && grants.has_any(&["User.Invite.All"]) {
        detail.push_str("; User.Invite.All only invites, it cannot reset a redemption");
    }
    Check::missing(need.what, detail, target.grant(need.recommend))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    fn grants(roles: &[&str]) -> TokenGrants {
        TokenGrants {
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            ..TokenGrants::default()
        }
    }

    fn target(client_id: &str, shared_app: bool) -> Target {
        Target::demo(client_id, shared_app, shared_app)
    }

    #[test]
    fn invite_only_apps_are_told_to_add_user_readwrite_all() {
        let check = judge(
            &RESET_NEED,
            &grants(&["User.Invite.All"]),
            &target("app-1", false),
        );
        assert_eq!(check.status, Status::Missing);
        assert!(check.detail.contains("User.Invite.All only invites"));
        assert_eq!(
            check.fix.as_deref(),
            Some(
                "grant User.ReadWrite.All (application permission) to app app-1 and grant \
                 admin consent"
            )
        );
    }

    #[test]
    fn user_mail_readwrite_all_is_enough_for_other_mails_but_not_for_the_reset() {
        let (g, t) = (grants(&["User-Mail.ReadWrite.All"]), target("a", false));
        assert_eq!(judge(&OTHER_MAILS_NEED, &g, &t).status, Status::Ok);
        assert_eq!(judge(&RESET_NEED, &g, &t).status, Status::Missing);
    }

    #[test]
    fn a_shared_app_missing_a_permission_is_told_to_consent_again_in_the_tenant() {
        let t = target("app-1", true);
        let check = judge(&RESET_NEED, &grants(&["User.Read.All"]), &t);
        let fix = check.fix.unwrap();
        assert!(fix.contains(&format!(
            "grant admin consent in tenant {}",
            t.graph.tenant_id
        )));
        assert!(fix.contains(&t.consent_url()), "{fix}");
    }
}
