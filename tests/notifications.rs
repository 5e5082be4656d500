//! Approval notifications through the public API: with a receiver
//! configured, each approval event (requested, approved, denied, cancelled,
//! executed) arrives signed with the notification secret, verified here with
//! an independent HMAC; a receiver that fails gets it again with the same
//! `webhook-id`, every attempt on record; unconfigured, nothing is sent.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::TestApp;
use common::approvals::*;
use common::webhooks::{Delivered, Receiver, mac, whsec_key};
use guest_reset::config::NotifyConfig;
use secrecy::SecretString;
use serde_json::{Value, json};

/// The notification secret: not the callbacks', so a signature that
/// verifies proves which one signed it.
const NOTIFY_WHSEC: &str = "whsec_YXBwcm92YWwtZXZlbnRzLWZvci1wZW9wbGUhIQ==";

/// The approval policy (one approver), notifications to `url`, retries
/// 100 ms apart.
async fn app_notifying(url: Option<String>, public_url: Option<&str>) -> TestApp {
    let public_url = public_url.map(str::to_owned);
    TestApp::spawn_with(move |c| {
        std::fs::write(&c.policy_file, policy(1)).unwrap();
        c.notify = url.map(|url| NotifyConfig {
            url: url.parse().unwrap(),
            secret: SecretString::from(NOTIFY_WHSEC),
            public_url,
            console_link: true,
        });
        c.webhooks.callback_first_retry = Duration::from_millis(100);
    })
    .await
}

/// The first `n` deliveries `receiver` got, once it has them.
async fn delivered(receiver: &Receiver, n: usize) -> Vec<Delivered> {
    for _ in 0..100 {
        if receiver.seen().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = receiver.seen();
    assert!(seen.len() >= n, "{} of {n} deliveries", seen.len());
    seen
}

/// The event of a delivery, after checking its Standard Webhooks signature
/// with the notification secret.
fn verified((headers, body): &Delivered) -> Value {
    let header = |n: &str| headers[n].to_str().unwrap().to_owned();
    let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
    let signed = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body].concat();
    let expected = B64.encode(mac(&whsec_key(NOTIFY_WHSEC), &[&signed]));
    assert_eq!(header("webhook-signature"), format!("v1,{expected}"));
    let age = common::webhooks::now() - timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "timestamp {timestamp}");
    assert_eq!(header("content-type"), "application/json");
    serde_json::from_slice(body).unwrap()
}

fn types(seen: &[Delivered]) -> Vec<String> {
    let kind = |d: &Delivered| verified(d)["type"].as_str().unwrap().to_owned();
    seen.iter().map(kind).collect()
}

/// Every attempt recorded for notification `id`: (attempt, HTTP status).
async fn attempts(app: &TestApp, id: &str) -> Vec<(i64, Option<i64>)> {
    let sql = "select attempt, status from notification_attempts where notification_id = $1 \
               order by attempt";
    let mut conn = app.database().await;
    sqlx::query_as(sql)
        .bind(id)
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_request_needing_approval_notifies_approval_requested_signed_with_the_notify_secret() {
    let (receiver, url) = Receiver::start(0).await;
    let app = app_notifying(Some(url), None).await;
    let (status, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    assert_eq!(status, 202, "{waiting}");
    let id = waiting["id"].as_str().unwrap();

    let seen = delivered(&receiver, 1).await;
    let event = verified(&seen[0]);
    assert_eq!(event["type"], "approval.requested");
    assert_eq!(event["reset_id"], id);
    assert_eq!(event["status"], "awaiting_approval");
    assert_eq!(event["tenant"], waiting["tenant"]);
    assert_eq!(event["link"], format!("/v1/resets/{id}"));
    assert_eq!(event["console_link"], format!("/console/resets/{id}"));
    assert_eq!(event["requested_by"]["subject"], "sub-agent");
    assert_eq!(event["requested_by"]["name"], "agent");
    assert_eq!(event["requested_by"]["agent"]["id"], "oid-agent");
    assert_eq!(event["approval"], waiting["approval"]);
    assert!(guest_reset::record::parse_timestamp(event["occurred_at"].as_str().unwrap()).is_some());
    // Exactly these fields: nothing else of the record (no redeem URL, no
    // redirect URL) reaches a chat channel.
    let mut keys: Vec<&str> = event
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let wanted = [
        "approval",
        "console_link",
        "link",
        "occurred_at",
        "problem",
        "requested_by",
        "reset_id",
        "status",
        "tenant",
        "type",
    ];
    assert_eq!(keys, wanted);
    // The webhook-id is the notification's own, not the reset id.
    let webhook_id = seen[0].0["webhook-id"].to_str().unwrap();
    assert_ne!(webhook_id, id);
}

#[tokio::test]
async fn an_approval_notifies_approved_then_executed_with_the_final_status() {
    let (receiver, url) = Receiver::start(0).await;
    let app = app_notifying(Some(url), Some("https://guest-reset.example/")).await;
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    let id = waiting["id"].as_str().unwrap();
    delivered(&receiver, 1).await;
    let ok = json!({ "comment": "ticket checked" });
    let (status, _) = act(&app, &approver(&app, 1), id, "approve", Some(ok)).await;
    assert_eq!(status, 200);
    assert_eq!(settled(&app, id).await["status"], "succeeded");

    let seen = delivered(&receiver, 3).await;
    assert_eq!(
        types(&seen),
        [
            "approval.requested",
            "approval.approved",
            "approval.executed"
        ]
    );
    let approved = verified(&seen[1]);
    let decision = &approved["approval"]["decisions"][0];
    assert_eq!(decision["approver"]["subject"], "sub-approver-1");
    assert_eq!(decision["comment"], "ticket checked");
    let executed = verified(&seen[2]);
    assert_eq!(executed["status"], "succeeded");
    assert_eq!(executed["problem"], Value::Null);
    assert_eq!(
        executed["link"],
        format!("https://guest-reset.example/v1/resets/{id}")
    );
    assert_eq!(
        executed["console_link"],
        format!("https://guest-reset.example/console/resets/{id}")
    );
    let ids: std::collections::BTreeSet<_> =
        seen.iter().map(|(h, _)| h["webhook-id"].clone()).collect();
    assert_eq!(ids.len(), 3, "each event has an id of its own");
}

#[tokio::test]
async fn a_denial_and_a_cancellation_are_notified() {
    let (receiver, url) = Receiver::start(0).await;
    let app = app_notifying(Some(url), None).await;
    let (_, denied) = ask(&app, &agent(&app), adele_moves()).await;
    let denied = denied["id"].as_str().unwrap();
    let no = json!({ "comment": "the caller could not confirm the ticket" });
    let (status, _) = act(&app, &approver(&app, 1), denied, "deny", Some(no)).await;
    assert_eq!(status, 200);
    let seen = delivered(&receiver, 2).await;
    assert_eq!(types(&seen), ["approval.requested", "approval.denied"]);
    let event = verified(&seen[1]);
    assert_eq!(
        (event["reset_id"].as_str(), event["status"].as_str()),
        (Some(denied), Some("denied"))
    );

    let (status, cancelled) = ask(&app, &agent(&app), adele_moves()).await;
    assert_eq!(status, 202, "{cancelled}");
    let cancelled = cancelled["id"].as_str().unwrap();
    let (status, _) = act(&app, &agent(&app), cancelled, "cancel", None).await;
    assert_eq!(status, 200);
    let seen = delivered(&receiver, 4).await;
    assert_eq!(
        &types(&seen)[2..],
        ["approval.requested", "approval.cancelled"]
    );
    assert_eq!(verified(&seen[3])["reset_id"], cancelled);
}

#[tokio::test]
async fn a_failing_receiver_gets_the_event_on_a_retry_with_the_same_webhook_id_and_every_attempt_is_recorded()
 {
    let (receiver, url) = Receiver::start(2).await;
    let app = app_notifying(Some(url), None).await;
    let (status, _) = ask(&app, &agent(&app), adele_moves()).await;
    assert_eq!(status, 202);

    // Two 503s, then it lands: the same event, id and body each time.
    let seen = delivered(&receiver, 3).await;
    assert_eq!(seen.len(), 3, "two failures and one delivery");
    let id = seen[0].0["webhook-id"].to_str().unwrap().to_owned();
    for delivery in &seen {
        assert_eq!(delivery.0["webhook-id"], id.as_str());
        assert_eq!(verified(delivery)["type"], "approval.requested");
        assert_eq!(delivery.1, seen[0].1);
    }
    for _ in 0..40 {
        if attempts(&app, &id).await.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        attempts(&app, &id).await,
        [(1, Some(503)), (2, Some(503)), (3, Some(204))]
    );
}

#[tokio::test]
async fn nothing_is_delivered_when_notifications_are_not_configured() {
    let (receiver, _url) = Receiver::start(0).await;
    let app = app_notifying(None, None).await;
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    let id = waiting["id"].as_str().unwrap();
    act(&app, &approver(&app, 1), id, "approve", None).await;
    assert_eq!(settled(&app, id).await["status"], "succeeded");

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.seen().is_empty());
    let mut conn = app.database().await;
    let scheduled: i64 = sqlx::query_scalar("select count(*) from notifications")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(scheduled, 0);
}
