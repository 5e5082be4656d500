//! The directory's write quota per application (PATCH /users), alone and in `$batch`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::super::{Emulator, OverrideError, WRITE_RATE_VAR, demo};
use super::batch::{item, patch, post_batch};
use super::{Harness, Reply};

async fn add_mail(harness: &Harness, token: &str, mail: &str) -> Reply {
    let path = format!("/v1.0/users/{}", demo::ADELE_ID);
    harness
        .patch(token, &path, json!({ "otherMails": [mail] }))
        .await
}

/// The documented 429 body and the identity service's throttling headers.
fn assert_write_throttled(refused: &Reply) {
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused
        .header("retry-after")
        .parse()
        .expect("whole seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(refused.code(), "TooManyRequests");
    assert_eq!(refused.body["error"]["innerError"]["status"], "429");
    let scope = format!(
        "Tenant_Application/Write/{}/{}",
        demo::CLIENT_ID,
        demo::TENANT_ID
    );
    assert_eq!(refused.header("x-ms-throttle-scope"), scope);
    assert_eq!(
        refused.header("x-ms-throttle-information"),
        "WriteLimitExceeded"
    );
}

fn mail(i: usize) -> String {
    format!("adele-{i}@northwind.example")
}

#[tokio::test]
async fn writes_past_the_quota_get_the_documented_429_and_are_not_applied() {
    let harness = Harness::start().await;
    harness.emulator.set_write_rate(3, Duration::from_secs(60));
    let token = harness.token().await;
    for i in 0..3 {
        let reply = add_mail(&harness, &token, &mail(i)).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "write {i}");
    }

    let refused = add_mail(&harness, &token, &mail(3)).await;

    assert_write_throttled(&refused);
    assert_eq!(
        harness.adele_other_mails(),
        json!([mail(2)]),
        "the 4th not applied"
    );
    let logged = harness.emulator.requests().pop().expect("logged");
    assert_eq!(logged.injected.as_deref(), Some("write_rate_limit"));
    let path = format!("/v1.0/users/{}", demo::ADELE_ID);
    assert_eq!(
        harness.get(&token, &path).await.status,
        StatusCode::OK,
        "reads pass"
    );
}

#[tokio::test]
async fn batch_items_count_one_by_one() {
    let harness = Harness::start().await;
    harness.emulator.set_write_rate(3, Duration::from_secs(60));
    let token = harness.token().await;
    assert_eq!(
        add_mail(&harness, &token, &mail(0)).await.status,
        StatusCode::NO_CONTENT
    );
    let requests: Vec<_> = (1..=3)
        .map(|i| patch(&i.to_string(), demo::ADELE_ID, &[&mail(i)]))
        .collect();

    let reply = post_batch(&harness, &token, json!(requests)).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(item(&reply, "1")["status"], 204);
    assert_eq!(item(&reply, "2")["status"], 204);
    let throttled = item(&reply, "3");
    assert_eq!(throttled["status"], 429, "{}", reply.body);
    assert!(throttled["headers"]["Retry-After"].as_str().is_some());
    assert_eq!(
        throttled["headers"]["x-ms-throttle-information"],
        "WriteLimitExceeded"
    );
    assert_eq!(harness.adele_other_mails(), json!([mail(2)]));
}

#[tokio::test]
async fn each_application_has_its_own_quota_which_refills() {
    let harness = Harness::start().await;
    let window = Duration::from_millis(300);
    harness.emulator.set_write_rate(1, window);
    let service = harness.token().await;
    let (other_id, other_secret) = (demo::READ_ONLY_CLIENT_ID, demo::READ_ONLY_CLIENT_SECRET);
    harness
        .emulator
        .set_app_roles(other_id, &["User.ReadWrite.All"]);
    let other = harness.token_for(other_id, other_secret).await;

    assert_eq!(
        add_mail(&harness, &service, &mail(0)).await.status,
        StatusCode::NO_CONTENT
    );
    let second = add_mail(&harness, &service, &mail(1)).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        second.header("retry-after"),
        "1",
        "whole seconds, rounded up"
    );
    assert_eq!(
        add_mail(&harness, &other, &mail(2)).await.status,
        StatusCode::NO_CONTENT
    );

    tokio::time::sleep(window).await;
    assert_eq!(
        add_mail(&harness, &service, &mail(3)).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn usage_past_80_percent_of_the_quota_is_reported() {
    let harness = Harness::start().await;
    harness.emulator.set_write_rate(5, Duration::from_secs(60));
    let token = harness.token().await;
    for i in 0..4 {
        let reply = add_mail(&harness, &token, &mail(i)).await;
        assert_eq!(
            reply.header("x-ms-throttle-limit-percentage"),
            "",
            "write {i}"
        );
    }
    let fifth = add_mail(&harness, &token, &mail(4)).await;
    assert_eq!(fifth.header("x-ms-throttle-limit-percentage"), "1.00");
    let anonymous = send_anonymous_patch(&harness).await;
    assert_eq!(
        anonymous,
        StatusCode::UNAUTHORIZED,
        "no token, no app to charge"
    );
}

async fn send_anonymous_patch(harness: &Harness) -> StatusCode {
    let url = harness.url(&format!("/v1.0/users/{}", demo::ADELE_ID));
    let body = json!({ "otherMails": [] });
    super::send(harness.http.patch(url).json(&body))
        .await
        .status
}

#[test]
fn the_quota_is_configurable_by_environment_and_control_route_defaults_are_documented() {
    let emulator = Emulator::demo();
    assert_eq!(emulator.write_rate(), (3000, Duration::from_secs(150)));
    let set = |value: &'static str| {
        let var = move |name: &str| (name == WRITE_RATE_VAR).then(|| value.to_owned());
        Emulator::demo().with_overrides(var).map(|e| e.write_rate())
    };
    assert_eq!(set("5/1s"), Ok((5, Duration::from_secs(1))));
    assert_eq!(set("20/150ms"), Ok((20, Duration::from_millis(150))));
    assert!(matches!(set("fast"), Err(OverrideError::WriteRate(_))));
}
