//! Bad input on the routes approvals and tenants added: every refusal is a
//! problem+json with a stable type, never a 500.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use common::approvals::{act, adele_moves, agent, approver, ask, policy};
use serde_json::json;

async fn expect(response: reqwest::Response, status: u16, kind: &str, what: &str) {
    assert_eq!(response.status().as_u16(), status, "{what}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json", "{what}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["type"],
        format!("urn:guest-reset:problem:{kind}"),
        "{what}: {body}"
    );
}

#[tokio::test]
async fn bad_approval_bodies_and_ids_are_problems() {
    let app = TestApp::spawn_with_policy(&policy(1)).await;
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    let id = waiting["id"].as_str().unwrap();
    let post = |path: String, body: Vec<u8>| {
        app.client
            .post(format!("{}{path}", app.base))
            .bearer_auth(approver(&app, 1))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let approve = format!("/v1/resets/{id}/approve");
    let deny = format!("/v1/resets/{id}/deny");
    let long = json!({ "comment": "x".repeat(1001) }).to_string();
    let cases: Vec<(String, Vec<u8>, u16, &str)> = vec![
        (approve.clone(), b"[]".to_vec(), 400, "invalid-json"),
        (approve.clone(), b"not json".to_vec(), 400, "invalid-json"),
        (
            approve.clone(),
            br#"{"comment": 5}"#.to_vec(),
            400,
            "invalid-request",
        ),
        (
            approve.clone(),
            br#"{"verdict": "yes"}"#.to_vec(),
            400,
            "invalid-request",
        ),
        (approve.clone(), long.into_bytes(), 400, "invalid-request"),
        (
            approve.clone(),
            vec![b'{'; 70 * 1024],
            413,
            "payload-too-large",
        ),
        (
            deny.clone(),
            br#"{"comment": "   "}"#.to_vec(),
            400,
            "invalid-request",
        ),
        (deny, b"{}".to_vec(), 400, "invalid-request"),
        (
            "/v1/resets/not-a-uuid/approve".into(),
            Vec::new(),
            404,
            "not-found",
        ),
        (
            format!("/v1/resets/{}/deny", uuid::Uuid::now_v7()),
            br#"{"comment":"c"}"#.to_vec(),
            404,
            "not-found",
        ),
        (
            format!("/v1/resets/{}/cancel", uuid::Uuid::now_v7()),
            b"garbage".to_vec(),
            404,
            "not-found",
        ),
    ];
    for (path, body, status, kind) in cases {
        expect(post(path.clone(), body).await.unwrap(), status, kind, &path).await;
    }
    // Unauthenticated: 401, on every approval route.
    let inbox = app
        .client
        .get(format!("{}/v1/approvals", app.base))
        .send()
        .await
        .unwrap();
    expect(inbox, 401, "unauthenticated", "inbox").await;
    assert_eq!(app.reset_record(id).await["status"], "awaiting_approval");
}

#[tokio::test]
async fn bad_tenant_agent_and_filter_values_are_problems() {
    let app = TestApp::spawn_with_policy(&policy(1)).await;
    for body in [
        json!({ "user": "a@fabrikam.example", "tenant": 5 }),
        json!({ "user": "a@fabrikam.example", "on_behalf_of": [] }),
        json!({ "user": "a@fabrikam.example", "on_behalf_of": "" }),
    ] {
        expect(
            app.post_reset(body.clone()).await,
            400,
            "invalid-request",
            &body.to_string(),
        )
        .await;
    }
    let long = "x".repeat(257);
    for query in [
        format!("agent={long}"),
        format!("approver={long}"),
        format!("tenant={long}"),
    ] {
        let r = app
            .get_as(&app.auditor_token(), &format!("/v1/resets?{query}"))
            .await;
        expect(r, 400, "invalid-request", &query[..8]).await;
    }
    // LIKE's wildcards and quotes in a filter are literals, not a 500.
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    act(
        &app,
        &approver(&app, 1),
        waiting["id"].as_str().unwrap(),
        "approve",
        None,
    )
    .await;
    let exact = app
        .get_as(&app.auditor_token(), "/v1/resets?approver=sub-approver-1")
        .await;
    let exact: serde_json::Value = exact.json().await.unwrap();
    assert_eq!(exact["items"].as_array().unwrap().len(), 1);
    for odd in ["%25", "_", "%5C", "%22%27", "a%25b"] {
        let r = app
            .get_as(&app.auditor_token(), &format!("/v1/resets?approver={odd}"))
            .await;
        assert_eq!(r.status(), 200, "{odd}");
        let page: serde_json::Value = r.json().await.unwrap();
        assert!(page["items"].as_array().unwrap().is_empty(), "{odd}");
    }
}
