//! Graceful shutdown lets running resets finish and finalise their rows,
//! including resets whose caller already hung up.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::time::Duration;

use common::{TestApp, demo_with_fault, tenant};
use guest_reset::emulator::{Emulator, Fault, FaultRoute};
use serde_json::json;

fn slow_graph() -> Emulator {
    demo_with_fault(
        FaultRoute::Invitations,
        Fault::Latency { millis: 600 },
        None,
    )
}

#[tokio::test]
async fn shutdown_waits_for_running_resets() {
    let mut app = TestApp::spawn_on(slow_graph(), |_| {}).await;
    let answered = {
        let body = json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL, "ticket": "INC-1", "reason": "shutdown test" });
        let request = app
            .client
            .post(format!("{}/v1/resets", app.base))
            .bearer_auth(app.token())
            .json(&body);
        tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
    };
    // The one that hangs up: its reset must still finish.
    let abandoned = {
        let body = json!({ "user": tenant::PENDING_GUEST_MAIL, "ticket": "INC-2", "reason": "shutdown test" });
        let request = app
            .client
            .post(format!("{}/v1/resets", app.base))
            .bearer_auth(app.token())
            .json(&body)
            .timeout(Duration::from_millis(200));
        tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(abandoned.await.unwrap().is_err(), "the caller gave up");
    app.stop().await;
    assert_eq!(
        answered.await.unwrap().unwrap(),
        201,
        "the running request got its answer"
    );
    let rows = app.audit_rows().await;
    let statuses: Vec<_> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["succeeded", "succeeded"], "{rows:?}");
    // The WAL was folded into the SQLite file at shutdown.
    let wal = app.db_path.with_extension("db-wal");
    assert!(
        app.on_postgres() || std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0,
        "WAL not checkpointed"
    );
}
