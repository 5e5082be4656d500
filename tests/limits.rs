//! Operational limits seen from outside: the per-caller rate limit with its
//! IETF `RateLimit` fields, the request timeout, `Cache-Control: no-store`
//! and an audit file only its owner can read.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::time::Duration;

use common::{TestApp, demo_with_fault, expect_problem, tenant};
use guest_reset::config::RateLimit;
use guest_reset::emulator::{Fault, FaultRoute};
use serde_json::json;

fn header(response: &reqwest::Response, name: &str) -> String {
    let value = response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned());
    value.unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test]
async fn a_caller_over_its_burst_gets_429_with_retry_after_and_others_do_not() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit = RateLimit {
            per_minute: 6,
            burst: 3,
        }
    })
    .await;
    let first = app.get("/v1/whoami").await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        header(&first, "ratelimit-policy"),
        "\"per-caller\";q=3;w=30"
    );
    assert_eq!(header(&first, "ratelimit"), "\"per-caller\";r=2;t=10");
    for _ in 0..2 {
        assert_eq!(app.get("/v1/whoami").await.status(), 200);
    }
    let refused = app.get("/v1/whoami").await;
    let retry_after: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!((1..=10).contains(&retry_after), "Retry-After {retry_after}");
    assert!(header(&refused, "ratelimit").starts_with("\"per-caller\";r=0;"));
    expect_problem(refused, 429, "rate-limited").await;

    // The key is the identity, not the address: another subject still passes.
    let other = app.token_with(json!({ "sub": "helpdesk-agent-2" }));
    assert_eq!(app.get_as(&other, "/v1/whoami").await.status(), 200);
    // Refused resets are not recorded: the caller never got past the door.
    let refused = app
        .post_reset(json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL }))
        .await;
    expect_problem(refused, 429, "rate-limited").await;
    assert!(app.audit_rows().await.is_empty());
    assert!(app.graph_writes().is_empty());
}

#[tokio::test]
async fn unauthenticated_requests_do_not_use_up_a_callers_quota() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit = RateLimit {
            per_minute: 6,
            burst: 1,
        }
    })
    .await;
    for _ in 0..5 {
        let anonymous = app
            .client
            .get(format!("{}/v1/whoami", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401);
    }
    assert_eq!(app.get("/v1/whoami").await.status(), 200);
}

#[tokio::test]
async fn a_slow_answer_is_a_504_problem_and_the_reset_still_finishes() {
    let latency = Fault::Latency { millis: 1500 };
    let emulator = demo_with_fault(FaultRoute::Invitations, latency, Some(1));
    let app = TestApp::spawn_on(emulator, |c| c.request_timeout = Duration::from_millis(500)).await;
    let body = json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL });
    let slow = app.post_reset(body).await;
    assert_eq!(header(&slow, "cache-control"), "no-store");
    let problem = expect_problem(slow, 504, "request-timeout").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key"),
        "{problem}"
    );

    // Detached from the request, the reset completes and is recorded once.
    for _ in 0..50 {
        let rows = app.audit_rows().await;
        if rows.len() == 1 && rows[0]["status"] == "succeeded" {
            assert_eq!(app.emulator.applied_resets().len(), 1);
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the reset did not finish: {:?}", app.audit_rows().await);
}

#[tokio::test]
async fn answers_are_not_cacheable_and_the_audit_file_is_private() {
    let app = TestApp::spawn().await;
    for path in ["/v1/whoami", "/healthz", "/v1/nowhere"] {
        let response = app.get(path).await;
        assert_eq!(header(&response, "cache-control"), "no-store", "{path}");
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "no CORS: {path}"
        );
    }
    // The SQLite file's own mode (a PostgreSQL server guards its files).
    #[cfg(unix)]
    if !app.on_postgres() {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&app.db_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "audit database mode {mode:o}");
    }
}
