//! `/metrics` through the public interface: Prometheus text with the request,
//! reset, Graph and store series moving as resets happen, and the option to
//! serve it only on a separate listener.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::{TestApp, tenant};
use serde_json::json;

async fn scrape(base: &str) -> (u16, String, String) {
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        kind.unwrap_or_default(),
        response.text().await.unwrap(),
    )
}

/// The value of the series `line_start` (name and labels) in `text`.
fn value(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no series {line_start} in\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn resets_graph_calls_and_store_writes_are_counted() {
    let app = TestApp::spawn().await;
    let (_, _, before) = scrape(&app.base).await;
    let ok = |text: &str| {
        let series =
            "guest_reset_resets_total{outcome=\"succeeded\",problem=\"\",tenant=\"default\"}";
        if text.lines().any(|l| l.starts_with(series)) {
            value(text, series)
        } else {
            0.0
        }
    };
    let reset = json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL });
    assert_eq!(app.post_reset(reset).await.status(), 201);
    assert_eq!(
        app.post_reset(json!({ "user": tenant::MEMBER_MAIL }))
            .await
            .status(),
        422
    );

    let (status, kind, text) = scrape(&app.base).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    // Counters are process-wide and tests run in parallel: compare, don't pin.
    assert!(ok(&text) >= ok(&before) + 1.0, "{text}");
    assert!(
        value(
            &text,
            "guest_reset_resets_total{outcome=\"denied\",problem=\"not-a-guest\",tenant=\"default\"}"
        ) >= 1.0
    );
    assert!(
        value(
            &text,
            "guest_reset_http_requests_total{route=\"/v1/resets\",method=\"POST\",status=\"201\"}"
        ) >= 1.0
    );
    assert!(
        value(
            &text,
            "guest_reset_graph_requests_total{endpoint=\"invitation\",status=\"201\",tenant=\"default\"}"
        ) >= 1.0
    );
    assert!(
        value(
            &text,
            "guest_reset_graph_request_duration_seconds_count{endpoint=\"invitation\",tenant=\"default\"}"
        ) >= 1.0
    );
    assert!(
        value(
            &text,
            "guest_reset_store_write_duration_seconds_count{operation=\"insert\"}"
        ) >= 2.0
    );
    assert_eq!(value(&text, "guest_reset_queue_depth"), 0.0);
    assert_eq!(
        value(&text, "guest_reset_graph_circuit_open{tenant=\"default\"}"),
        0.0
    );
    for kind in ["HELP", "TYPE"] {
        assert!(
            text.contains(&format!("# {kind} guest_reset_graph_throttled_total")),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_separate_metrics_address_takes_metrics_off_the_api() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let app = TestApp::spawn_with(|c| c.metrics_addr = Some(addr)).await;
    let (status, _, _) = scrape(&app.base).await;
    assert_eq!(status, 404, "metrics must not be on the API listener");
    let (status, _, text) = scrape(&format!("http://{addr}")).await;
    assert_eq!(status, 200);
    assert!(text.contains("guest_reset_queue_depth"), "{text}");
}

#[tokio::test]
async fn dry_runs_have_their_own_outcome_and_are_not_counted_as_succeeded_resets() {
    let app = TestApp::spawn().await;
    let count = |text: &str, outcome: &str| {
        let series = format!(
            "guest_reset_resets_total{{outcome=\"{outcome}\",problem=\"\",tenant=\"default\"}}"
        );
        text.lines()
            .find_map(|l| l.strip_prefix(series.as_str())?.strip_prefix(' '))
            .map_or(0.0, |v| v.parse::<f64>().unwrap())
    };
    let before = app.metrics().await;
    for user in [
        tenant::ADELE_MAIL,
        tenant::PENDING_GUEST_MAIL,
        tenant::ADELE_MAIL,
    ] {
        let plan = json!({ "user": user, "new_email": tenant::ADELE_NEW_MAIL, "dry_run": true });
        assert_eq!(app.post_reset(plan).await.status(), 200);
    }
    let after = app.metrics().await;
    // Only this test dry-runs; the other test of this binary adds at most
    // one real success while this one runs.
    assert_eq!(
        count(&after, "dry_run") - count(&before, "dry_run"),
        3.0,
        "{after}"
    );
    assert!(
        count(&after, "succeeded") - count(&before, "succeeded") <= 1.0,
        "{after}"
    );
}
