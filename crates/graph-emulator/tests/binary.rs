//! The emulator alone, as its own program: it starts on the address given,
//! says where it listens, serves the demo tenants (or one per `--seed`) and takes the
//! `GUEST_RESET_EMULATOR_*` settings.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_binary_serves_the_demo_tenant_with_its_environment() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_graph-emulator"))
        .args(["--listen", "127.0.0.1:0"])
        .env("GUEST_RESET_EMULATOR_REPLICATION_LAG_MS", "250")
        .env("GUEST_RESET_EMULATOR_CLOCK_OFFSET_MS", "-2000")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    let limits: serde_json::Value = reqwest::get(format!("{base}/_emulator/limits"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tailspin = format!("{base}/_emulator/tenants/tailspintoys.onmicrosoft.com/limits");
    let tailspin: serde_json::Value = reqwest::get(tailspin).await.unwrap().json().await.unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(
        tailspin["replication_lag_ms"], 250,
        "every tenant: {tailspin}"
    );
    assert_eq!(limits["replication_lag_ms"], 250, "{limits}");
    assert_eq!(limits["clock_offset_ms"], -2000, "{limits}");
    assert_eq!(limits["invitations_per_window"], 150, "{limits}");
}

#[test]
fn a_bad_argument_is_refused_with_the_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_graph-emulator"))
        .arg("--port")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: graph-emulator"));
}

const CONTOSO_SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo_tenant.json");
const TAILSPIN_SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo_tailspin.json");

#[tokio::test]
async fn each_seed_is_one_tenant_the_first_being_home() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_graph-emulator"))
        .args(["--listen", "127.0.0.1:0", "--seed", TAILSPIN_SEED])
        .args(["--seed", CONTOSO_SEED])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut banner = String::new();
    for _ in 0..3 {
        stderr.read_line(&mut banner).unwrap();
    }
    let base = banner.lines().next().unwrap().rsplit(' ').next().unwrap();
    let tenants: serde_json::Value = reqwest::get(format!("{base}/_emulator/tenants"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        banner.contains("(tailspintoys.onmicrosoft.com, home)"),
        "{banner}"
    );
    assert!(banner.contains("(contoso.onmicrosoft.com)"), "{banner}");
    assert_eq!(tenants[0]["domain"], "tailspintoys.onmicrosoft.com");
    assert_eq!(tenants[1]["domain"], "contoso.onmicrosoft.com");
}

#[test]
fn two_seeds_of_one_tenant_are_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_graph-emulator"))
        .args(["--listen", "127.0.0.1:0", "--seed", CONTOSO_SEED])
        .args(["--seed", CONTOSO_SEED])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = "both define the tenant id abd52d7b-5a6e-4d73-ab8b-f23b4a22e7c2";
    assert!(stderr.contains(expected), "{stderr}");
}
