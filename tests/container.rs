//! The container files stay true without a Docker engine: the variables in
//! `docker-compose.yml`, the `Dockerfile`, the README and the reference in
//! `docs/` are the ones the configuration reads, compose's environment is
//! a valid configuration, and the `healthcheck` subcommand the image's
//! HEALTHCHECK runs answers for a live service and fails for a dead one.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use common::TestApp;
use guest_reset::config::{Config, PREFIX};
use guest_reset::emulator::{
    CLOCK_OFFSET_VAR, FAULTS_VAR, INVITATION_RATE_VAR, REPLICATION_LAG_VAR, WRITE_RATE_VAR,
};

/// Every variable `Config` looks up, over environments that take each branch.
fn variables_read() -> BTreeSet<String> {
    let seen = Mutex::new(BTreeSet::new());
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/webhooks.toml");
    let tenants = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tenants.toml");
    let branches: [&[(&str, &str)]; 6] = [
        &[],
        // The console: its variables are read once its client id is set.
        &[
            ("AUTH_ISSUER", "https://login.example/t/v2.0"),
            ("CONSOLE_CLIENT_ID", "c"),
        ],
        &[
            ("AUTH_ISSUER", "https://login.example/{tenantid}/v2.0"),
            ("AUTH_HS256_SECRET", "x"),
        ],
        &[
            ("GRAPH_CLIENT_CERTIFICATE_FILE", "/c.pem"),
            ("GRAPH_CLIENT_KEY_FILE", "/k.pem"),
        ],
        // The example sources file: the secret variables it names are read too.
        &[("WEBHOOKS_FILE", example)],
        // The example tenants file: the secret variables it names are read too.
        &[("TENANTS_FILE", tenants)],
    ];
    for env in branches {
        let _ = Config::from_lookup(|name| {
            seen.lock().unwrap().insert(name.to_owned());
            let short = name.strip_prefix(PREFIX)?;
            env.iter()
                .find(|(k, _)| *k == short)
                .map(|(_, v)| (*v).to_owned())
        });
    }
    seen.into_inner().unwrap()
}

fn compose() -> serde_json::Value {
    yaml_serde::from_str(include_str!("../docker-compose.yml")).expect("compose parses")
}

fn environment(service: &str) -> BTreeMap<String, String> {
    let env = &compose()["services"][service]["environment"];
    let env = env
        .as_object()
        .unwrap_or_else(|| panic!("{service} has an environment map"));
    env.iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// Variables named in `text`: GUEST_RESET_ followed by capitals, digits, `_`;
/// a family such as `GUEST_RESET_GRAPH_*` is kept with its `_*`.
fn named_in(text: &str) -> BTreeSet<String> {
    let pattern = regex::Regex::new(r"GUEST_RESET_[A-Z0-9_]*[A-Z0-9](_\*)?").unwrap();
    pattern
        .find_iter(text)
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// The README and every Markdown file in `docs/`, read when the test runs
/// (a new file in `docs/` is covered without naming it here).
fn documentation() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let docs = std::fs::read_dir(root.join("docs")).expect("docs/ exists");
    files.extend(
        docs.map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "md")),
    );
    assert!(files.len() > 1, "no Markdown files in docs/");
    files
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn known(name: &str, read: &BTreeSet<String>) -> bool {
    let emulator = [
        FAULTS_VAR,
        INVITATION_RATE_VAR,
        WRITE_RATE_VAR,
        REPLICATION_LAG_VAR,
        CLOCK_OFFSET_VAR,
        // The `jobs` command line client's, not the service's.
        "GUEST_RESET_URL",
        "GUEST_RESET_TOKEN_FILE",
        // The test suite's: a missing browser fails instead of skipping.
        "GUEST_RESET_REQUIRE_BROWSER",
    ];
    match name.strip_suffix('*') {
        // A family: some variable read (or the emulator's) has that prefix.
        Some(prefix) => read
            .iter()
            .map(String::as_str)
            .chain(emulator)
            .any(|v| v.starts_with(prefix)),
        None => read.contains(name) || emulator.contains(&name),
    }
}

#[test]
fn compose_dockerfile_and_docs_name_only_variables_the_service_reads() {
    let read = variables_read();
    assert!(
        read.contains("GUEST_RESET_METRICS_ADDR") && read.len() > 30,
        "{read:?}"
    );
    let mut named = named_in(include_str!("../Dockerfile"));
    named.extend(
        environment("guest-reset")
            .into_keys()
            .filter(|k| k.starts_with(PREFIX)),
    );
    named.extend(
        environment("emulator")
            .into_keys()
            .filter(|k| k.starts_with(PREFIX)),
    );
    named.extend(named_in(&documentation()));
    let unknown: Vec<_> = named.iter().filter(|n| !known(n, &read)).collect();
    assert!(unknown.is_empty(), "named but never read: {unknown:?}");
}

#[test]
fn the_docs_document_every_variable() {
    let documented = named_in(&documentation());
    // Secret variables named by examples/webhooks.toml are the example's own
    // choice (docs/webhooks.md documents how sources name them), not settings.
    let missing: Vec<_> = variables_read()
        .into_iter()
        .filter(|v| !documented.contains(v) && !v.starts_with("GUEST_RESET_WEBHOOK_"))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md and docs/ (docs/operating.md's configuration reference) lack {missing:?}"
    );
}

/// Compose's environment, with its container paths mapped to the repo's
/// files, is a configuration the service accepts.
#[test]
fn compose_environment_is_a_valid_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let map = |v: &str| {
        v.replace("/run/secrets/", &format!("{root}/examples/compose/"))
            .replace(
                "/etc/guest-reset/policy.toml",
                &format!("{root}/examples/demo-policy.toml"),
            )
            .replace("/data/", &format!("{}/", dir.path().display()))
    };
    let env = environment("guest-reset");
    let config = Config::from_lookup(|name| env.get(name).map(|v| map(v)));
    let config = config.unwrap_or_else(|e| panic!("compose's environment is refused: {e}"));
    assert!(config.metrics_addr.is_some());
    let services = compose()["services"].as_object().unwrap().clone();
    for (name, service) in services {
        // The database of the `replicas` profile checks itself (pg_isready).
        if service["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("postgres"))
        {
            continue;
        }
        let test = service["healthcheck"]["test"].to_string();
        assert!(
            test.contains("\"guest-reset\",\"healthcheck\""),
            "{name}: {test}"
        );
    }
}

/// `guest-reset healthcheck --url URL`, off the async runtime.
async fn healthcheck(url: String) -> std::process::Output {
    let run = move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_guest-reset"))
            .args(["healthcheck", "--url", &url])
            .output()
            .unwrap()
    };
    tokio::task::spawn_blocking(run).await.unwrap()
}

#[tokio::test]
async fn healthcheck_passes_for_a_live_service_and_fails_for_a_dead_one() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let out = healthcheck(format!("{}{path}", app.base)).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = healthcheck(format!("http://{free}/healthz")).await;
    assert_eq!(out.status.code(), Some(1), "nothing listens");
    let out = healthcheck(format!("{}/nowhere", app.base)).await;
    assert_eq!(out.status.code(), Some(1), "a 404 is not healthy");
}
