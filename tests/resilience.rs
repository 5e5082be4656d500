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

#[tokio::test]
async fn a_failing_graph_opens_the_circuit() {
    let down = Fault::Unavailable {
        status: 500,
        retry_after: None,
    };
    let app = TestApp::spawn_on(demo_with_fault(FaultRoute::ListUsers, down, None), |_| {}).await;
    // The first request fails after its retries; failures keep counting
    // until the breaker's threshold (5 in a row) opens the circuit.
    expect_problem(app.post_reset(adele()).await, 502, "graph-error").await;
    expect_problem(app.post_reset(adele()).await, 503, "graph-unavailable").await;
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
}
