//! Graph resilience seen through the service: `Retry-After` is waited out
//! (measured), a long one is handed to the caller, and a Graph that keeps
//! failing opens the circuit (503 with `Retry-After`, no more calls).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::time::{Duration, Instant};

use common::{TestApp, demo_with_fault, expect_problem, tenant};
use guest_reset::emulator::{Fault, FaultRoute};
use serde_json::json;

fn adele() -> serde_json::Value {
    json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL })
}

#[tokio::test]
async fn retry_after_is_waited_out_and_the_reset_applied_once() {
    let throttle = Fault::Throttle {
        retry_after: Some("1".into()),
    };
    let app = TestApp::spawn_on(
        demo_with_fault(FaultRoute::Invitations, throttle, Some(1)),
        |_| {},
    )
    .await;
    let started = Instant::now();
    let created: serde_json::Value = app.post_reset(adele()).await.json().await.unwrap();
    let waited = started.elapsed();
    assert_eq!(created["status"], "succeeded", "{created}");
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured ({waited:?})"
    );
    assert_eq!(app.emulator.applied_resets().len(), 1);
    let posts = app
        .graph_calls()
        .iter()
        .filter(|c| c.starts_with("POST /v1.0/invitations"))
        .count();
    assert_eq!(posts, 2, "one throttled attempt, one that worked");
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_goes_back_to_the_caller() {
    let throttle = Fault::Throttle {
        retry_after: Some("120".into()),
    };
    let app = TestApp::spawn_on(
        demo_with_fault(FaultRoute::Invitations, throttle, None),
        |_| {},
    )
    .await;
    let started = Instant::now();
    let response = app.post_reset(adele()).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited instead of failing fast"
    );
    assert_eq!(response.headers()["retry-after"], "120");
    expect_problem(response, 503, "graph-throttled").await;
    assert!(app.emulator.applied_resets().is_empty());
    assert_eq!(app.audit_rows().await[0]["status"], "failed");
}

/// A Graph that fails every call opens the circuit once the failure rate
/// over the window is reached with the minimum of calls (here 3 logical
/// calls, each retried 4 times: retries are not counted one by one).
#[tokio::test]
async fn a_failing_graph_opens_the_circuit() {
    let down = Fault::Unavailable {
        status: 500,
        retry_after: None,
    };
    let app = TestApp::spawn_on(demo_with_fault(FaultRoute::ListUsers, down, None), |c| {
        c.graph.retry.breaker.min_calls = 3;
    })
    .await;
    for _ in 0..3 {
        expect_problem(app.post_reset(adele()).await, 502, "graph-error").await;
    }
    let lists = |app: &TestApp| {
        let calls = app.graph_calls();
        calls
            .iter()
            .filter(|c| c.starts_with("GET /v1.0/users"))
            .count()
    };
    assert_eq!(lists(&app), 12, "3 logical calls of 4 attempts");
    let calls_before = app.graph_calls().len();
    let open = app.post_reset(adele()).await;
    let retry_after: u64 = open.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let problem = expect_problem(open, 503, "graph-unavailable").await;
    assert_eq!(
        app.graph_calls().len(),
        calls_before,
        "an open circuit sends nothing: {problem}"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("guest_reset_graph_circuit_opened_total"),
        "{metrics}"
    );
}

/// A queued reset has no caller waiting: while the circuit is open it stays
/// queued, and runs (as or after the trial call) once the cooldown is over,
/// instead of failing with graph-unavailable.
#[tokio::test]
async fn a_queued_reset_waits_for_the_circuit_instead_of_failing() {
    let down = Fault::Unavailable {
        status: 500,
        retry_after: None,
    };
    // Two logical calls of 4 attempts each fail, then Graph is back.
    let emulator = demo_with_fault(FaultRoute::ListUsers, down, Some(8));
    let app = TestApp::spawn_on(emulator, |c| {
        c.graph.retry.breaker.min_calls = 2;
        c.graph.retry.breaker.cooldown = Duration::from_secs(2);
    })
    .await;
    for _ in 0..2 {
        expect_problem(app.post_reset(adele()).await, 502, "graph-error").await;
    }
    let queued = app
        .client
        .post(format!("{}/v1/resets", app.base))
        .bearer_auth(app.token())
        .header("prefer", "respond-async")
        .json(&json!({
            "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL,
            "ticket": "INC-1001", "reason": "moved to Northwind",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 202);
    let id = queued.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/resets/{id}");
    let mut row = serde_json::Value::Null;
    for _ in 0..100 {
        row = app.get(&path).await.json().await.unwrap();
        if !common::is_open(&row["status"]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(row["status"], "succeeded", "{row}");
    assert_eq!(app.emulator.applied_resets().len(), 1);
}

/// Directory replication lag of 1.5 s after the email was added: Graph's
/// "email doesn't match" 400 is repeated on its own schedule, within the
/// deadline, with default settings.
#[tokio::test]
async fn a_replication_lag_of_one_and_a_half_seconds_ends_in_succeeded() {
    let emulator = guest_reset::emulator::Emulator::demo();
    emulator.set_replication_lag(Duration::from_millis(1500));
    let app = TestApp::spawn_on(emulator, |_| {}).await;
    let started = Instant::now();
    let response = app.post_reset(adele()).await;
    assert_eq!(response.status(), 201);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let invitations = app
        .graph_calls()
        .iter()
        .filter(|c| c.starts_with("POST /v1.0/invitations"))
        .count();
    assert!(invitations > 1, "the lag was met: {invitations} attempts");
    assert_eq!(app.emulator.applied_resets().len(), 1);
    let metrics = app.metrics().await;
    let line = metrics.lines().find(|l| {
        l.starts_with("guest_reset_graph_replication_lag_retries_total{tenant=\"default\"} ")
    });
    assert!(line.is_some_and(|l| !l.ends_with(" 0")), "{metrics}");
}
