//! The token endpoint and the application permissions in the token. There is
//! no harmless way to try `PATCH /users/{id}` or `POST /invitations`, so
//! those two are judged from the token's `roles` claim.

use super::{Check, grant};
use crate::config::{Config, GraphConfig};
use crate::graph::{GraphClient, GraphError, TokenGrants};

pub(super) const TOKEN: &str = "token endpoint";
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

/// The client the doctor tests with: the service's settings, one attempt per
/// call (the doctor reports what Graph answers instead of riding it out).
pub(super) fn client(config: &GraphConfig) -> Result<GraphClient, Check> {
    let mut settings = crate::app::graph_settings(config);
    settings.retry.max_attempts = 1;
    GraphClient::new(settings).map_err(|e| {
        Check::failed(
            TOKEN,
            format!("cannot prepare the credentials: {e}"),
            "check GUEST_RESET_GRAPH_CLIENT_KEY_FILE (an RSA private key in PEM)".into(),
        )
    })
}

pub(super) async fn token(client: &GraphClient, config: &GraphConfig) -> Check {
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        config.authority_url, config.tenant_id
    );
    match client.check_token().await {
        Ok(()) => {
            let proof = match config.certificate {
                Some(_) => "certificate",
                None => "client secret",
            };
            Check::ok(TOKEN, format!("{url} accepted the {proof}"))
        }
        Err(GraphError::Token {
            status,
            error,
            codes,
        }) => {
            let code = codes.first().copied();
            let fix = token_fix(code, status, config);
            let code = code.map_or(String::new(), |c| format!(", AADSTS{c}"));
            let detail = format!("{url} refused the credentials ({status} {error}{code})");
            Check::failed(TOKEN, detail, fix)
        }
        Err(e) => Check::failed(
            TOKEN,
            format!("{url} cannot be reached ({})", unreached(&e)),
            "check GUEST_RESET_GRAPH_AUTHORITY_URL (https://login.microsoftonline.com in the \
             global cloud) and that this host can reach it (DNS, proxy, firewall)"
                .into(),
        ),
    }
}

/// Why the token request got no answer, without the client's "Graph" wording.
fn unreached(error: &GraphError) -> String {
    match error {
        GraphError::Transport { message, .. } => message
            .strip_prefix("token endpoint: ")
            .unwrap_or(message)
            .to_owned(),
        other => other.to_string(),
    }
}

/// The exact fix for a refusal of the token endpoint, by AADSTS code
/// (graph.md §6.3; the certificate codes as the emulator sources them).
fn token_fix(code: Option<u64>, status: u16, c: &GraphConfig) -> String {
    let secret = "GUEST_RESET_GRAPH_CLIENT_SECRET (or GUEST_RESET_GRAPH_CLIENT_SECRET_FILE)";
    match code {
        Some(7000215) => format!(
            "the client secret is wrong: set {secret} to the secret's Value (not its Secret ID) \
             from app {}'s Certificates & secrets",
            c.client_id
        ),
        Some(7000222) => format!(
            "the client secret has expired: add a new secret to app {} and set {secret}",
            c.client_id
        ),
        Some(700016 | 700011) => format!(
            "no app {} in tenant {}: check GUEST_RESET_GRAPH_CLIENT_ID (the Application (client) \
             ID) and GUEST_RESET_GRAPH_TENANT_ID",
            c.client_id, c.tenant_id
        ),
        Some(90002) => "the tenant does not exist: check GUEST_RESET_GRAPH_TENANT_ID and, in a \
             national cloud, GUEST_RESET_GRAPH_AUTHORITY_URL"
            .into(),
        Some(700027) => format!(
            "the certificate is not registered on app {} (or has expired): upload the \
             certificate in GUEST_RESET_GRAPH_CLIENT_CERTIFICATE_FILE to the app registration \
             (Certificates & secrets) and check that GUEST_RESET_GRAPH_CLIENT_KEY_FILE is its key",
            c.client_id
        ),
        Some(700021 | 700023 | 50048) => "the client assertion names another app or authority: \
             check GUEST_RESET_GRAPH_CLIENT_ID and GUEST_RESET_GRAPH_AUTHORITY_URL"
            .into(),
        Some(70011 | 500011 | 28000) => "the requested scope names no Graph resource: check \
             GUEST_RESET_GRAPH_URL (it must be the Graph of GUEST_RESET_GRAPH_AUTHORITY_URL's cloud)"
            .into(),
        _ if status == 429 || status >= 500 => {
            "the token endpoint is throttling or unavailable: run the doctor again later".into()
        }
        Some(other) => format!("look up https://login.microsoftonline.com/error?code={other}"),
        None => "check GUEST_RESET_GRAPH_AUTHORITY_URL points at the Microsoft identity platform"
            .into(),
    }
}

/// What the token's `roles` claim allows.
pub(super) async fn permissions(client: &GraphClient, config: &Config) -> Vec<Check> {
    let client_id = &config.graph.client_id;
    let grants = match client.granted_roles().await {
        Ok(grants) => grants,
        Err(e) => return undecodable(&e, client_id),
    };
    let other_mails = match config.reset.allow_other_mails_write {
        true => judge(&OTHER_MAILS_NEED, &grants, client_id),
        false => Check::skipped(
            OTHER_MAILS,
            "not used: GUEST_RESET_ALLOW_OTHER_MAILS_WRITE is false",
        ),
    };
    vec![
        roles(&grants, client_id),
        judge(&RESET_NEED, &grants, client_id),
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

fn roles(grants: &TokenGrants, client_id: &str) -> Check {
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
        let fix = grant("User.ReadWrite.All and User.Read.All", client_id);
        return Check::missing(ROLES, detail, fix);
    }
    let detail = format!("roles: {} ({whose}); {scopes}", grants.roles.join(", "));
    Check::ok(ROLES, detail)
}

fn judge(need: &Need, grants: &TokenGrants, client_id: &str) -> Check {
    let how = "judged from the token's roles: there is no harmless test call for this write";
    if let Some(role) = need.accepted.iter().find(|role| grants.has_any(&[**role])) {
        return Check::ok(need.what, format!("{role} granted ({how})"));
    }
    let mut detail = format!("none of {} granted ({how})", need.accepted.join(", "));
    if need.what == RESET && grants.has_any(&["User.Invite.All"]) {
        detail.push_str("; User.Invite.All only invites, it cannot reset a redemption");
    }
    Check::missing(need.what, detail, grant(need.recommend, client_id))
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

    #[test]
    fn invite_only_apps_are_told_to_add_user_readwrite_all() {
        let check = judge(&RESET_NEED, &grants(&["User.Invite.All"]), "app-1");
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
        let g = grants(&["User-Mail.ReadWrite.All"]);
        assert_eq!(judge(&OTHER_MAILS_NEED, &g, "a").status, Status::Ok);
        assert_eq!(judge(&RESET_NEED, &g, "a").status, Status::Missing);
    }

    #[test]
    fn a_wrong_secret_points_at_the_secret_variables() {
        let config = crate::demo::config(
            ([127, 0, 0, 1], 0).into(),
            std::path::Path::new("."),
            "p.toml".into(),
            ([127, 0, 0, 1], 9).into(),
        );
        let fix = token_fix(Some(7000215), 401, &config.graph);
        assert!(
            fix.contains(
                "GUEST_RESET_GRAPH_CLIENT_SECRET (or GUEST_RESET_GRAPH_CLIENT_SECRET_FILE)"
            )
        );
    }
}
