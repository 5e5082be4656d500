//! Approvals against the clock: a waiting reset expires (on a late
//! approval, or by the sweep), and an approved one must run within its
//! window or expire too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::approvals::*;
use common::{TestApp, tenant};
use serde_json::json;

/// Move an approval's clock: what its row says about expiry and run-by.
async fn backdate(app: &TestApp, id: &str, field: &'static str) {
    let act: guest_reset::store::Act<()> = Box::new(move |mut record| {
        let approval = record.approval.as_mut().unwrap();
        let past = "2000-01-01T00:00:00.000000Z".to_owned();
        match field {
            "expires_at" => approval.expires_at = past,
            _ => approval.run_by = Some(past),
        }
        ((), Some(record))
    });
    let actor = guest_reset::store::service_actor("test");
    app.store()
        .await
        .act_on_approval(id, actor, act)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_waiting_reset_expires_and_an_approved_one_must_run_in_time() {
    let app = TestApp::spawn_with(|c| {
        std::fs::write(&c.policy_file, policy(1)).unwrap();
        c.reset.unknown_grace = std::time::Duration::from_secs(1);
        c.webhooks.workers = 0;
    })
    .await;
    let agent = agent(&app);
    let (_, first) = ask(&app, &agent, adele_moves()).await;
    let (_, second) = ask(
        &app,
        &agent,
        json!({ "user": tenant::PENDING_GUEST_MAIL, "new_email": "b@northwind.example" }),
    )
    .await;
    let (first, second) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );
    backdate(&app, first, "expires_at").await;
    let (status, p) = act(&app, &approver(&app, 1), first, "approve", None).await;
    assert_eq!(
        (status, p["type"].as_str()),
        (409, Some("urn:guest-reset:problem:approval-expired"))
    );
    assert_eq!(app.reset_record(first).await["status"], "expired");
    // Approved while the queue is paused, and not run within its window.
    let (status, record) = act(&app, &approver(&app, 1), second, "approve", None).await;
    assert_eq!(
        (status, record["status"].as_str()),
        (200, Some("queued")),
        "{record}"
    );
    backdate(&app, second, "run_by").await;
    let mut config = app.config.clone();
    config.webhooks.workers = 4;
    let app = TestApp::restart(app, config).await;
    let record = settled(&app, second).await;
    assert_eq!(record["status"], "expired", "{record}");
    assert_eq!(
        record["problem"]["type"],
        "urn:guest-reset:problem:approval-expired"
    );
    assert!(app.emulator.applied_resets().is_empty());
}

#[tokio::test]
async fn the_sweep_expires_what_nobody_approved() {
    let app = TestApp::spawn_with(|c| {
        std::fs::write(&c.policy_file, policy(1)).unwrap();
        c.reset.unknown_grace = std::time::Duration::from_secs(1);
    })
    .await;
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    let id = waiting["id"].as_str().unwrap();
    backdate(&app, id, "expires_at").await;
    let record = settled(&app, id).await;
    assert_eq!(record["status"], "expired");
}
