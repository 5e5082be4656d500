//! The invitation manager's rate limit, replication lag between the directory and the
//! invitation service, and their control routes.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::super::{FaultRoute, demo};
use super::{Harness, Reply, reset_body, send};

const MISMATCH: &str = "The email you're using to invite this user doesn't match any emails on the user object. Please add this email to the user object and try again.";

async fn reset(harness: &Harness, token: &str) -> Reply {
    send(harness.graph_request(token, FaultRoute::Invitations)).await
}

#[tokio::test]
async fn the_151st_invitation_request_within_five_seconds_is_throttled() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    for call in 1..=150 {
        let reply = reset(&harness, &token).await;
        assert_eq!(reply.status, StatusCode::CREATED, "call {call}");
    }
    let refused = reset(&harness, &token).await;

    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.header("retry-after").parse().expect("integer");
    assert!((1..=5).contains(&retry_after), "{retry_after}");
    assert!(uuid::Uuid::parse_str(refused.header("request-id")).is_ok());
    assert_eq!(refused.code(), "TooManyRequests");
    assert_eq!(refused.body["error"]["innerError"]["status"], "429");
    assert_eq!(harness.emulator.applied_resets().len(), 150, "not applied");
    let logged = harness.emulator.requests().pop().expect("logged");
    assert_eq!(logged.injected.as_deref(), Some("invitation_rate_limit"));
    // Other routes are not under the invitation limit.
    let user = send(harness.graph_request(&token, FaultRoute::GetUser)).await;
    assert_eq!(user.status, StatusCode::OK);
}

#[tokio::test]
async fn the_invitation_bucket_refills_after_the_window() {
    let harness = Harness::start().await;
    let window = Duration::from_millis(200);
    harness.emulator.set_invitation_rate(3, window);
    let token = harness.token().await;
    // Unauthenticated requests count too: the limit is the gateway's, before the token.
    let anonymous = send(harness.http.post(harness.url("/v1.0/invitations"))).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    for _ in 0..2 {
        assert_eq!(reset(&harness, &token).await.status, StatusCode::CREATED);
    }
    let refused = reset(&harness, &token).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.header("retry-after"),
        "1",
        "whole seconds, rounded up"
    );

    tokio::time::sleep(window).await;
    assert_eq!(reset(&harness, &token).await.status, StatusCode::CREATED);
    assert_eq!(harness.emulator.applied_resets().len(), 3);
}

#[tokio::test]
async fn a_fresh_address_reaches_the_invitation_service_only_after_the_lag() {
    let harness = Harness::start().await;
    let lag = Duration::from_millis(300);
    harness.emulator.set_replication_lag(lag);
    let token = harness.token().await;
    let path = format!("/v1.0/users/{}", demo::ADELE_ID);
    let body = json!({ "otherMails": [demo::ADELE_NEW_MAIL] });
    let patched = harness.patch(&token, &path, body).await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT);
    let read = harness
        .get(&token, &format!("{path}?$select=otherMails"))
        .await;
    assert_eq!(
        read.body["otherMails"],
        json!([demo::ADELE_NEW_MAIL]),
        "reads are fresh"
    );

    let new_mail = reset_body(demo::ADELE_ID, demo::ADELE_NEW_MAIL);
    let early = harness.invite(&token, new_mail.clone()).await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    assert_eq!((early.code(), early.message()), ("BadRequest", MISMATCH));
    let old_mail = reset_body(demo::ADELE_ID, demo::ADELE_MAIL);
    let old = harness.invite(&token, old_mail).await;
    assert_eq!(
        old.status,
        StatusCode::CREATED,
        "an old address is not delayed"
    );

    tokio::time::sleep(lag).await;
    let late = harness.invite(&token, new_mail).await;
    assert_eq!(late.status, StatusCode::CREATED, "{}", late.body);
    let emails: Vec<_> = harness.emulator.applied_resets();
    let emails: Vec<_> = emails.iter().map(|r| r.email.as_str()).collect();
    assert_eq!(emails, [demo::ADELE_MAIL, demo::ADELE_NEW_MAIL]);
}

#[tokio::test]
async fn limit_and_applied_control_routes_round_trip() {
    let harness = Harness::start().await;
    let limits = harness.url("/_emulator/limits");
    let documented = json!({
        "invitations_per_window": 150, "window_ms": 5000, "writes_per_window": 3000,
        "write_window_ms": 150000, "replication_lag_ms": 0, "clock_offset_ms": 0
    });
    assert_eq!(send(harness.http.get(&limits)).await.body, documented);

    let wanted = json!({
        "invitations_per_window": 1, "window_ms": 60000, "writes_per_window": 7,
        "write_window_ms": 1000, "replication_lag_ms": 250, "clock_offset_ms": -3000
    });
    let put = send(harness.http.put(&limits).json(&wanted)).await;
    assert_eq!((put.status, &put.body), (StatusCode::OK, &wanted));
    let partial = json!({ "replication_lag_ms": 0 });
    let put = send(harness.http.put(&limits).json(&partial)).await;
    assert_eq!(
        put.body["invitations_per_window"], 1,
        "absent fields are kept"
    );
    assert_eq!(harness.emulator.replication_lag(), Duration::ZERO);
    assert_eq!(harness.emulator.clock_offset_ms(), -3000, "kept too");
    for bad in [
        json!({ "window_ms": 0 }),
        json!({ "writes_per_window": 0 }),
        json!({ "burst": 3 }),
        json!({ "clock_offset_ms": i64::MAX }),
    ] {
        let refused = send(harness.http.put(&limits).json(&bad)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    let token = harness.token().await;
    let sent = "c0ffee00-1111-4222-8333-944445555666";
    let request = harness.graph_request(&token, FaultRoute::Invitations);
    let first = send(request.header("client-request-id", sent)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = reset(&harness, &token).await;
    assert_eq!(
        second.status,
        StatusCode::TOO_MANY_REQUESTS,
        "one per minute"
    );

    let applied = send(harness.http.get(harness.url("/_emulator/applied"))).await;
    let applied = applied.body.as_array().cloned().unwrap_or_default();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0]["invitation_id"], first.body["id"]);
    assert_eq!(applied[0]["user_id"], demo::ADELE_ID);
    assert_eq!(applied[0]["client_request_id"], sent);
}
