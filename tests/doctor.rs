//! `guest-reset doctor`, the real binary against the in-process emulator:
//! which configuration or permission is missing, and the fix for it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking
#![cfg(unix)]

mod common;

use std::net::SocketAddr;
use std::process::Output;

use common::tenant;
use guest_reset::emulator::Emulator;

struct Run {
    code: Option<i32>,
    stdout: String,
    /// stdout and stderr together: nothing secret may appear in either.
    all: String,
}

/// Run the doctor against `emulator` with the demo app's environment,
/// adjusted by `env`.
async fn doctor(emulator: &Emulator, env: &[(&str, Option<&str>)]) -> Run {
    let graph: SocketAddr = emulator.spawn("127.0.0.1:0").await.expect("emulator");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.toml"),
        guest_reset::demo::DEMO_POLICY,
    )
    .unwrap();
    let env: Vec<(String, Option<String>)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
        .collect();
    let path = dir.path().to_owned();
    // Blocking, off the runtime that serves the emulator.
    let output: Output = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, Option<&str>)> = env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect();
        common::binary::doctor(&path, graph, &env)
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    Run {
        code: output.status.code(),
        stdout,
        all,
    }
}

/// The checklist lines with this status label.
fn lines<'a>(run: &'a Run, label: &str) -> Vec<&'a str> {
    run.stdout
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(label))
        .collect()
}

#[tokio::test]
async fn with_every_permission_granted_every_line_is_ok_and_the_exit_code_is_zero() {
    let emulator = Emulator::demo();

    let run = doctor(&emulator, &[]).await;

    assert_eq!(run.code, Some(0), "{}", run.all);
    let ok = lines(&run, "ok");
    for what in [
        "configuration",
        "policy file",
        "audit database",
        "token endpoint",
        "application permissions",
        "permission: reset redemption",
        "permission: add address to otherMails",
        "read: find users by email",
        "read: get a user",
        "read: a user's roles",
    ] {
        assert!(
            ok.iter().any(|l| l.contains(what)),
            "no ok line for {what}:\n{}",
            run.stdout
        );
    }
    assert_eq!(ok.len() + 2, run.stdout.lines().count(), "{}", run.stdout);
    assert!(run.stdout.contains("User.ReadWrite.All, User.Read.All"));
    assert!(run.stdout.contains("delegated scopes (scp) are not used"));
    assert!(
        run.stdout.ends_with("all checks passed (10 ok)\n"),
        "{}",
        run.stdout
    );
    // Harmless: one token request, then reads only.
    let methods: Vec<String> = emulator
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(methods.len(), 5, "{methods:?}");
    assert!(methods[0].ends_with("/oauth2/v2.0/token"), "{methods:?}");
    assert!(
        methods[1..]
            .iter()
            .all(|m| m.starts_with("GET /v1.0/users")),
        "{methods:?}"
    );
}

#[tokio::test]
async fn a_read_only_app_is_told_to_grant_user_readwrite_all_with_admin_consent() {
    let emulator = Emulator::demo();
    emulator.set_app_roles(tenant::CLIENT_ID, &["User.Read.All"]);

    let run = doctor(&emulator, &[]).await;

    assert_eq!(run.code, Some(1), "{}", run.all);
    let missing = lines(&run, "MISSING");
    assert_eq!(missing.len(), 2, "{}", run.stdout);
    assert!(missing[0].contains("permission: reset redemption (POST /invitations)"));
    assert!(missing[1].contains("permission: add address to otherMails"));
    let fix = format!(
        "fix: grant User.ReadWrite.All (application permission) to app {} and grant admin consent",
        tenant::CLIENT_ID
    );
    assert_eq!(run.stdout.matches(&fix).count(), 2, "{}", run.stdout);
    // The reads work with User.Read.All, and Graph said so.
    assert_eq!(lines(&run, "ok").len(), 8, "{}", run.stdout);
}

#[tokio::test]
async fn an_app_with_only_user_readwrite_all_is_told_it_cannot_read_memberships() {
    let emulator = Emulator::demo();
    emulator.set_app_roles(tenant::CLIENT_ID, &["User.ReadWrite.All"]);

    let run = doctor(&emulator, &[]).await;

    assert_eq!(run.code, Some(1), "{}", run.all);
    let missing = lines(&run, "MISSING");
    assert_eq!(missing.len(), 1, "{}", run.stdout);
    assert!(missing[0].contains("transitiveMemberOf"));
    assert!(missing[0].contains("403 Authorization_RequestDenied"));
    assert!(run.stdout.contains(&format!(
        "fix: grant User.Read.All (application permission) to app {} and grant admin consent",
        tenant::CLIENT_ID
    )));
}

#[tokio::test]
async fn a_wrong_client_secret_names_the_variable_and_is_never_printed() {
    let wrong = "wR0ng~Secret.Value-That-Must-Not-Leak";

    let run = doctor(
        &Emulator::demo(),
        &[("GUEST_RESET_GRAPH_CLIENT_SECRET", Some(wrong))],
    )
    .await;

    assert_eq!(run.code, Some(1), "{}", run.all);
    let failed = lines(&run, "FAILED");
    assert_eq!(failed.len(), 1, "{}", run.stdout);
    assert!(failed[0].contains("token endpoint"));
    assert!(failed[0].contains("AADSTS7000215"));
    assert!(
        run.stdout
            .contains("fix: the client secret is wrong: set GUEST_RESET_GRAPH_CLIENT_SECRET")
    );
    assert_eq!(lines(&run, "skipped").len(), 6, "{}", run.stdout);
    assert!(!run.all.contains(wrong), "the secret leaked:\n{}", run.all);
    assert!(!run.all.contains(tenant::CLIENT_SECRET));
}

#[tokio::test]
async fn a_missing_variable_is_named_and_the_rest_is_skipped() {
    let run = doctor(&Emulator::demo(), &[("GUEST_RESET_GRAPH_TENANT_ID", None)]).await;

    assert_eq!(run.code, Some(1), "{}", run.all);
    let failed = lines(&run, "FAILED");
    assert_eq!(failed.len(), 1, "{}", run.stdout);
    assert!(
        failed[0].contains("configuration: GUEST_RESET_GRAPH_TENANT_ID is required but not set")
    );
    assert!(run.stdout.contains("fix: set GUEST_RESET_GRAPH_TENANT_ID"));
    assert_eq!(lines(&run, "skipped").len(), 9, "{}", run.stdout);
    assert!(!run.all.contains(tenant::CLIENT_SECRET));
}

#[tokio::test]
async fn json_output_carries_each_check_and_the_verdict() {
    let emulator = Emulator::demo();
    emulator.set_app_roles(tenant::CLIENT_ID, &["User.Read.All"]);
    let graph = emulator.spawn("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();

    let output = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_guest-reset"));
        command
            .args(["doctor", "--json"])
            .envs(common::binary::service_env(&path, graph));
        command.output().unwrap()
    })
    .await
    .unwrap();

    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["passed"], false);
    let statuses: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    // No policy file was written: that fails too.
    assert_eq!(statuses.iter().filter(|s| **s == "missing").count(), 2);
    assert_eq!(statuses[1], "failed");
}
