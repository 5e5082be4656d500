//! A crash: `kill -9` the real binary while resets wait on Graph, restart
//! it, and check that reconciliation leaves no `pending` row, loses none, and
//! settles each from what Graph shows.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking
#![cfg(unix)]

mod common;

use std::time::Duration;

use common::binary::{ISSUER, SECRET, serve};
use common::{guest_id, sign, tenant_with_guests};
use guest_reset::emulator::{Fault, FaultPlan, FaultRoute, FaultRule};
use serde_json::json;

const RESETS: usize = 8;
const POLICY: &str = "[[grant]]\ncaller = { subjects = ['portal'] }\npermissions = ['resets:create', 'resets:read:all']\n\
    [[rule]]\nname = 'all'\ntarget_domains = ['fabrikam.example']\nnew_email_domains = ['northwind.example']\n";

fn token() -> String {
    let now = jsonwebtoken::get_current_timestamp();
    sign(
        &json!({ "iss": ISSUER, "aud": "api://guest-reset", "sub": "portal", "exp": now + 600 }),
        SECRET,
    )
}

async fn rows(db: &std::path::Path) -> Vec<(String, Option<i64>)> {
    let url = format!("sqlite://{}?mode=ro", db.display());
    let Ok(mut conn) = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await else {
        return vec![];
    };
    sqlx::query_as("select status, policy_allowed from resets")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_reset_loses_nothing_and_leaves_nothing_pending() {
    let emulator = tenant_with_guests(RESETS);
    // Every reset call hangs in Graph for 2 s; the emulator applies it when
    // the delay ends even though the caller is gone (as Graph would).
    emulator.set_faults(FaultPlan {
        seed: 9,
        rules: vec![FaultRule {
            route: FaultRoute::Invitations,
            fault: Fault::Latency { millis: 2000 },
            probability: 1.0,
            limit: None,
            skip: 0,
        }],
    });
    let graph = emulator.spawn("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), POLICY).unwrap();
    let (mut server, base) = serve(dir.path(), graph);
    let client = reqwest::Client::new();
    for i in 0..RESETS {
        let body =
            json!({ "user": guest_id(i), "new_email": format!("guest-{i}@northwind.example") });
        let request = client
            .post(format!("{base}/v1/resets"))
            .bearer_auth(token())
            .json(&body);
        tokio::spawn(async move {
            let _ = request.send().await;
        });
    }
    // Wait until every request is recorded and claimed, and Graph has every
    // reset call in hand (a claimed row is only *about* to be sent).
    let db = dir.path().join("audit.db");
    let invitations = || {
        let calls = emulator.requests();
        calls
            .iter()
            .filter(|r| r.path.ends_with("/invitations"))
            .count()
    };
    for _ in 0..200 {
        let claimed = rows(&db)
            .await
            .iter()
            .filter(|(s, a)| s == "running" && *a == Some(1))
            .count();
        if claimed == RESETS && invitations() == RESETS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.0.kill().unwrap(); // SIGKILL: no shutdown, no finalisation
    server.0.wait().unwrap();
    let before = rows(&db).await;
    assert_eq!(before.len(), RESETS);
    assert!(before.iter().all(|(s, _)| s == "running"), "{before:?}");
    // Let Graph finish what it was asked, then restart.
    for _ in 0..200 {
        if emulator.applied_resets().len() == RESETS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_server, base) = serve(dir.path(), graph);
    let items = common::binary::list(&base, &token()).await;
    assert_eq!(items.len(), RESETS, "none lost");
    for item in &items {
        assert_eq!(
            item["status"], "succeeded",
            "Graph shows every reset: {item}"
        );
        assert!(
            item["evidence"]["finding"]
                .as_str()
                .unwrap()
                .starts_with("applied"),
            "{item}"
        );
    }
    assert_eq!(
        emulator.applied_resets().len(),
        RESETS,
        "nothing applied twice"
    );
}
