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
    // Every lifecycle state is a valid filter, and the refusal lists them all.
    for status in ["queued", "running", "awaiting_approval", "expired"] {
        assert_eq!(
            app.get(&format!("/v1/resets?status={status}"))
                .await
                .status(),
            200
        );
    }
    let refused = expect_problem(
        app.get("/v1/resets?status=done").await,
        400,
        "invalid-request",
    )
    .await;
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains("status") && detail.contains("queued, running, awaiting_approval"),
        "{detail}"
    );
}

fn orphan(target: Option<&str>, allowed: bool, created_at: String) -> ResetRecord {
    ResetRecord {
        job: None,
        approval: None,
        tenant: "default".into(),
        tenant_id: None,
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
            agent: None,
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
        invite_attempted_at: None,
        evidence: None,
        settle_after: None,
        retry_of: None,
        created_at,
        completed_at: None,
    }
}

/// Pending rows a dead process left: unclaimed ones and claimed ones that
/// never reached the invitation wrote nothing (failed); the others are read
/// back from Graph: succeeded on a change after their own attempt, unknown
/// (with the evidence and a re-read due) otherwise.
#[tokio::test]
async fn pending_rows_of_a_dead_process_are_reconciled_from_graph() {
    let mut app = TestApp::spawn().await;
    app.stop().await;
    let now = guest_reset::record::now_rfc3339;
    let store = app.dead_process_store().await;
    let unclaimed = orphan(None, false, now());
    let never_sent = orphan(Some(tenant::ADELE_ID), true, now());
    // Adele: the dead process sent the reset and Graph applied it.
    let mut applied = orphan(Some(tenant::ADELE_ID), true, now());
    read_before(&app, &mut applied);
    applied.invite_attempted_at = Some(now());
    applied.new_email = Some(tenant::ADELE_MAIL.into());
    // Bianca: claimed and sent, but Graph shows her as before.
    let mut not_applied = orphan(Some(tenant::PENDING_GUEST_ID), true, now());
    read_before(&app, &mut not_applied);
    not_applied.invite_attempted_at = Some(now());
    not_applied.new_email = Some("bianca@northwind.example".into());
    for row in [&unclaimed, &never_sent, &applied, &not_applied] {
        store.insert(row).await.unwrap();
    }
    drop(store);
    // Graph's clock is whole seconds: apply after the anchor's second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    apply_in_graph(&app, tenant::ADELE_ID, tenant::ADELE_MAIL).await;
    let config = app.config.clone();
    let app = TestApp::restart(app, config).await;
    for id in [&unclaimed.id, &never_sent.id] {
        let row = app.reset_record(id).await;
        assert_eq!(row["status"], "failed", "{row}");
        assert_eq!(
            row["problem"]["type"],
            "urn:guest-reset:problem:interrupted"
        );
        let detail = row["problem"]["detail"].as_str().unwrap();
        assert!(
            detail.contains("before this request sent the reset"),
            "{row}"
        );
    }
    let row = app.reset_record(&applied.id).await;
    assert_eq!(row["status"], "succeeded", "{row}");
    assert_eq!(row["evidence"]["external_user_state"], "PendingAcceptance");
    assert_eq!(row["evidence"]["verdict"], "applied", "{row}");
    let row = app.reset_record(&not_applied.id).await;
    assert_eq!(row["status"], "unknown", "{row}");
    assert_eq!(
        row["problem"]["type"],
        "urn:guest-reset:problem:interrupted"
    );
    assert!(row["evidence"]["read_at"].is_string(), "{row}");
    assert!(row["settle_after"].is_string(), "a re-read is due: {row}");
    let pending = app
        .audit_rows()
        .await
        .into_iter()
        .filter(|r| r["status"] == "pending")
        .count();
    assert_eq!(pending, 0);
}

/// The guest as Graph shows it now, as the flow records it before writing.
fn read_before(app: &TestApp, record: &mut ResetRecord) {
    let id = record.target.id.clone().unwrap();
    let user = app.emulator.user(&id).unwrap();
    let text = |k: &str| user[k].as_str().map(str::to_owned);
    record.target.external_user_state = text("externalUserState");
    record.target.external_user_state_change_date_time = text("externalUserStateChangeDateTime");
}

/// Reset a guest straight in Graph (what a process that died after sending
/// its invitation leaves behind).
async fn apply_in_graph(app: &TestApp, user_id: &str, email: &str) {
    let graph = &app.config.graph;
    let token: Value = app
        .client
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            graph.authority_url, graph.tenant_id
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", graph.client_id.as_str()),
            ("client_secret", tenant::CLIENT_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let invited = app
        .client
        .post(format!("{}/v1.0/invitations", graph.graph_url))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({
            "invitedUserEmailAddress": email, "inviteRedirectUrl": "https://myapps.microsoft.com",
            "sendInvitationMessage": false, "resetRedemption": true, "invitedUser": { "id": user_id },
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(invited.status(), 201);
}
