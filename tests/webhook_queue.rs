//! Queued resets beyond the happy path: a denied target is recorded and
//! reported back as denied; queued work survives a restart (processing
//! paused with 0 workers, then resumed); `Prefer: respond-async` queues too.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::time::Duration;

use common::webhooks::*;
use common::{TestApp, tenant};
use guest_reset::webhook::Scheme;
use serde_json::{Value, json};

#[tokio::test]
async fn a_denied_target_is_recorded_and_reported_as_denied() {
    let (receiver, url) = Receiver::start(0).await;
    let app = TestApp::spawn_with(|c| {
        c.webhooks.sources = vec![source("jira", Scheme::StandardWebhooks, WHSEC, Some(url))]
    })
    .await;
    let body = ticket(tenant::MEMBER_MAIL, "INC-12");
    let id = accepted_id(
        deliver(&app, "jira", &standard("msg_9", now(), &body, WHSEC), &body).await,
        202,
    )
    .await;
    assert_eq!(finished(&app, &id).await["status"], "denied");
    for _ in 0..50 {
        if let Some((_, body)) = receiver.seen().first() {
            let reported: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(reported["status"], "denied");
            assert_eq!(
                reported["problem"]["type"],
                "urn:guest-reset:problem:not-a-guest"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no callback for the denied reset");
}

#[tokio::test]
async fn queued_work_survives_a_restart_and_prefer_respond_async_queues_too() {
    let app = TestApp::spawn_with(|c| {
        c.webhooks.sources = vec![source("jira", Scheme::StandardWebhooks, WHSEC, None)];
        c.webhooks.workers = 0; // processing paused: deliveries wait in the queue
    })
    .await;
    let mut ids = Vec::new();
    for (i, guest) in [tenant::ADELE_MAIL, tenant::PENDING_GUEST_MAIL]
        .iter()
        .enumerate()
    {
        let body = ticket(guest, &format!("INC-2{i}"));
        let headers = standard(&format!("msg_q{i}"), now(), &body, WHSEC);
        ids.push(accepted_id(deliver(&app, "jira", &headers, &body).await, 202).await);
    }
    let body = json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL, "dry_run": true,
        "ticket": "INC-30", "reason": "async dry run" });
    let queued = app
        .client
        .post(format!("{}/v1/resets", app.base))
        .bearer_auth(app.token())
        .header("prefer", "respond-async, wait=10")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(queued.headers()["preference-applied"], "respond-async");
    ids.push(accepted_id(queued, 202).await);
    assert!(app.graph_writes().is_empty(), "nothing runs while paused");
    let metrics = app.metrics().await;
    assert!(
        metrics.lines().any(|l| l == "guest_reset_queue_depth 3"),
        "{metrics}"
    );

    let mut config = app.config.clone();
    config.webhooks.workers = 2;
    let app = TestApp::restart(app, config).await;
    for id in &ids {
        assert_ne!(finished(&app, id).await["status"], "pending", "{id}");
    }
    assert_eq!(app.audit_rows().await.len(), 3);
    assert_eq!(
        app.emulator.applied_resets().len(),
        2,
        "each queued reset applied once"
    );
}

#[tokio::test]
async fn a_webhook_reset_is_found_by_what_its_record_shows_and_by_the_human_requester() {
    let app = TestApp::spawn_with(|c| {
        // The helper's source has its own subject: "tickets-bot".
        c.webhooks.sources = vec![source("tickets", Scheme::StandardWebhooks, WHSEC, None)];
    })
    .await;
    let body = ticket(tenant::ADELE_MAIL, "INC-40");
    let headers = standard("msg_who", now(), &body, WHSEC);
    let id = accepted_id(deliver(&app, "tickets", &headers, &body).await, 202).await;
    finished(&app, &id).await;
    // A reset that is not the webhook's, by the demo caller.
    assert_eq!(
        app.post_reset(json!({ "user": tenant::PENDING_GUEST_MAIL }))
            .await
            .status(),
        201
    );
    let found = |query: &'static str| {
        let app = &app;
        async move {
            let path = format!("/v1/resets?{query}");
            let response = app.get_as(&app.auditor_token(), &path).await;
            assert_eq!(response.status(), 200, "{query}");
            let page: Value = response.json().await.unwrap();
            let items = page["items"].as_array().unwrap().clone();
            items
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    for query in [
        "requested_by=urn:guest-reset:webhook:tickets",
        "requested_by=tickets",
        "requested_by=tickets-bot",
        "requested_by_name=agent.smith@contoso.example",
        "requested_by_name=Agent.Smith@Contoso.Example",
    ] {
        assert_eq!(found(query).await, std::slice::from_ref(&id), "{query}");
    }
    assert!(
        found("requested_by_name=someone.else@contoso.example")
            .await
            .is_empty()
    );
    assert!(
        found("requested_by=urn:guest-reset:webhook:jira")
            .await
            .is_empty()
    );
}
