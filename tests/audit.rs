//! Listing the audit trail, and reconciliation of requests a previous
//! process left pending.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::{TestApp, expect_problem, tenant};
use guest_reset::record::{PolicyRecord, Requester, ResetRecord, Status, Target};
use serde_json::{Value, json};

#[tokio::test]
async fn list_filters_and_paginates() {
    let app = TestApp::spawn().await;
    for ticket in ["INC-1", "INC-2", "INC-3"] {
        let r = app
            .post_reset(json!({ "user": tenant::PENDING_GUEST_MAIL, "ticket": ticket }))
            .await;
        assert_eq!(r.status(), 201);
    }
    app.post_reset(json!({ "user": tenant::MEMBER_MAIL, "ticket": "INC-9" }))
        .await;
    let page: Value = app.get("/v1/resets?limit=2").await.json().await.unwrap();
    let tickets: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ticket"].clone())
        .collect();
    assert_eq!(tickets, [json!("INC-9"), json!("INC-3")], "newest first");
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value = app
        .get(&format!("/v1/resets?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["items"].as_array().unwrap().len(), 2);
    let last: Value = app
        .get(&format!(
            "/v1/resets?limit=2&cursor={}",
            next["next_cursor"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert!(last["items"].as_array().unwrap().is_empty());
    assert!(last["next_cursor"].is_null());

    let denied: Value = app
        .get("/v1/resets?status=denied")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(denied["items"].as_array().unwrap().len(), 1);
    let by_ticket: Value = app
        .get("/v1/resets?ticket=INC-2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_ticket["items"].as_array().unwrap().len(), 1);
    let by_user: Value = app
        .get(&format!("/v1/resets?user={}", tenant::PENDING_GUEST_ID))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_user["items"].as_array().unwrap().len(), 3);
    let by_requester: Value = app
        .get("/v1/resets?requested_by=helpdesk-agent-1&since=2000-01-01T00:00:00Z")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_requester["items"].as_array().unwrap().len(), 4);
    let future: Value = app
        .get("/v1/resets?until=2000-01-01T00:00:00Z")
        .await
        .json()
        .await
        .unwrap();
    assert!(future["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_list_parameters_are_problems() {
    let app = TestApp::spawn().await;
    for query in [
        "limit=0",
        "limit=100000",
        "status=done",
        "since=yesterday",
        "cursor=abc",
        "colour=red",
        "limit=x",
    ] {
        expect_problem(
            app.get(&format!("/v1/resets?{query}")).await,
            400,
            "invalid-request",
        )
        .await;
    }
}

fn orphan(target: Option<&str>, allowed: bool, created_at: String) -> ResetRecord {
    ResetRecord {
        id: uuid::Uuid::now_v7().to_string(),
        status: Status::Pending,
        dry_run: false,
        user: Some(tenant::ADELE_MAIL.into()),
        problem: None,
        target: Target {
            id: target.map(str::to_owned),
            ..Target::default()
        },
        new_email: Some(tenant::ADELE_NEW_MAIL.into()),
        other_mails_added: false,
        send_invitation_message: Some(true),
        redirect_url: None,
        invitation: None,
        graph_request_ids: vec![],
        requested_by: Requester {
            issuer: Some(guest_reset::demo::DEMO_ISSUER.into()),
            subject: "crashed".into(),
            object_id: None,
            tenant_id: None,
            app: None,
            name: None,
        },
        ticket: None,
        reason: None,
        override_cooldown: false,
        policy: allowed.then(|| PolicyRecord {
            allowed: true,
            rule: Some("fabrikam-helpdesk".into()),
            reasons: vec![],
            version: None,
        }),
        request_id: None,
        evidence: None,
        retry_of: None,
        created_at,
        completed_at: None,
    }
}

/// Pending rows a dead process left: unclaimed ones wrote nothing (failed);
/// claimed ones are read back from Graph: succeeded when Graph shows the
/// reset, unknown (with the evidence) when it does not.
#[tokio::test]
async fn pending_rows_of_a_dead_process_are_reconciled_from_graph() {
    let app = TestApp::spawn().await;
    let before_reset = guest_reset::record::now_rfc3339();
    // Adele is reset after `before_reset`: Graph shows PendingAcceptance and her new email.
    let body = json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL });
    assert_eq!(app.post_reset(body).await.status(), 201);
    let mut app = app;
    app.stop().await;
    let store = guest_reset::store::Store::open(&app.db_path).await.unwrap();
    let unclaimed = orphan(None, false, before_reset.clone());
    let applied = orphan(Some(tenant::ADELE_ID), true, before_reset);
    // Bianca: claimed, but Graph shows no reset by this request.
    let mut not_applied = orphan(
        Some(tenant::PENDING_GUEST_ID),
        true,
        guest_reset::record::now_rfc3339(),
    );
    not_applied.new_email = Some("bianca@northwind.example".into());
    for row in [&unclaimed, &applied, &not_applied] {
        store.insert(row).await.unwrap();
    }
    drop(store);
    let config = app.config.clone();
    let app = TestApp::restart(app, config).await;
    let row = read(&app, &unclaimed.id).await;
    assert_eq!(row["status"], "failed", "{row}");
    assert_eq!(
        row["problem"]["type"],
        "urn:guest-reset:problem:interrupted"
    );
    let row = read(&app, &applied.id).await;
    assert_eq!(row["status"], "succeeded", "{row}");
    assert_eq!(row["evidence"]["external_user_state"], "PendingAcceptance");
    assert!(
        row["evidence"]["finding"]
            .as_str()
            .unwrap()
            .starts_with("applied"),
        "{row}"
    );
    let row = read(&app, &not_applied.id).await;
    assert_eq!(row["status"], "unknown", "{row}");
    assert_eq!(
        row["problem"]["type"],
        "urn:guest-reset:problem:interrupted"
    );
    assert!(row["evidence"]["read_at"].is_string(), "{row}");
    let pending = app
        .audit_rows()
        .await
        .into_iter()
        .filter(|r| r["status"] == "pending")
        .count();
    assert_eq!(pending, 0);
}

async fn read(app: &TestApp, id: &str) -> Value {
    let path = format!("/v1/resets/{id}");
    app.get_as(&app.auditor_token(), &path)
        .await
        .json()
        .await
        .unwrap()
}
