//! Caller authentication: every refused token gets 401 with a Bearer
//! challenge, and nothing is recorded or sent to Graph.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use base64::Engine;
use common::{TestApp, expect_problem, sign, tenant};
use serde_json::json;

async fn refused(app: &TestApp, token: Option<&str>, what: &str) {
    let mut request = app
        .client
        .post(format!("{}/v1/resets", app.base))
        .json(&json!({ "user": tenant::ADELE_MAIL }));
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let response = request.send().await.unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        challenge
            .as_deref()
            .is_some_and(|c| c.starts_with("Bearer")),
        "{what}: {challenge:?}"
    );
    let problem = expect_problem(response, 401, "unauthenticated").await;
    if let Some(t) = token.filter(|t| t.len() > 20) {
        assert!(
            !problem.to_string().contains(t),
            "{what}: the token is echoed"
        );
    }
}

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn missing_malformed_and_forged_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let now = jsonwebtoken::get_current_timestamp();
    refused(&app, None, "no token").await;
    refused(&app, Some(""), "empty").await;
    refused(&app, Some("not-a-jwt"), "garbage").await;
    refused(
        &app,
        Some(&app.token_with(json!({ "exp": now - 120 }))),
        "expired beyond leeway",
    )
    .await;
    refused(
        &app,
        Some(&app.token_with(json!({ "nbf": now + 600 }))),
        "not yet valid",
    )
    .await;
    refused(
        &app,
        Some(&app.token_with(json!({ "aud": "api://someone-else" }))),
        "wrong audience",
    )
    .await;
    refused(
        &app,
        Some(&app.token_with(json!({ "iss": "https://evil.example" }))),
        "wrong issuer",
    )
    .await;
    refused(
        &app,
        Some(&app.token_with(json!({ "exp": null }))),
        "no exp",
    )
    .await;
    refused(
        &app,
        Some(&app.token_with(json!({ "aud": null }))),
        "no aud",
    )
    .await;
    refused(
        &app,
        Some(&app.token_with(json!({ "sub": null }))),
        "no sub",
    )
    .await;
    let claims = json!({ "iss": common::demo_issuer(), "aud": common::demo_audience(), "sub": "x", "exp": now + 600 });
    refused(
        &app,
        Some(&sign(&claims, "another-secret-that-is-long-enough-000")),
        "wrong key",
    )
    .await;
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = format!(
            "{}.{}.",
            b64(&json!({ "alg": alg, "typ": "JWT" })),
            b64(&claims)
        );
        refused(&app, Some(&token), alg).await;
    }
    let good = app.token();
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = b64(
        &json!({ "iss": common::demo_issuer(), "aud": common::demo_audience(), "sub": "admin", "exp": now + 600 }),
    );
    refused(&app, Some(&parts.join(".")), "tampered payload").await;
    let typ = jsonwebtoken::Header {
        typ: Some("id+jwt".into()),
        ..Default::default()
    };
    let key =
        jsonwebtoken::EncodingKey::from_secret(guest_reset::demo::DEMO_TOKEN_SECRET.as_bytes());
    refused(
        &app,
        Some(&jsonwebtoken::encode(&typ, &claims, &key).unwrap()),
        "wrong typ",
    )
    .await;
    assert!(
        app.audit_rows().await.is_empty(),
        "unauthenticated requests are not recorded"
    );
    assert!(app.graph_calls().is_empty());
}

#[tokio::test]
async fn reads_need_a_token_too() {
    let app = TestApp::spawn().await;
    for path in [
        "/v1/resets",
        "/v1/resets/0193a000-0000-7000-8000-000000000000",
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        expect_problem(response, 401, "unauthenticated").await;
    }
}

#[tokio::test]
async fn token_within_leeway_is_accepted() {
    let app = TestApp::spawn().await;
    let now = jsonwebtoken::get_current_timestamp();
    let token = app.token_with(json!({ "exp": now - 30 }));
    let response = app
        .post_reset_as(&token, json!({ "user": tenant::PENDING_GUEST_MAIL }))
        .await;
    assert_eq!(response.status(), 201);
}
