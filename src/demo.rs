//! Demo mode: the Graph emulator (built-in demo tenant) and the service in
//! one process, a SQLite file under the data dir, the demo policy, and a
//! ready-to-paste token and curl. Loopback only by default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

use crate::config::{AuthConfig, Config, GraphConfig, ResetDefaults};
use crate::emulator::{Emulator, demo};

/// The demo policy, also in the repository as `examples/demo-policy.toml`.
pub const DEMO_POLICY: &str = include_str!("../examples/demo-policy.toml");
/// HS256 key of demo tokens. Demo only: a real deployment sets its own.
pub const DEMO_TOKEN_SECRET: &str = "demo-only-hs256-key-not-for-production-use!";
pub const DEMO_ISSUER: &str = "https://guest-reset.demo/issuer";
pub const DEMO_AUDIENCE: &str = "api://guest-reset";

/// Start everything and serve until Ctrl-C.
pub async fn run(listen: SocketAddr, data_dir: PathBuf) -> anyhow::Result<()> {
    let emulator = Emulator::demo();
    let graph_addr = emulator.spawn("127.0.0.1:0").await?;
    std::fs::create_dir_all(&data_dir)?;
    let policy_file = data_dir.join("demo-policy.toml");
    std::fs::write(&policy_file, DEMO_POLICY)?;
    let config = config(listen, &data_dir, policy_file, graph_addr);
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {listen} (use --listen to pick another address): {e}")
    })?;
    let addr = listener.local_addr()?;
    println!(
        "{}",
        banner(
            addr,
            graph_addr,
            &config.database_path,
            &mint_token(8 * 3600)?
        )
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
        listen,
        database_path: data_dir.join("guest-reset.db"),
        policy_file,
        auth: AuthConfig {
            issuer: DEMO_ISSUER.into(),
            audience: DEMO_AUDIENCE.into(),
            hs256_secret: SecretString::from(DEMO_TOKEN_SECRET),
            leeway_secs: 60,
        },
        graph: GraphConfig {
            authority_url: graph_url.clone(),
            graph_url,
            tenant_id: demo::TENANT_ID.into(),
            client_id: demo::CLIENT_ID.into(),
            client_secret: SecretString::from(demo::CLIENT_SECRET),
            timeout: Duration::from_secs(30),
        },
        reset: ResetDefaults {
            redirect_url: "https://myapps.microsoft.com".into(),
            send_invitation_message: true,
            allow_other_mails_write: true,
        },
    }
}

/// A demo caller token valid for `secs` seconds.
pub fn mint_token(secs: u64) -> anyhow::Result<String> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({
        "iss": DEMO_ISSUER, "aud": DEMO_AUDIENCE, "sub": "helpdesk-demo",
        "name": "Demo Helpdesk", "azp": "demo-portal",
        "iat": now, "nbf": now, "exp": now + secs,
    });
    let key = jsonwebtoken::EncodingKey::from_secret(DEMO_TOKEN_SECRET.as_bytes());
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &key,
    )?)
}

fn banner(addr: SocketAddr, graph: SocketAddr, db: &Path, token: &str) -> String {
    format!(
        "guest-reset demo\n  service:        http://{addr}\n  Graph emulator: http://{graph} (tenant {tenant})\n  \
         audit database: {db}\n\nTOKEN={token}\n\n\
         # paste the TOKEN line above into your shell (valid 8 hours), then reset Adele to her new address:\n\
         curl -sS -X POST http://{addr}/v1/resets -H \"Authorization: Bearer $TOKEN\" \\\n  \
         -H 'Content-Type: application/json' \\\n  \
         -d '{{\"user\":\"{adele}\",\"new_email\":\"{new}\",\"ticket\":\"INC-1001\",\"reason\":\"moved to Northwind\"}}'\n",
        tenant = demo::TENANT_ID,
        db = db.display(),
        adele = demo::ADELE_MAIL,
        new = demo::ADELE_NEW_MAIL,
    )
}
