//! `Idempotency-Key` on `POST /v1/resets`: replay, reuse with another body,
//! in flight, malformed, per caller, retention, and after a crash.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::{TestApp, expect_problem, tenant};
use guest_reset::store::{KeyClaim, Store};
use serde_json::{Value, json};

fn adele() -> Value {
    json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL, "ticket": "INC-5", "reason": "new company" })
}

async fn post(app: &TestApp, token: &str, key: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/v1/resets", app.base))
        .bearer_auth(token)
        .json(body);
    if let Some(k) = key {
        request = request.header("idempotency-key", k);
    }
    request.send().await.unwrap()
}

fn invitations(app: &TestApp) -> usize {
    app.graph_writes()
        .iter()
        .filter(|w| w.starts_with("POST /v1.0/invitations"))
        .count()
}

#[tokio::test]
async fn the_same_key_and_body_replay_the_first_answer() {
    let app = TestApp::spawn().await;
    let key = "\"4f1c7a52-8d3e-4c1b-9a55-0e6f2b7d9c10\"";
    let first = post(&app, &app.token(), Some(key), &adele()).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    for _ in 0..2 {
        let again = post(&app, &app.token(), Some(key), &adele()).await;
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.json::<Value>().await.unwrap(), first);
    }
    assert_eq!(invitations(&app), 1, "one reset for three deliveries");
    assert_eq!(app.audit_rows().await.len(), 1);
    // A bare token works too (what Stripe-style clients send).
    assert_eq!(post(&app, &app.token(), Some("bare-token-1"), &json!({ "user": tenant::PENDING_GUEST_MAIL, "ticket": "INC-6", "reason": "second one" })).await.status(), 201);
}

#[tokio::test]
async fn errors_are_replayed_too_and_another_body_is_refused() {
    let app = TestApp::spawn().await;
    let lee = json!({ "user": tenant::OTHER_DOMAIN_GUEST_MAIL, "ticket": "INC-7", "reason": "outside policy" });
    let first = expect_problem(
        post(&app, &app.token(), Some("\"k-1\""), &lee).await,
        403,
        "policy-denied",
    )
    .await;
    let again = post(&app, &app.token(), Some("\"k-1\""), &lee).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.status(), 403);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    expect_problem(
        post(&app, &app.token(), Some("\"k-1\""), &adele()).await,
        422,
        "idempotency-key-reused",
    )
    .await;
    assert_eq!(invitations(&app), 0);
    assert_eq!(
        app.audit_rows().await.len(),
        1,
        "replays and refusals add no reset"
    );
}

#[tokio::test]
async fn malformed_keys_are_refused_before_anything_happens() {
    let app = TestApp::spawn().await;
    let long = format!("\"{}\"", "k".repeat(256));
    for key in [
        "\"\"",
        long.as_str(),
        "\"a\\\"b\"",
        "two words",
        "\"unterminated",
        "caf\u{e9}",
    ] {
        let request = app
            .client
            .post(format!("{}/v1/resets", app.base))
            .bearer_auth(app.token())
            .json(&adele());
        let request = match reqwest::header::HeaderValue::from_bytes(key.as_bytes()) {
            Ok(v) => request.header("idempotency-key", v),
            Err(_) => continue,
        };
        expect_problem(
            request.send().await.unwrap(),
            400,
            "invalid-idempotency-key",
        )
        .await;
    }
    let twice = app
        .client
        .post(format!("{}/v1/resets", app.base))
        .bearer_auth(app.token())
        .header("idempotency-key", "\"a\"")
        .header("idempotency-key", "\"b\"")
        .json(&adele());
    expect_problem(twice.send().await.unwrap(), 400, "invalid-idempotency-key").await;
    assert!(app.audit_rows().await.is_empty());
    assert!(app.graph_writes().is_empty());
}

#[tokio::test]
async fn keys_belong_to_their_caller() {
    let app = TestApp::spawn().await;
    let other = app.token_with(json!({ "sub": "helpdesk-agent-2" }));
    assert_eq!(
        post(&app, &app.token(), Some("\"shared\""), &adele())
            .await
            .status(),
        201
    );
    let theirs = post(
        &app,
        &other,
        Some("\"shared\""),
        &json!({ "user": tenant::PENDING_GUEST_MAIL, "ticket": "INC-8", "reason": "their own" }),
    )
    .await;
    assert_eq!(theirs.status(), 201);
    assert!(theirs.headers().get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn a_key_in_flight_is_a_conflict() {
    let app = TestApp::spawn().await;
    let body = adele();
    let claim = claim_for("\"busy\"", &body);
    let store = Store::open(&app.db_path).await.unwrap();
    store.insert_claiming(&pending_row(), &claim).await.unwrap();
    let busy = post(&app, &app.token(), Some("\"busy\""), &body).await;
    assert_eq!(busy.headers()["retry-after"], "1");
    expect_problem(busy, 409, "idempotency-key-in-flight").await;
    assert_eq!(invitations(&app), 0);
}

#[tokio::test]
async fn after_a_crash_the_key_answers_with_the_reconciled_record() {
    let app = TestApp::spawn().await;
    let body = adele();
    let claim = claim_for("\"crashed\"", &body);
    let store = Store::open(&app.db_path).await.unwrap();
    let row = pending_row();
    store.insert_claiming(&row, &claim).await.unwrap();
    drop(store);
    let config = app.config.clone();
    let app = TestApp::restart(app, config).await;
    let again = post(&app, &app.token(), Some("\"crashed\""), &body).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let problem: Value = again.json().await.unwrap();
    assert_eq!(problem["reset_id"], json!(row.id), "{problem}");
    assert!(
        problem["type"].as_str().unwrap().ends_with(":interrupted"),
        "{problem}"
    );
    assert_eq!(invitations(&app), 0, "never retried blindly");
}

#[tokio::test]
async fn the_redeem_url_is_not_kept_for_replays_and_keys_expire() {
    let app = TestApp::spawn_with(|c| c.idempotency_retention = std::time::Duration::ZERO).await;
    let body = json!({ "user": tenant::PENDING_GUEST_MAIL, "send_invitation_message": false, "ticket": "INC-9", "reason": "link by hand" });
    let first: Value = post(&app, &app.token(), Some("\"gone\""), &body)
        .await
        .json()
        .await
        .unwrap();
    let url = first["invite_redeem_url"].as_str().unwrap().to_owned();
    let bytes = std::fs::read(&app.db_path).unwrap();
    let wal = std::fs::read(app.db_path.with_extension("db-wal")).unwrap_or_default();
    for file in [bytes, wal] {
        assert!(
            !file.windows(url.len()).any(|w| w == url.as_bytes()),
            "the redeem URL reached the database"
        );
    }
    // Retention zero: the key has expired, so the same key starts a new request.
    let second = post(&app, &app.token(), Some("\"gone\""), &body).await;
    assert!(second.headers().get("idempotent-replayed").is_none());
    assert_eq!(invitations(&app), 2);
}

fn claim_for(key: &str, body: &Value) -> KeyClaim {
    use guest_reset::auth::Identity;
    let caller = Identity {
        issuer: guest_reset::demo::DEMO_ISSUER.into(),
        subject: "helpdesk-agent-1".into(),
        object_id: None,
        tenant_id: None,
        app_id: None,
        name: None,
        roles: vec![],
        scopes: vec![],
        groups: vec![],
    };
    let inner = key.trim_matches('"').to_owned();
    let bytes = serde_json::to_vec(body).unwrap();
    guest_reset::http::idempotency_claim(
        &caller,
        inner,
        &bytes,
        std::time::Duration::from_secs(3600),
    )
}

fn pending_row() -> guest_reset::record::ResetRecord {
    serde_json::from_value(json!({
        "id": uuid::Uuid::now_v7().to_string(), "status": "pending", "dry_run": false,
        "user": tenant::ADELE_MAIL, "problem": null,
        "target": { "id": null, "user_principal_name": null, "previous_email": null, "user_type": null, "external_user_state": null },
        "new_email": null, "other_mails_added": false, "send_invitation_message": true,
        "redirect_url": null, "invitation": null, "graph_request_ids": [],
        "requested_by": { "issuer": guest_reset::demo::DEMO_ISSUER, "subject": "helpdesk-agent-1", "object_id": null, "tenant_id": null, "app": null, "name": null },
        "ticket": null, "reason": null, "override_cooldown": false, "policy": null,
        "request_id": null, "created_at": guest_reset::record::now_rfc3339(), "completed_at": null
    }))
    .unwrap()
}
