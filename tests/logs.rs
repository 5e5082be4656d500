//! Logs keep secrets out: the real binary at debug level with JSON logs is
//! driven through resets (one handing out a redeem URL), a forged token and a
//! failing Graph call; no line may contain a caller token, the HS256 secret,
//! the Graph client secret or access token, or the redeem URL. Every line is
//! JSON, and every line inside a request carries its request id.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking
#![cfg(unix)]

mod common;

use std::time::Duration;

use common::binary::{ISSUER, SECRET, serve_logged};
use common::{sign, tenant};
use guest_reset::emulator::Emulator;
use serde_json::{Value, json};

fn token(roles: &[&str]) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({ "iss": ISSUER, "aud": "api://guest-reset", "sub": "agent-7",
        "exp": now + 300, "roles": roles });
    sign(&claims, SECRET)
}

async fn reset(base: &str, token: &str, body: Value, request_id: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/resets"))
        .bearer_auth(token)
        .header("x-request-id", request_id)
        .header("Idempotency-Key", format!("\"{request_id}\""))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn debug_json_logs_carry_request_ids_and_no_secrets() {
    let emulator = Emulator::demo();
    let graph = emulator.spawn("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.toml"),
        guest_reset::demo::DEMO_POLICY,
    )
    .unwrap();
    let env = [("RUST_LOG", "debug")];
    let (_server, base, log) = serve_logged(dir.path(), graph, &env);

    let helpdesk = token(&["GuestReset.Helpdesk", "GuestReset.RedeemUrl"]);
    let body = json!({ "user": tenant::PENDING_GUEST_MAIL, "send_invitation_message": false,
        "ticket": "INC-7", "reason": "log scan test" });
    let (status, created) = reset(&base, &helpdesk, body, "log-scan-reset").await;
    assert_eq!(status, 201, "{created}");
    let redeem_url = created["invite_redeem_url"]
        .as_str()
        .expect("a redeem URL")
        .to_owned();
    let forged = token(&["GuestReset.Admin"]).replace('.', ".x");
    let (status, _) = reset(&base, &forged, json!({}), "log-scan-forged").await;
    assert_eq!(status, 401);
    let body = json!({ "user": tenant::MEMBER_MAIL, "ticket": "INC-8", "reason": "not a guest" });
    let (status, _) = reset(&base, &helpdesk, body, "log-scan-member").await;
    assert_eq!(status, 422);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let lines = log.lock().unwrap().clone();
    assert!(
        lines.len() > 20,
        "debug logging is on: {} lines",
        lines.len()
    );
    let graph_token = emulator.issued_access_tokens();
    assert!(!graph_token.is_empty(), "the service fetched a Graph token");
    let secrets = [
        vec![
            helpdesk,
            forged,
            SECRET.to_owned(),
            tenant::CLIENT_SECRET.to_owned(),
        ],
        graph_token,
    ]
    .concat();
    let url_secret = redeem_url
        .split_once('?')
        .map_or(redeem_url.as_str(), |(_, q)| q);
    for line in &lines {
        for secret in secrets
            .iter()
            .map(String::as_str)
            .chain([url_secret, redeem_url.as_str()])
        {
            assert!(
                !line.contains(secret),
                "a secret leaked into the log: {line}"
            );
        }
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if parsed["span"]["name"] == "request" {
            assert!(
                parsed["span"]["request_id"]
                    .as_str()
                    .is_some_and(|id| !id.is_empty()),
                "{line}"
            );
        }
    }
    for id in ["log-scan-reset", "log-scan-forged", "log-scan-member"] {
        assert!(
            lines.iter().any(|l| l.contains(id)),
            "request id {id} is searchable"
        );
    }
}
