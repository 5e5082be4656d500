//! The real binary reloads its policy on SIGHUP and keeps the old one when
//! the new file is invalid.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{sign, tenant};
use guest_reset::emulator::Emulator;
use serde_json::{Value, json};

const SECRET: &str = "sighup-test-secret-0123456789abcdef";
const ISSUER: &str = "https://sighup.test/issuer";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `guest-reset serve` on a free port; the address comes from its
/// "listening" log line (JSON logs).
fn serve(dir: &std::path::Path, graph: std::net::SocketAddr) -> (Server, String) {
    let graph_url = format!("http://{graph}");
    let vars = [
        ("LISTEN_ADDR", "127.0.0.1:0".to_owned()),
        ("DATABASE_PATH", dir.join("audit.db").display().to_string()),
        ("POLICY_FILE", dir.join("policy.toml").display().to_string()),
        ("AUTH_AUDIENCE", "api://guest-reset".to_owned()),
        ("AUTH_HS256_SECRET", SECRET.to_owned()),
        ("AUTH_HS256_ISSUER", ISSUER.to_owned()),
        ("GRAPH_AUTHORITY_URL", graph_url.clone()),
        ("GRAPH_URL", graph_url),
        ("GRAPH_TENANT_ID", tenant::TENANT_ID.to_owned()),
        ("GRAPH_CLIENT_ID", tenant::CLIENT_ID.to_owned()),
        ("GRAPH_CLIENT_SECRET", tenant::CLIENT_SECRET.to_owned()),
    ];
    let mut command = Command::new(env!("CARGO_BIN_EXE_guest-reset"));
    command
        .arg("serve")
        .env("LOG_FORMAT", "json")
        .stderr(Stdio::piped());
    for (k, v) in vars {
        command.env(format!("GUEST_RESET_{k}"), v);
    }
    let mut child = command.spawn().expect("binary starts");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
        .find(|l| l["message"] == "guest-reset listening")
        .and_then(|l| l["addr"].as_str().map(str::to_owned))
        .expect("listening line");
    // Keep draining the pipe so the server never blocks on a full stderr.
    std::thread::spawn(move || lines.for_each(drop));
    (Server(child), format!("http://{addr}"))
}

fn policy(rule: &str) -> String {
    format!(
        "[[grant]]\ncaller = {{ subjects = ['ops'] }}\npermissions = ['resets:read:own']\n[[rule]]\nname = '{rule}'\ntarget_domains = ['fabrikam.example']\nnew_email_domains = ['fabrikam.example']\n"
    )
}

async fn whoami(client: &reqwest::Client, base: &str) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    let token = sign(
        &json!({ "iss": ISSUER, "aud": "api://guest-reset", "sub": "ops", "exp": now + 300 }),
        SECRET,
    );
    client
        .get(format!("{base}/v1/whoami"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn rules_after_hangup(
    server: &Server,
    client: &reqwest::Client,
    base: &str,
    old: &Value,
) -> Value {
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    for _ in 0..100 {
        let me = whoami(client, base).await;
        if me["policy_version"] != *old {
            return me;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    whoami(client, base).await
}

#[tokio::test]
async fn sighup_reloads_the_policy_and_a_bad_file_keeps_the_old_one() {
    let emulator = Emulator::demo();
    let graph = emulator.spawn("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), policy("first")).unwrap();
    let (server, base) = serve(dir.path(), graph);
    let client = reqwest::Client::new();
    let first = whoami(&client, &base).await;
    assert_eq!(first["rules"][0]["name"], "first", "{first}");

    std::fs::write(dir.path().join("policy.toml"), policy("second")).unwrap();
    let second = rules_after_hangup(&server, &client, &base, &first["policy_version"]).await;
    assert_eq!(second["rules"][0]["name"], "second", "{second}");

    std::fs::write(dir.path().join("policy.toml"), "[[rule]]\nname = ").unwrap();
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let kept = whoami(&client, &base).await;
    assert_eq!(
        kept["policy_version"], second["policy_version"],
        "the invalid file replaced the policy"
    );
}
