//! Re-driving an `unknown` reset: its own audit row, once, only by who may
//! read the original.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::{TestApp, expect_problem, tenant};
use guest_reset::record::ResetRecord;
use serde_json::{Value, json};

/// A claimed reset of Bianca that a crash left after sending the invitation:
/// after a restart it is `unknown` (Graph shows no change of its own), and
/// after its grace period still `unknown` (Bianca was already
/// PendingAcceptance, so "as before" proves nothing): left to a person.
async fn unknown_reset() -> (TestApp, String) {
    let mut app = TestApp::spawn().await;
    app.stop().await;
    let row: ResetRecord = serde_json::from_value(json!({
        "id": uuid::Uuid::now_v7().to_string(), "status": "pending", "dry_run": false,
        "user": tenant::PENDING_GUEST_MAIL, "problem": null,
        "target": { "id": tenant::PENDING_GUEST_ID, "user_principal_name": null, "previous_email": null,
                    "user_type": "Guest", "external_user_state": null },
        "new_email": "bianca@northwind.example", "other_mails_added": false, "send_invitation_message": true,
        "redirect_url": "https://myapps.microsoft.com/", "invitation": null, "graph_request_ids": [],
        "requested_by": { "issuer": guest_reset::demo::DEMO_ISSUER, "subject": "helpdesk-agent-1",
                          "object_id": null, "tenant_id": null, "app": null, "name": null },
        "ticket": "INC-77", "reason": "moved to Northwind", "override_cooldown": false,
        "policy": { "allowed": true, "rule": "fabrikam-helpdesk", "reasons": [], "version": null },
        "request_id": null, "created_at": guest_reset::record::now_rfc3339(), "completed_at": null,
        "invite_attempted_at": guest_reset::record::now_rfc3339()
    }))
    .unwrap();
    let store = app.dead_process_store().await;
    store.insert(&row).await.unwrap();
    drop(store);
    let mut config = app.config.clone();
    config.reset.unknown_grace = std::time::Duration::from_secs(1);
    let app = TestApp::restart(app, config).await;
    let path = format!("/v1/resets/{}", row.id);
    let waiting: Value = app.get(&path).await.json().await.unwrap();
    assert!(waiting["settle_after"].is_string(), "{waiting}");
    let early = expect_problem(
        retry(&app, &app.token(), &row.id).await,
        409,
        "reset-not-retryable",
    )
    .await;
    assert!(
        early["detail"].as_str().unwrap().contains("read back"),
        "{early}"
    );
    for _ in 0..50 {
        let now: Value = app.get(&path).await.json().await.unwrap();
        if now["settle_after"].is_null() {
            assert_eq!(now["status"], "unknown", "{now}");
            return (app, row.id);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the unknown reset was not read back");
}

async fn retry(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    let url = format!("{}/v1/resets/{id}/retry", app.base);
    app.client
        .post(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_unknown_reset_is_re_driven_once_with_its_own_audit_row() {
    let (app, id) = unknown_reset().await;
    let original: Value = app
        .get(&format!("/v1/resets/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(original["status"], "unknown", "{original}");

    let stranger = app.token_with(json!({ "sub": "helpdesk-agent-2" }));
    expect_problem(retry(&app, &stranger, &id).await, 404, "not-found").await;

    let again: Value = retry(&app, &app.token(), &id).await.json().await.unwrap();
    assert_eq!(again["status"], "succeeded", "{again}");
    assert_eq!(again["retry_of"], json!(id));
    assert_eq!(again["target"]["id"], tenant::PENDING_GUEST_ID);
    assert_eq!(again["new_email"], "bianca@northwind.example");
    assert_eq!(again["ticket"], "INC-77");
    let invitations = app
        .graph_writes()
        .iter()
        .filter(|w| w.starts_with("POST /v1.0/invitations"))
        .count();
    assert_eq!(invitations, 1);

    let twice = expect_problem(
        retry(&app, &app.token(), &id).await,
        409,
        "reset-not-retryable",
    )
    .await;
    assert!(
        twice["detail"]
            .as_str()
            .unwrap()
            .contains(again["id"].as_str().unwrap()),
        "{twice}"
    );
    let done = again["id"].as_str().unwrap();
    expect_problem(
        retry(&app, &app.token(), done).await,
        409,
        "reset-not-retryable",
    )
    .await;
    let rows = app.audit_rows().await;
    assert_eq!(rows.len(), 2, "refused retries add no row");
    assert_eq!(
        rows[0]["status"], "unknown",
        "the original keeps its own outcome"
    );
}

#[tokio::test]
async fn retry_needs_the_create_permission() {
    let (app, id) = unknown_reset().await;
    let reader = app.auditor_token();
    expect_problem(retry(&app, &reader, &id).await, 403, "permission-denied").await;
    expect_problem(
        retry(&app, &app.token(), "not-a-uuid").await,
        404,
        "not-found",
    )
    .await;
    assert!(app.graph_writes().is_empty());
}
