//! The token endpoint: does the tenant's authority accept the credential, and
//! if not, the exact fix by AADSTS code, naming the tenant's own settings.

use super::Check;
use super::target::Target;
use crate::graph::{GraphClient, GraphError};

pub(super) const TOKEN: &str = "token endpoint";

/// The client the doctor tests with: the service's settings, one attempt per
/// call (the doctor reports what Graph answers instead of riding it out).
pub(super) fn client(target: &Target) -> Result<GraphClient, Check> {
    let mut settings = crate::app::graph_settings(&target.name, &target.graph);
    settings.retry.max_attempts = 1;
    GraphClient::new(settings).map_err(|e| {
        Check::failed(
            TOKEN,
            format!("cannot prepare the credentials: {e}"),
            format!("check {} (an RSA private key in PEM)", target.key_setting()),
        )
    })
}

pub(super) async fn token(client: &GraphClient, target: &Target) -> Check {
    let config = &target.graph;
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
            let fix = token_fix(code, status, target);
            let code = code.map_or(String::new(), |c| format!(", AADSTS{c}"));
            let detail = format!("{url} refused the credentials ({status} {error}{code})");
            Check::failed(TOKEN, detail, fix)
        }
        Err(e) => Check::failed(
            TOKEN,
            format!("{url} cannot be reached ({})", unreached(&e)),
            format!(
                "check {} (https://login.microsoftonline.com in the global cloud) and that this \
                 host can reach it (DNS, proxy, firewall)",
                target.authority_setting()
            ),
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
fn token_fix(code: Option<u64>, status: u16, t: &Target) -> String {
    let client_id = &t.graph.client_id;
    match code {
        Some(7000215) => format!(
            "the client secret is wrong: set {} to the secret's Value (not its Secret ID) \
             from app {client_id}'s Certificates & secrets",
            t.secret_setting()
        ),
        Some(7000222) => format!(
            "the client secret has expired: add a new secret to app {client_id} and set {}",
            t.secret_setting()
        ),
        // AADSTS700016/700011: the app is not in this directory. For the
        // shared app that is a tenant that never consented to it.
        Some(700016 | 700011) if t.shared_app => t.consent_fix(),
        Some(700016 | 700011) => format!(
            "no app {client_id} in tenant {}: check {} (the Application (client) ID) and {}",
            t.graph.tenant_id,
            t.client_id_setting(),
            t.tenant_id_setting()
        ),
        Some(90002) => format!(
            "the tenant does not exist: check {} and, in a national cloud, {}",
            t.tenant_id_setting(),
            t.authority_setting()
        ),
        Some(700027) => format!(
            "the certificate is not registered on app {client_id} (or has expired): upload the \
             certificate in {} to the app registration (Certificates & secrets) and check that \
             {} is its key",
            t.certificate_setting(),
            t.key_setting()
        ),
        _ => other_fix(code, status, t),
    }
}

fn other_fix(code: Option<u64>, status: u16, t: &Target) -> String {
    match code {
        Some(700021 | 700023 | 50048) => format!(
            "the client assertion names another app or authority: check {} and {}",
            t.client_id_setting(),
            t.authority_setting()
        ),
        Some(70011 | 500011 | 28000) => format!(
            "the requested scope names no Graph resource: check {} (it must be the Graph of {}'s \
             cloud)",
            t.graph_url_setting(),
            t.authority_setting()
        ),
        _ if status == 429 || status >= 500 => {
            "the token endpoint is throttling or unavailable: run the doctor again later".into()
        }
        Some(other) => format!("look up https://login.microsoftonline.com/error?code={other}"),
        None => format!(
            "check {} points at the Microsoft identity platform",
            t.authority_setting()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(from_file: bool, shared_app: bool) -> Target {
        Target::demo(
            "94a4b756-3601-47b7-9c4d-5e19738c4145",
            shared_app,
            from_file,
        )
    }

    #[test]
    fn a_wrong_secret_points_at_the_secret_variables() {
        let fix = token_fix(Some(7000215), 401, &target(false, false));
        assert!(
            fix.contains(
                "GUEST_RESET_GRAPH_CLIENT_SECRET (or GUEST_RESET_GRAPH_CLIENT_SECRET_FILE)"
            )
        );
    }

    #[test]
    fn a_file_tenant_is_pointed_at_its_entry_not_at_the_graph_variables() {
        let own = target(true, false);
        let fix = token_fix(Some(7000215), 401, &own);
        assert!(fix.contains("GUEST_RESET_TENANTS_FILE, tenant \"tailspin\": client_secret_var"));
        let fix = token_fix(Some(700016), 400, &own);
        assert!(fix.contains("GUEST_RESET_TENANTS_FILE, tenant \"tailspin\": client_id"));
        assert!(fix.contains("GUEST_RESET_TENANTS_FILE, tenant \"tailspin\": tenant_id"));
        assert!(!fix.contains("GUEST_RESET_GRAPH_"), "{fix}");
        let shared = token_fix(Some(7000215), 401, &target(true, true));
        assert!(shared.contains("GUEST_RESET_TENANTS_FILE, [shared_app]: client_secret_var"));
    }

    #[test]
    fn an_unknown_shared_app_is_told_to_consent_with_the_v2_admin_consent_url() {
        let t = target(true, true);
        let fix = token_fix(Some(700011), 400, &t);
        let url = format!(
            "{}/{}/v2.0/adminconsent?client_id={}&scope={}/.default&redirect_uri=https://localhost",
            t.graph.authority_url, t.graph.tenant_id, t.graph.client_id, t.graph.graph_url
        );
        assert!(fix.contains(&url), "{fix}");
        assert!(
            fix.contains("has no service principal in this tenant"),
            "{fix}"
        );
    }
}
