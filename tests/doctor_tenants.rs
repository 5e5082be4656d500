//! `guest-reset doctor` with several tenants: each tenant's Graph checks
//! under its own heading, the admin-consent fix for a tenant without the
//! shared app's service principal, and `--tenant`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking
#![cfg(unix)]

mod common;

use std::net::SocketAddr;
use std::path::Path;

use common::tenant;
use common::tenant::tailspin;
use guest_reset::config::{Config, GraphConfig, TenantConfig};
use guest_reset::doctor::{Check, Report, Status, run, run_for};
use guest_reset::emulator::Cloud;

/// Contoso and Tailspin, both through the shared multi-tenant app.
const TWO: [(&str, &str); 2] = [
    ("contoso", tenant::TENANT_ID),
    ("tailspin", tailspin::TENANT_ID),
];

/// The demo app's configuration with `tenants` of the cloud at `graph`,
/// each through the shared app; its files in `dir`.
fn shared_app_config(dir: &Path, graph: SocketAddr, tenants: &[(&str, &str)]) -> Config {
    std::fs::write(dir.join("policy.toml"), guest_reset::demo::DEMO_POLICY).unwrap();
    let env = common::binary::service_env(dir, graph);
    let mut config =
        Config::from_lookup(|name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .unwrap();
    let shared = |(name, id): &(&str, &str)| TenantConfig {
        name: (*name).to_owned(),
        graph: GraphConfig {
            tenant_id: (*id).to_owned(),
            ..config.graph.clone()
        },
        shared_app: true,
    };
    config.tenants = tenants.iter().map(shared).collect();
    config
}

/// The checks tagged with tenant `name`.
fn of<'a>(report: &'a Report, name: &str) -> Vec<&'a Check> {
    let tagged = |c: &&Check| c.tenant.as_deref() == Some(name);
    report.checks.iter().filter(tagged).collect()
}

#[tokio::test]
async fn every_tenant_gets_its_own_graph_checks_under_its_own_heading() {
    let cloud = Cloud::demo();
    let graph = cloud.spawn("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();

    let report = run(Ok(shared_app_config(dir.path(), graph, &TWO))).await;

    let text = report.to_text();
    assert!(report.passed, "{text}");
    for (name, _) in TWO {
        let checks = of(&report, name);
        assert_eq!(checks.len(), 7, "{text}");
        assert!(checks.iter().all(|c| c.status == Status::Ok), "{text}");
    }
    let heading = format!(
        "\ntenant tailspin ({}, shared app {})\n  ok       token endpoint: http://{graph}/{}/",
        tailspin::TENANT_ID,
        tailspin::CLIENT_ID,
        tailspin::TENANT_ID
    );
    assert!(text.contains(&heading), "{text}");
    assert!(text.ends_with("all checks passed (17 ok)\n"), "{text}");
    // Tailspin's token and reads went to Tailspin: one token, four reads.
    let tailspin = cloud.tenant(tailspin::TENANT_ID).unwrap();
    assert_eq!(tailspin.requests().len(), 5);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let tenants: Vec<_> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["tenant"])
        .collect();
    assert!(
        tenants[..3].iter().all(|t| t.is_null()),
        "local checks: {tenants:?}"
    );
    assert_eq!(tenants[3], "contoso");
    assert_eq!(tenants[16], "tailspin");
}

#[tokio::test]
async fn a_tenant_without_the_shared_apps_service_principal_is_told_to_consent() {
    let cloud = Cloud::demo();
    let graph = cloud.spawn("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    assert!(
        cloud
            .tenant(tailspin::TENANT_ID)
            .unwrap()
            .remove_app(tailspin::CLIENT_ID)
    );

    let report = run(Ok(shared_app_config(dir.path(), graph, &TWO))).await;

    let text = report.to_text();
    assert!(!report.passed, "{text}");
    assert!(
        of(&report, "contoso")
            .iter()
            .all(|c| c.status == Status::Ok),
        "{text}"
    );
    let tailspin = of(&report, "tailspin");
    assert_eq!(tailspin[0].what, "token endpoint");
    assert_eq!(tailspin[0].status, Status::Failed);
    assert!(tailspin[0].detail.contains("AADSTS700016"), "{text}");
    let fix = tailspin[0].fix.as_deref().unwrap();
    assert!(fix.starts_with("the multi-tenant app "), "{fix}");
    let url = format!(
        "http://{graph}/{}/v2.0/adminconsent?client_id={}&scope=http://{graph}/.default\
         &redirect_uri=https://localhost",
        tailspin::TENANT_ID,
        tailspin::CLIENT_ID
    );
    assert!(fix.contains(&url), "{fix}");
    assert_eq!(tailspin.len(), 7);
    assert!(
        tailspin[1..].iter().all(|c| c.status == Status::Skipped),
        "{text}"
    );
    assert!(text.contains("1 failed, 6 skipped: apply the fixes above (tenants: tailspin)"));
}

#[tokio::test]
async fn a_named_tenant_is_checked_alone_and_an_unknown_one_lists_the_tenants() {
    let cloud = Cloud::demo();
    let graph = cloud.spawn("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = shared_app_config(dir.path(), graph, &TWO);

    let report = run_for(Ok(config.clone()), Some("tailspin")).await;

    assert!(report.passed, "{}", report.to_text());
    assert_eq!(report.checks.len(), 3 + 7);
    assert_eq!(of(&report, "tailspin").len(), 7);
    assert!(
        cloud
            .tenant(tenant::TENANT_ID)
            .unwrap()
            .requests()
            .is_empty()
    );

    let report = run_for(Ok(config), Some("fabrikam")).await;

    assert!(!report.passed);
    let last = report.checks.last().unwrap();
    assert_eq!(
        (last.what.as_str(), last.status),
        ("tenant", Status::Failed)
    );
    assert!(
        last.detail
            .contains("no tenant \"fabrikam\" is configured (tenants: contoso, tailspin")
    );
}

#[tokio::test]
async fn the_binary_takes_a_tenants_file_and_the_tenant_option() {
    let cloud = Cloud::demo();
    let graph = cloud.spawn("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.toml"),
        guest_reset::demo::DEMO_POLICY,
    )
    .unwrap();
    let file = dir.path().join("tenants.toml");
    let entry = |(name, id): (&str, &str)| {
        format!("[[tenant]]\nname = {name:?}\ntenant_id = {id:?}\napp = \"shared\"\n")
    };
    let shared = format!(
        "[shared_app]\nclient_id = {:?}\nclient_secret_var = \"GRAPH_CLIENT_SECRET\"\n",
        tenant::CLIENT_ID
    );
    std::fs::write(&file, shared + &TWO.map(entry).concat()).unwrap();
    let run = |tenant: &'static str| {
        let (dir, file) = (dir.path().to_owned(), file.clone());
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_guest-reset"))
                .args(["doctor", "--tenant", tenant])
                .envs(common::binary::service_env(&dir, graph))
                .env("GUEST_RESET_TENANTS_FILE", file)
                .output()
                .unwrap()
        })
    };

    let alone = run("tailspin").await.unwrap();
    let unknown = run("nowhere").await.unwrap();

    let stdout = String::from_utf8_lossy(&alone.stdout);
    assert_eq!(alone.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("(2 tenant(s) in GUEST_RESET_TENANTS_FILE: contoso, tailspin)"));
    assert!(stdout.contains("\ntenant tailspin (") && !stdout.contains("tenant contoso ("));
    let stdout = String::from_utf8_lossy(&unknown.stdout);
    assert_eq!(unknown.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAILED   tenant: no tenant \"nowhere\" is configured"),
        "{stdout}"
    );
}
