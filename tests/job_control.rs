//! Operating a running job: pause, resume, cancel, the progress stream, and
//! single resets not waiting behind a job.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::time::Duration;

use common::jobs::{bulk_token, domain_move_csv, invitations_per_guest, job, submit, wait_over};
use common::{TestApp, expect_problem, guest_id, tenant_with_guests};
use guest_reset::emulator::{Emulator, Fault, FaultPlan, FaultRoute, FaultRule};
use serde_json::{Value, json};

/// `guests` Fabrikam guests; every invitation takes `millis` in Graph.
fn slow_tenant(guests: usize, millis: u64) -> Emulator {
    let emulator = tenant_with_guests(guests);
    emulator.set_faults(FaultPlan {
        seed: 5,
        rules: vec![FaultRule {
            route: FaultRoute::Invitations,
            fault: Fault::Latency { millis },
            probability: 1.0,
            limit: None,
            skip: 0,
        }],
    });
    emulator
}

async fn post(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn count(job: &Value, state: &str) -> u64 {
    job["counts"][state].as_u64().unwrap()
}

#[tokio::test]
async fn pause_holds_the_queued_items_and_resume_finishes_them() {
    let app = TestApp::spawn_on(slow_tenant(12, 100), |c| c.reset.job_workers = 1).await;
    let token = bulk_token(&app);
    let id = submit(&app, &token, "text/csv", domain_move_csv(0..12)).await;
    let paused: Value = post(&app, &token, &format!("/v1/jobs/{id}/pause"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paused["state"], "paused", "{paused}");
    // The item a worker already held finishes; no other starts.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let held = job(&app, &token, &id).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let still = job(&app, &token, &id).await;
    assert_eq!(
        count(&held, "queued"),
        count(&still, "queued"),
        "{held} {still}"
    );
    assert!(count(&still, "queued") >= 10, "{still}");
    let again: Value = post(&app, &token, &format!("/v1/jobs/{id}/pause"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["state"], "paused", "pausing a paused job is no error");
    let resumed: Value = post(&app, &token, &format!("/v1/jobs/{id}/resume"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resumed["state"], "running");
    let done = wait_over(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(count(&done, "succeeded"), 12, "{done}");
    let finished = post(&app, &token, &format!("/v1/jobs/{id}/pause")).await;
    expect_problem(finished, 409, "job-finished").await;
}

#[tokio::test]
async fn cancel_ends_the_queued_items_and_sends_nothing_more() {
    let app = TestApp::spawn_on(slow_tenant(12, 100), |c| c.reset.job_workers = 1).await;
    let token = bulk_token(&app);
    let id = submit(&app, &token, "text/csv", domain_move_csv(0..12)).await;
    let cancelled: Value = post(&app, &token, &format!("/v1/jobs/{id}/cancel"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
    let over = wait_over(&app, &token, &id, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // a held item finishes
    let after = job(&app, &token, &id).await;
    let ran = count(&after, "succeeded");
    // Only items done or held by a worker when the cancel came ran.
    let started = ["succeeded", "running", "pending"].map(|s| count(&cancelled, s));
    assert!(ran <= started.iter().sum(), "{cancelled} {after}");
    assert!(
        count(&cancelled, "queued") == 0 && count(&cancelled, "cancelled") >= 8,
        "{cancelled}"
    );
    assert_eq!(count(&after, "cancelled") + ran, 12, "{over} {after}");
    assert_eq!(count(&after, "queued"), 0);
    assert_eq!(invitations_per_guest(&app).len() as u64, ran);
    let again = post(&app, &token, &format!("/v1/jobs/{id}/cancel")).await;
    expect_problem(again, 409, "job-finished").await;
    let resume = post(&app, &token, &format!("/v1/jobs/{id}/resume")).await;
    expect_problem(resume, 409, "job-finished").await;
}

#[tokio::test]
async fn progress_streams_as_server_sent_events_until_done() {
    let app = TestApp::spawn_on(slow_tenant(6, 50), |_| {}).await;
    let token = bulk_token(&app);
    let id = submit(&app, &token, "text/csv", domain_move_csv(0..6)).await;
    let mut stream = app
        .client
        .get(format!("{}/v1/jobs/{id}/events", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut text = String::new();
    let read = async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("the stream ends");
    let events: Vec<(&str, Value)> = text
        .split("\n\n")
        .filter_map(|e| {
            let name = e.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = e.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name, serde_json::from_str(data).unwrap()))
        })
        .collect();
    assert_eq!(events.first().map(|e| e.0), Some("progress"), "{text}");
    let (last, job) = events.last().unwrap();
    assert_eq!(*last, "done", "{text}");
    assert_eq!(job["done"], 6);
    assert_eq!(job["state"], "finished");
}

#[tokio::test]
async fn a_queued_single_reset_runs_before_the_rest_of_a_job() {
    let app = TestApp::spawn_on(slow_tenant(30, 60), |c| c.reset.job_workers = 2).await;
    let bulk = bulk_token(&app);
    let id = submit(&app, &bulk, "text/csv", domain_move_csv(1..30)).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    // A helpdesk reset sent to the queue while 25-odd job items wait there.
    let single = app
        .client
        .post(format!("{}/v1/resets", app.base))
        .bearer_auth(app.token())
        .header("prefer", "respond-async")
        .json(
            &json!({ "user": guest_id(0), "new_email": "guest-0@northwind.example",
                       "ticket": "INC-1", "reason": "new company" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(single.status(), 202);
    let single: Value = single.json().await.unwrap();
    let waiting = count(&job(&app, &bulk, &id).await, "queued");
    assert!(waiting >= 20, "the job still has queued items: {waiting}");
    wait_over(&app, &bulk, &id, Duration::from_secs(60)).await;
    let done = app.reset_record(single["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let items: Value = app
        .get_as(&bulk, &format!("/v1/jobs/{id}/items?limit=1000"))
        .await
        .json()
        .await
        .unwrap();
    let mut later = 0;
    for item in items["items"].as_array().unwrap() {
        let record = app.reset_record(item["reset_id"].as_str().unwrap()).await;
        if record["completed_at"].as_str() > done["completed_at"].as_str() {
            later += 1;
        }
    }
    // All but the items workers already held finished after the single one.
    assert!(
        later + 3 >= waiting,
        "{later} of {waiting} queued items ran after it"
    );
}
