//! Demo mode: the Graph emulator (two built-in demo tenants, Contoso and
//! Tailspin Toys) and the service in one process, a SQLite file under the
//! data dir, the demo policy, and ready-to-paste tokens and curls. Loopback
//! only by default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

use jsonwebtoken::Algorithm;

use crate::auth::{AuthSettings, Hs256Settings, OidcSettings};
use crate::config::{Config, GraphConfig, ResetDefaults, TenantConfig};
use crate::emulator::{Cloud, demo};

/// The demo policy, also in the repository as `examples/demo-policy.toml`.
pub const DEMO_POLICY: &str = include_str!("../examples/demo-policy.toml");
/// HS256 key of demo tokens. Demo only: a real deployment sets its own.
pub const DEMO_TOKEN_SECRET: &str = "demo-only-hs256-key-not-for-production-use!";
pub const DEMO_ISSUER: &str = "https://guest-reset.demo/issuer";
pub const DEMO_AUDIENCE: &str = "api://guest-reset";

/// Start everything and serve until Ctrl-C.
pub async fn run(listen: SocketAddr, data_dir: PathBuf) -> anyhow::Result<()> {
    // GUEST_RESET_EMULATOR_* variables inject faults and limits into the demo too.
    let cloud = Cloud::demo().from_env_overrides()?;
    // Long-lived demo tokens, so the printed one works for a whole session.
    cloud
        .tenants()
        .iter()
        .for_each(|t| t.set_token_lifetime(8 * 3600));
    let graph_addr = cloud.spawn("127.0.0.1:0").await?;
    std::fs::create_dir_all(&data_dir)?;
    let policy_file = data_dir.join("demo-policy.toml");
    std::fs::write(&policy_file, DEMO_POLICY)?;
    let mut config = config(listen, &data_dir, policy_file, graph_addr);
    config.audit = audit(&data_dir);
    config.tenants = tenants(&config.graph);
    // The demo's ticketing system files tickets about Contoso's guests.
    for source in &mut config.webhooks.sources {
        source.tenant = Some("contoso".into());
    }
    let emulator = cloud
        .tenants()
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no demo tenant"))?;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {listen} (use --listen to pick another address): {e}")
    })?;
    let addr = listener.local_addr()?;
    // The helpdesk portal's token, as the demo tenant's OIDC issuer signs it.
    let portal_token = emulator
        .issue_api_token(
            &format!("http://{graph_addr}"),
            demo::HELPDESK_PORTAL_CLIENT_ID,
        )
        .ok_or_else(|| anyhow::anyhow!("the emulator could not issue the demo portal token"))?;
    let tokens = Tokens {
        jwks: portal_token,
        hs256: mint_token(8 * 3600)?,
    };
    let verifier = config
        .audit
        .signer
        .as_ref()
        .map(|s| s.verifier().to_string());
    println!(
        "{}\n# its verifier key (for scripts/verify-audit.py --key): {}\n",
        banner(addr, graph_addr, &config.database.describe(), &tokens),
        verifier
            .as_deref()
            .unwrap_or("none: the key could not be made")
    );
    crate::app::run(config, listener, crate::app::shutdown_signal()).await
}

/// The service configuration that points at the in-process emulator.
pub fn config(
    listen: SocketAddr,
    data_dir: &Path,
    policy_file: PathBuf,
    graph: SocketAddr,
) -> Config {
    let graph_url = format!("http://{graph}");
    Config {
        tenants: Vec::new(),
        listen,
        database: crate::config::Database::Sqlite(data_dir.join("guest-reset.db")),
        lease_ttl: std::time::Duration::from_secs(30),
        policy_file,
        auth: AuthSettings {
            // v2.0 Entra tokens carry the API's client id; HS256 ones the App ID URI.
            audiences: vec![DEMO_AUDIENCE.into(), demo::API_CLIENT_ID.into()],
            leeway_secs: 60,
            // The emulator is also the demo tenant's OpenID Connect issuer.
            oidc: Some(OidcSettings {
                issuers: vec![format!("{graph_url}/{}/v2.0", demo::TENANT_ID)],
                tenant_ids: vec![demo::TENANT_ID.into()],
                jwks_uri: None,
                discovery_url: None,
                algorithms: vec![Algorithm::RS256, Algorithm::ES256],
                refresh_interval: Duration::from_secs(10),
            }),
            hs256: Some(Hs256Settings {
                issuer: DEMO_ISSUER.into(),
                secret: SecretString::from(DEMO_TOKEN_SECRET),
            }),
        },
        graph: GraphConfig {
            authority_url: graph_url.clone(),
            graph_url,
            tenant_id: demo::TENANT_ID.into(),
            client_id: demo::CLIENT_ID.into(),
            client_secret: SecretString::from(demo::CLIENT_SECRET),
            certificate: None,
            timeout: Duration::from_secs(30),
            retry: crate::graph::RetrySettings::default(),
        },
        idempotency_retention: Duration::from_secs(24 * 3600),
        rate_limit: crate::config::RateLimit {
            per_minute: 120,
            burst: 30,
        },
        request_timeout: Duration::from_secs(30),
        metrics_addr: None,
        webhooks: crate::config::WebhookConfig {
            sources: vec![demo_source()],
            workers: 4,
            callback_max_attempts: 8,
            callback_first_retry: Duration::from_secs(10),
        },
        notify: None,
        audit: crate::config::AuditConfig::unsigned(),
        // The console signs people in at the emulator, as at Entra.
        console: Some(crate::config::ConsoleConfig {
            client_id: demo::CONSOLE_CLIENT_ID.into(),
            client_secret: secrecy::SecretString::from(demo::CONSOLE_CLIENT_SECRET),
            issuer: format!("http://{graph}/{}/v2.0", demo::TENANT_ID),
            scope: demo::CONSOLE_SCOPE.into(),
            public_url: None,
            session_hours: 8,
        }),
        reset: ResetDefaults {
            redirect_url: "https://myapps.microsoft.com".into(),
            send_invitation_message: true,
            allow_other_mails_write: true,
            unknown_grace: std::time::Duration::from_secs(30),
            clock_skew: time::Duration::seconds(5),
            job_max_items: 10_000,
            job_workers: 16,
        },
    }
}

/// The demo's two tenants, both reached with one multi-tenant app (a token
/// from each tenant's authority, the way MSP tools work): `contoso` (the
/// home tenant, also the callers' identity provider) and `tailspin`.
pub fn tenants(graph: &GraphConfig) -> Vec<TenantConfig> {
    let tenant = |name: &str, id: &str| TenantConfig {
        name: name.into(),
        graph: GraphConfig {
            tenant_id: id.into(),
            ..graph.clone()
        },
        shared_app: true,
    };
    vec![
        tenant("contoso", demo::TENANT_ID),
        tenant("tailspin", demo::tailspin::TENANT_ID),
    ]
}

/// The demo's Standard Webhooks secret (the spec's published example key).
pub const DEMO_WEBHOOK_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// The demo's webhook source `tickets` (the same as in examples/webhooks.toml).
fn demo_source() -> crate::config::WebhookSource {
    crate::config::WebhookSource {
        tenant: None,
        name: "tickets".into(),
        scheme: crate::webhook::Scheme::StandardWebhooks,
        secrets: vec![secrecy::SecretString::from(DEMO_WEBHOOK_SECRET)],
        tolerance_secs: 300,
        subject: "tickets".into(),
        roles: vec!["GuestReset.Helpdesk".into()],
        apps: Vec::new(),
        fields: crate::config::FieldMap {
            user: "/ticket/guest".into(),
            new_email: Some("/ticket/new_email".into()),
            ticket: Some("/ticket/key".into()),
            reason: Some("/ticket/summary".into()),
            requester: Some("/ticket/agent".into()),
            ..Default::default()
        },
        callback: None,
    }
}

/// A demo caller token valid for `secs` seconds (roles Helpdesk and RedeemUrl).
pub fn mint_token(secs: u64) -> anyhow::Result<String> {
    mint_token_with_roles(secs, &["GuestReset.Helpdesk", "GuestReset.RedeemUrl"])
}

/// A demo caller token with the app roles `roles`.
pub fn mint_token_with_roles(secs: u64, roles: &[&str]) -> anyhow::Result<String> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({
        "iss": DEMO_ISSUER, "aud": DEMO_AUDIENCE, "sub": "helpdesk-demo",
        "name": "Demo Helpdesk", "azp": "demo-portal",
        "roles": roles,
        "iat": now, "nbf": now, "exp": now + secs,
    });
    let key = jsonwebtoken::EncodingKey::from_secret(DEMO_TOKEN_SECRET.as_bytes());
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &key,
    )?)
}

/// The demo's people, for delegated tokens (`demo-token --person`): who
/// they are in the demo tenant, and their app roles.
pub struct Person {
    pub object_id: &'static str,
    pub name: &'static str,
    pub mail: &'static str,
    pub roles: &'static [&'static str],
}

/// `agent`: Miriam Graham, a helpdesk agent signed in to the portal (also
/// one of Johanna's sponsors, through Partner Managers); `sponsor`: Megan
/// Bowen, Johanna's and Adele's sponsor; `approver`: Patti Fernandez, a
/// sponsor through Partner Managers who also holds GuestReset.Approver.
pub fn person(which: &str) -> Option<Person> {
    let (object_id, name, mail, roles): (_, _, _, &'static [&'static str]) = match which {
        "agent" => (
            demo::MIRIAM_ID,
            "Miriam Graham",
            demo::MIRIAM_MAIL,
            &["GuestReset.Helpdesk"],
        ),
        "sponsor" => (demo::MEMBER_ID, "Megan Bowen", demo::MEMBER_MAIL, &[]),
        "approver" => (
            demo::PATTI_ID,
            "Patti Fernandez",
            demo::PATTI_MAIL,
            &["GuestReset.Approver"],
        ),
        _ => return None,
    };
    Some(Person {
        object_id,
        name,
        mail,
        roles,
    })
}

/// A delegated demo token for `p`: their object id, `scp`, and roles, as
/// Entra issues a token to a person signed in to the demo portal.
pub fn mint_person_token(secs: u64, p: &Person) -> anyhow::Result<String> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({
        "iss": DEMO_ISSUER, "aud": DEMO_AUDIENCE, "sub": p.object_id, "oid": p.object_id,
        "tid": demo::TENANT_ID, "name": p.name, "preferred_username": p.mail,
        "azp": "demo-portal", "scp": "access_as_user", "roles": p.roles,
        "iat": now, "nbf": now, "exp": now + secs,
    });
    let key = jsonwebtoken::EncodingKey::from_secret(DEMO_TOKEN_SECRET.as_bytes());
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &key,
    )?)
}

struct Tokens {
    jwks: String,
    hs256: String,
}

fn banner(addr: SocketAddr, graph: SocketAddr, db: &str, tokens: &Tokens) -> String {
    format!(
        "guest-reset demo\n  service:        http://{addr}\n  Graph emulator: http://{graph} (tenants contoso {tenant}, also the OIDC issuer, \
         and tailspin {tailspin})\n  \
         audit database: {db}\n\n\
         # The helpdesk portal's access token (RS256, from the emulator's JWKS; roles Helpdesk + RedeemUrl):\n\
         TOKEN={jwks}\n\n\
         # The same caller with the shared HS256 secret (small setups without an IdP):\n\
         HS256_TOKEN={hs256}\n\n\
         # A fresh portal token, the way a portal gets one (client credentials):\n\
         # curl -sS http://{graph}/{tenant}/oauth2/v2.0/token -d grant_type=client_credentials \\\n\
         #   -d client_id={portal} -d client_secret='{portal_secret}' -d scope={scope}\n\n\
         # paste the TOKEN line above into your shell (valid 8 hours), then reset Adele to her new address:\n\
         curl -sS -X POST http://{addr}/v1/resets -H \"Authorization: Bearer $TOKEN\" \\\n  \
         -H 'Content-Type: application/json' \\\n  \
         -d '{{\"tenant\":\"contoso\",\"user\":\"{adele}\",\"new_email\":\"{new}\",\"ticket\":\"INC-1001\",\"reason\":\"moved to Northwind\"}}'\n\n\
         # the same helpdesk in the other tenant: 403 permission-denied (its grants cover Contoso only):\n\
         curl -sS -X POST http://{addr}/v1/resets -H \"Authorization: Bearer $TOKEN\" \\\n  \
         -H 'Content-Type: application/json' \\\n  \
         -d '{{\"tenant\":\"tailspin\",\"user\":\"{alex}\",\"new_email\":\"{alex_new}\",\"ticket\":\"INC-1002\",\"reason\":\"moved to Northwind\"}}'\n\n\
         # a ticketing system's signed delivery to the webhook source `tickets`: docs/webhooks.md\n\
         # who am I, what may I do, which rules apply to me:\n\
         curl -sS http://{addr}/v1/whoami -H \"Authorization: Bearer $TOKEN\"\n\n\
         # the audit trail (signed every 10 s into data/audit-checkpoint.txt): README, \"The audit trail\"\n\n\
         # the operator console (docs/console.md): open it in a browser and sign in at the emulator's page as\n\
         #   Miriam Graham (helpdesk: find Adele, plan and reset), Megan Bowen (Adele's sponsor: approvals),\n\
         #   Nestor Wilke (bulk jobs), Lidia Holloway (auditor), Patti Fernandez (approver)\n\
         console:        http://{addr}/console/\n",
        tenant = demo::TENANT_ID,
        tailspin = demo::tailspin::TENANT_ID,
        alex = demo::tailspin::ALEX_MAIL,
        alex_new = demo::tailspin::ALEX_NEW_MAIL,
        db = db,
        jwks = tokens.jwks,
        hs256 = tokens.hs256,
        portal = demo::HELPDESK_PORTAL_CLIENT_ID,
        portal_secret = demo::HELPDESK_PORTAL_CLIENT_SECRET,
        scope = demo::API_SCOPE,
        adele = demo::ADELE_MAIL,
        new = demo::ADELE_NEW_MAIL,
    )
}

/// The demo signs a checkpoint every 10 s with a key of its own, kept in the
/// data directory (made on first start), and writes the latest beside it.
pub fn audit(data_dir: &Path) -> crate::config::AuditConfig {
    let path = data_dir.join("audit-signing.key");
    let key = std::fs::read_to_string(&path).ok().or_else(|| {
        let (private, _) = crate::audit::generate_key("demo.guest-reset.example").ok()?;
        crate::audit::write_key_file(&path, &private).ok()?;
        Some(private)
    });
    let mut audit = crate::config::AuditConfig::unsigned();
    audit.signer = key.and_then(|k| crate::audit::Signer::parse(&k).ok());
    if let Some(signer) = &audit.signer {
        audit.origin = format!("{}/guest-reset", signer.name());
    }
    audit.every = Duration::from_secs(10);
    audit.publish_file = Some(data_dir.join("audit-checkpoint.txt"));
    audit
}
