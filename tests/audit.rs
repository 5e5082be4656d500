//! Listing the audit trail, and reconciliation of requests a previous
//! process left pending.

mod common;

use common::{TestApp, expect_problem, tenant};
use guest_reset::record::{Requester, ResetRecord, Status, Target};
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

#[tokio::test]
async fn pending_rows_of_a_dead_process_are_reconciled_at_start_up() {
    let mut app = TestApp::spawn().await;
    app.stop().await;
    let store = guest_reset::store::Store::open(&app.db_path).await.unwrap();
    let orphan = ResetRecord {
        id: uuid::Uuid::now_v7().to_string(),
        status: Status::Pending,
        dry_run: false,
        user: Some(tenant::ADELE_MAIL.into()),
        problem: None,
        target: Target::default(),
        new_email: None,
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
        policy: None,
        request_id: None,
        created_at: guest_reset::record::now_rfc3339(),
        completed_at: None,
    };
    store.insert(&orphan).await.unwrap();
    drop(store);
    let config = app.config.clone();
    let restarted = TestApp::restart(app, config).await;
    let row: Value = restarted
        .get_as(
            &restarted.auditor_token(),
            &format!("/v1/resets/{}", orphan.id),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(row["status"], "unknown", "{row}");
    assert_eq!(
        row["problem"]["type"],
        "urn:guest-reset:problem:interrupted"
    );
    assert!(row["completed_at"].is_string());
}
