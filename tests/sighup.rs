//! The real binary reloads its policy on SIGHUP and keeps the old one when
//! the new file is invalid.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking
#![cfg(unix)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::sign;
use guest_reset::emulator::Emulator;
use serde_json::{Value, json};

use common::binary::{ISSUER, SECRET, Server, serve};

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
