//! Job items under Graph's faults: an item whose PATCH fails never sends its
//! invitation; a throttled listing fails the domain move cleanly. Throttles
//! inside `$batch` envelopes: tests/job_batch.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::time::Duration;

use common::jobs::{
    bulk_token, domain_move_csv, invitations_per_guest, post_job, submit, wait_over,
};
use common::{TestApp, expect_problem, guest_id, tenant_with_guests};
use guest_reset::emulator::{Emulator, Fault, FaultPlan, FaultRoute, FaultRule};
use serde_json::json;

fn with_fault(guests: usize, route: FaultRoute, fault: Fault, limit: u32) -> Emulator {
    let emulator = tenant_with_guests(guests);
    emulator.set_faults(FaultPlan {
        seed: 21,
        rules: vec![FaultRule {
            route,
            fault,
            probability: 1.0,
            limit: Some(limit),
            skip: 0,
        }],
    });
    emulator
}

#[tokio::test]
async fn an_item_whose_patch_fails_never_sends_its_invitation() {
    // The PATCH adding the new email keeps failing (503, retried until the
    // deadline): no item may send its invitation without it.
    let emulator = with_fault(
        4,
        FaultRoute::PatchUser,
        Fault::Unavailable {
            status: 503,
            retry_after: None,
        },
        100,
    );
    let app = TestApp::spawn_on(emulator, |c| {
        c.graph.retry.deadline = Duration::from_secs(2);
    })
    .await;
    let token = bulk_token(&app);
    let id = submit(&app, &token, "text/csv", domain_move_csv(0..4)).await;
    let job = wait_over(&app, &token, &id, Duration::from_secs(60)).await;
    assert_eq!(job["counts"]["succeeded"], 0, "{job}");
    assert_eq!(job["counts"]["failed"], 4, "{job}");
    assert!(
        invitations_per_guest(&app).is_empty(),
        "no invitation without its email"
    );
    let invitations = app
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/invitations"))
        .count();
    assert_eq!(invitations, 0);
    let guest = app.emulator.user(&guest_id(0)).unwrap();
    assert_eq!(guest["mail"], "guest-0@fabrikam.example", "{guest}");
}

#[tokio::test]
async fn a_domain_move_whose_listing_is_throttled_answers_a_problem_and_records_nothing() {
    let throttle = Fault::Throttle {
        retry_after: Some("30".into()),
    };
    let emulator = with_fault(3, FaultRoute::ListUsers, throttle, 100);
    let app = TestApp::spawn_on(emulator, |c| {
        c.graph.retry.deadline = Duration::from_secs(1);
    })
    .await;
    let body = json!({ "select": { "mail_domain": "fabrikam.example" }, "rewrite_domain": "fabrikam.net" });
    let answer = post_job(
        &app,
        &bulk_token(&app),
        "application/json",
        body.to_string(),
        false,
    )
    .await;
    let problem = expect_problem(answer, 503, "graph-throttled").await;
    assert!(
        !problem["detail"].as_str().unwrap().contains("{\""),
        "no raw Graph body: {problem}"
    );
    assert!(app.audit_rows().await.is_empty());
}
