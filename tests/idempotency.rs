//! `Idempotency-Key` on `POST /v1/resets`: replay, reuse with another body,
//! in flight, malformed, per caller, retention, and after a crash.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::idempotency::{claim_for, pending_row};
use common::{TestApp, expect_problem, tenant};
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
    let store = app.store().await;
    store.insert_claiming(&pending_row(), &claim).await.unwrap();
    let busy = post(&app, &app.token(), Some("\"busy\""), &body).await;
    assert_eq!(busy.headers()["retry-after"], "1");
    expect_problem(busy, 409, "idempotency-key-in-flight").await;
    assert_eq!(invitations(&app), 0);
}

/// The same key again while the first request is still writing to Graph
/// (its row `running`): in flight, never an answer built from the open row.
#[tokio::test]
async fn a_key_whose_reset_is_running_is_in_flight_not_answered() {
    use guest_reset::emulator::{Emulator, Fault, FaultPlan, FaultRoute, FaultRule};
    let emulator = Emulator::demo();
    emulator.set_faults(FaultPlan {
        seed: 1,
        rules: vec![FaultRule {
            route: FaultRoute::Invitations,
            fault: Fault::Latency { millis: 1500 },
            probability: 1.0,
            limit: None,
            skip: 0,
        }],
    });
    let app = std::sync::Arc::new(TestApp::spawn_on(emulator, |_| {}).await);
    let (first_app, body) = (std::sync::Arc::clone(&app), adele());
    let first = tokio::spawn(async move {
        let token = first_app.token();
        post(&first_app, &token, Some("\"slow\""), &body)
            .await
            .status()
    });
    for _ in 0..100 {
        let rows = app.audit_rows().await;
        if rows.iter().any(|r| r["status"] == "running") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let again = post(&app, &app.token(), Some("\"slow\""), &adele()).await;
    expect_problem(again, 409, "idempotency-key-in-flight").await;
    assert_eq!(first.await.unwrap(), 201);
    let replay = post(&app, &app.token(), Some("\"slow\""), &adele()).await;
    assert_eq!(replay.status(), 201);
    assert_eq!(invitations(&app), 1);
}

#[tokio::test]
async fn after_a_crash_the_key_answers_with_the_reconciled_record() {
    let app = TestApp::spawn().await;
    let body = adele();
    let claim = claim_for("\"crashed\"", &body);
    let store = app.dead_process_store().await;
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
    assert!(
        !app.database_text().await.contains(&url),
        "the redeem URL reached the database"
    );
    // Retention zero: the key has expired, so the same key starts a new request.
    let second = post(&app, &app.token(), Some("\"gone\""), &body).await;
    assert!(second.headers().get("idempotent-replayed").is_none());
    assert_eq!(invitations(&app), 2);
}

/// What a replay must repeat: status, the headers that matter, the body.
async fn answer(response: reqwest::Response) -> (u16, Vec<Option<String>>, Value) {
    let header = |n: &str| {
        response
            .headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let headers = ["location", "retry-after", "preference-applied"].map(header);
    (
        response.status().as_u16(),
        headers.to_vec(),
        response.json().await.unwrap(),
    )
}

#[tokio::test]
async fn a_replay_repeats_the_status_the_headers_that_matter_and_the_body() {
    let rule = "name = \"fabrikam-helpdesk\"";
    let policy =
        guest_reset::demo::DEMO_POLICY.replace(rule, &format!("{rule}\ncooldown_hours = 1"));
    let app = TestApp::spawn_with_policy(&policy).await;
    let mut plan = adele();
    plan["dry_run"] = json!(true);
    // Planned, created, then Adele again within the cooldown (409, Retry-After).
    let cases = [
        ("\"planned\"", plan),
        ("\"created\"", adele()),
        ("\"cooling\"", adele()),
    ];
    let mut seen = Vec::new();
    for (key, body) in &cases {
        let first = answer(post(&app, &app.token(), Some(key), body).await).await;
        let replay = answer(post(&app, &app.token(), Some(key), body).await).await;
        assert_eq!(replay, first, "replay of {key}");
        seen.push(first);
    }
    let bianca =
        json!({ "user": tenant::PENDING_GUEST_MAIL, "ticket": "INC-10", "reason": "later" });
    let queue = || {
        app.client
            .post(format!("{}/v1/resets", app.base))
            .bearer_auth(app.token())
            .header("idempotency-key", "\"queued\"")
            .header("prefer", "respond-async")
            .json(&bianca)
            .send()
    };
    let first = answer(queue().await.unwrap()).await;
    assert_eq!(
        answer(queue().await.unwrap()).await,
        first,
        "replay of a 202"
    );
    seen.push(first);
    let statuses: Vec<u16> = seen.iter().map(|(s, ..)| *s).collect();
    assert_eq!(statuses, [200, 201, 409, 202]);
    let located = seen.iter().all(|(s, h, _)| h[0].is_some() == (*s < 300));
    assert!(located, "Location on every success: {seen:?}");
    assert!(seen[2].1[1].is_some(), "the cooldown's Retry-After");
    assert_eq!(seen[3].1[2].as_deref(), Some("respond-async"));
}

#[tokio::test]
async fn an_answer_stored_before_headers_were_kept_replays_its_location() {
    let app = TestApp::spawn().await;
    let (body, row) = (adele(), pending_row());
    let claim = claim_for("\"old\"", &body);
    let store = app.store().await;
    store.insert_claiming(&row, &claim).await.unwrap();
    let answer = guest_reset::store::StoredAnswer {
        status: 201,
        content_type: "application/json".into(),
        body: "{}".into(),
        headers: Vec::new(),
    };
    store
        .idempotency_complete(&claim, &row.id, &answer)
        .await
        .unwrap();
    let again = post(&app, &app.token(), Some("\"old\""), &body).await;
    assert_eq!(again.status(), 201);
    assert_eq!(
        again.headers()["location"],
        format!("/v1/resets/{}", row.id)
    );
}
