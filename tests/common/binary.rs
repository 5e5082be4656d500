//! The real binary as a child process: `guest-reset serve` with an HS256
//! issuer, pointed at an in-process emulator.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::tenant;

pub const SECRET: &str = "sighup-test-secret-0123456789abcdef";
pub const ISSUER: &str = "https://sighup.test/issuer";

pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `guest-reset serve` on a free port; the address comes from its
/// "listening" log line (JSON logs).
pub fn serve(dir: &std::path::Path, graph: std::net::SocketAddr) -> (Server, String) {
    let (server, base, _) = serve_logged(dir, graph, &[]);
    (server, base)
}

/// Every line the server writes to stderr, as it arrives.
pub type Log = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// [`serve`] with extra process environment, keeping every log line.
pub fn serve_logged(
    dir: &std::path::Path,
    graph: std::net::SocketAddr,
    env: &[(&str, &str)],
) -> (Server, String, Log) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guest-reset"));
    command
        .arg("serve")
        .env("LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .envs(service_env(dir, graph));
    command.envs(env.iter().copied());
    let mut child = command.spawn().expect("binary starts");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let log = Log::default();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .inspect(|l| log.lock().unwrap().push(l.clone()))
        .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
        .find(|l| l["message"] == "guest-reset listening")
        .and_then(|l| l["addr"].as_str().map(str::to_owned))
        .expect("listening line");
    // Keep draining the pipe so the server never blocks on a full stderr.
    let kept = log.clone();
    std::thread::spawn(move || {
        lines
            .map_while(Result::ok)
            .for_each(|l| kept.lock().unwrap().push(l))
    });
    (Server(child), format!("http://{addr}"), log)
}

/// The `GUEST_RESET_*` environment of a service with an HS256 issuer, its
/// files in `dir`, pointed at the emulator at `graph` as the demo app.
pub fn service_env(dir: &std::path::Path, graph: std::net::SocketAddr) -> Vec<(String, String)> {
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
    vars.into_iter()
        .map(|(k, v)| (format!("GUEST_RESET_{k}"), v))
        .collect()
}

/// Run `guest-reset doctor` with [`service_env`], then `env` on top (a
/// `None` value removes the variable). Blocking: call it off the runtime
/// that runs the emulator.
pub fn doctor(
    dir: &std::path::Path,
    graph: std::net::SocketAddr,
    env: &[(&str, Option<&str>)],
) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guest-reset"));
    command.arg("doctor").envs(service_env(dir, graph));
    for (name, value) in env {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
    command.output().expect("binary runs")
}

/// `GET /v1/resets?limit=200` on `base` with `token`: the page's items.
pub async fn list(base: &str, token: &str) -> Vec<Value> {
    let page: Value = reqwest::Client::new()
        .get(format!("{base}/v1/resets?limit=200"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().clone()
}
