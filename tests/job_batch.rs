//! Job items reach Graph in `$batch` envelopes (json-batching.md), and the
//! unhappy orders batches add: an item throttled inside a 200 envelope, a
//! whole envelope throttled, a PATCH that fails while others in its
//! envelope succeed. Asserted on what the emulator received.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::time::Duration;

use common::jobs::{bulk_token, domain_move_csv, invitations_per_guest, submit, wait_over};
use common::{TestApp, guest_id, tenant_with_guests};
use guest_reset::emulator::{Emulator, Fault, FaultPlan, FaultRoute, FaultRule, RecordedRequest};

fn faulted(guests: usize, route: FaultRoute, fault: Fault, limit: u32, skip: u32) -> Emulator {
    let emulator = tenant_with_guests(guests);
    emulator.set_faults(FaultPlan {
        seed: 15,
        rules: vec![FaultRule {
            route,
            fault,
            probability: 1.0,
            limit: Some(limit),
            skip,
        }],
    });
    emulator
}

fn throttle(retry_after: &str) -> Fault {
    Fault::Throttle {
        retry_after: Some(retry_after.into()),
    }
}

fn is_invitation(r: &RecordedRequest) -> bool {
    r.method == "POST" && r.path.ends_with("/invitations")
}

fn invited(r: &RecordedRequest) -> String {
    let body = r.body.as_ref().unwrap();
    body["invitedUser"]["id"].as_str().unwrap().to_owned()
}

/// Run a domain move of `guests` on `emulator` and wait until it is over.
async fn run_job(emulator: Emulator, guests: usize, graph_deadline: Option<Duration>) -> TestApp {
    let app = TestApp::spawn_on(emulator, |c| {
        c.reset.unknown_grace = Duration::from_secs(1);
        if let Some(deadline) = graph_deadline {
            c.graph.retry.deadline = deadline;
        }
    })
    .await;
    let token = bulk_token(&app);
    let id = submit(&app, &token, "text/csv", domain_move_csv(0..guests)).await;
    let mut job = wait_over(&app, &token, &id, Duration::from_secs(60)).await;
    // An item left `unknown` is read back after the grace period, then
    // sent again when Graph shows it untouched: the job reopens meanwhile.
    for _ in 0..200 {
        if job["counts"]["unknown"].as_u64().unwrap_or(0) == 0 && job["state"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        job = common::jobs::job(&app, &token, &id).await;
    }
    app
}

#[tokio::test]
async fn job_items_travel_twenty_to_a_batch_each_patch_before_its_invitation() {
    let app = run_job(tenant_with_guests(30), 30, None).await;
    let log = app.emulator.requests();
    let envelopes: Vec<_> = log.iter().filter(|r| r.path == "/v1.0/$batch").collect();
    let writes: Vec<_> = (log.iter())
        .filter(|r| r.method == "PATCH" || is_invitation(r))
        .collect();
    assert_eq!(writes.len(), 60, "a PATCH and an invitation per guest");
    assert!(
        writes.iter().all(|r| r.batch_item.is_some()),
        "every write of a job item is an item of a batch"
    );
    assert!(envelopes.len() < 60, "{} envelopes", envelopes.len());
    for envelope in &envelopes {
        let items = envelope.body.as_ref().unwrap()["requests"]
            .as_array()
            .unwrap()
            .len();
        assert!((1..=20).contains(&items), "{items} items");
        let low = envelope
            .headers
            .iter()
            .any(|(n, v)| n == "x-ms-throttle-priority" && v == "Low");
        assert!(low, "bulk envelopes ask for low priority");
    }
    for i in 0..30 {
        let patch = log
            .iter()
            .position(|r| r.method == "PATCH" && r.path.ends_with(&guest_id(i)));
        let invite = log
            .iter()
            .position(|r| is_invitation(r) && invited(r) == guest_id(i));
        assert!(patch.unwrap() < invite.unwrap(), "guest {i}: PATCH first");
    }
    assert!(invitations_per_guest(&app).values().all(|n| *n == 1));
}

#[tokio::test]
async fn an_invitation_throttled_inside_a_batch_is_read_back_before_it_is_sent_again() {
    // graph.md §1: a write answered 429 inside a batch may have taken
    // effect, so it is never re-sent on the 429 alone.
    let emulator = faulted(10, FaultRoute::Invitations, throttle("0.2"), 3, 0);
    let app = run_job(emulator, 10, None).await;
    let log = app.emulator.requests();
    let throttled: Vec<(usize, String)> = (log.iter().enumerate())
        .filter(|(_, r)| is_invitation(r) && r.status == 429)
        .map(|(n, r)| (n, invited(r)))
        .collect();
    assert_eq!(throttled.len(), 3);
    for (at, guest) in &throttled {
        assert!(log[*at].batch_item.is_some(), "throttled inside a batch");
        let resent = (log.iter().enumerate())
            .skip(at + 1)
            .find(|(_, r)| is_invitation(r) && invited(r) == *guest)
            .map(|(n, _)| n)
            .expect("sent again once Graph showed it untouched");
        let read_back = (log[at + 1..resent].iter())
            .any(|r| r.method == "GET" && r.path.ends_with(guest.as_str()));
        assert!(
            read_back,
            "guest {guest} read back between the 429 and the resend"
        );
    }
    let applied = invitations_per_guest(&app);
    assert_eq!(applied.len(), 10);
    assert!(applied.values().all(|n| *n == 1), "{applied:?}");
    let rows = app.audit_rows().await;
    assert!(rows.iter().all(|r| r["status"] == "succeeded"), "{rows:?}");
}

#[tokio::test]
async fn a_patch_throttled_inside_a_batch_is_sent_again_after_its_retry_after() {
    // Setting the whole otherMails list twice is harmless: the item's own
    // Retry-After is honoured and it goes out again in a later envelope.
    let emulator = faulted(6, FaultRoute::PatchUser, throttle("0.3"), 2, 0);
    let app = run_job(emulator, 6, None).await;
    let log = app.emulator.requests();
    let patches = |status: u16| {
        (log.iter())
            .filter(|r| r.method == "PATCH" && r.status == status && r.batch_item.is_some())
            .count()
    };
    assert_eq!(patches(429), 2);
    assert_eq!(patches(204), 6);
    let applied = invitations_per_guest(&app);
    assert_eq!(applied.len(), 6);
    assert!(applied.values().all(|n| *n == 1), "{applied:?}");
}

#[tokio::test]
async fn a_throttled_whole_batch_is_sent_again_and_nothing_is_lost_or_doubled() {
    let emulator = faulted(12, FaultRoute::Batch, throttle("0.5"), 2, 0);
    let app = run_job(emulator, 12, None).await;
    let log = app.emulator.requests();
    let refused = (log.iter())
        .filter(|r| r.path == "/v1.0/$batch" && r.status == 429)
        .count();
    assert_eq!(refused, 2, "two envelopes refused whole");
    let applied = invitations_per_guest(&app);
    assert_eq!(applied.len(), 12);
    assert!(applied.values().all(|n| *n == 1), "{applied:?}");
    let rows = app.audit_rows().await;
    assert!(rows.iter().all(|r| r["status"] == "succeeded"), "{rows:?}");
}

#[tokio::test]
async fn a_failed_patch_keeps_its_invitation_out_while_its_neighbours_go_ahead() {
    // The first three PATCHes pass; every later one fails (503 until the
    // deadline). Those items fail; their invitations are never sent.
    let fault = Fault::Unavailable {
        status: 503,
        retry_after: None,
    };
    let emulator = faulted(8, FaultRoute::PatchUser, fault, 1000, 3);
    let app = run_job(emulator, 8, Some(Duration::from_secs(2))).await;
    let log = app.emulator.requests();
    let patched: Vec<String> = (log.iter())
        .filter(|r| r.method == "PATCH" && r.status == 204)
        .map(|r| r.path.rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(patched.len(), 3, "{patched:?}");
    let failed_in_batch = (log.iter())
        .filter(|r| r.method == "PATCH" && r.status == 503 && r.batch_item.is_some())
        .count();
    assert!(failed_in_batch >= 5, "{failed_in_batch}");
    let applied = invitations_per_guest(&app);
    let mut invited: Vec<String> = applied.keys().cloned().collect();
    invited.sort();
    let mut expected = patched.clone();
    expected.sort();
    assert_eq!(invited, expected, "only the patched guests were invited");
    let rows = app.audit_rows().await;
    let failed = rows.iter().filter(|r| r["status"] == "failed").count();
    assert_eq!(failed, 5, "{rows:?}");
}

#[tokio::test]
async fn a_dry_run_reads_its_guests_in_batches_and_writes_nothing() {
    let app = TestApp::spawn_on(tenant_with_guests(45), |_| {}).await;
    let token = bulk_token(&app);
    let answer =
        common::jobs::post_job(&app, &token, "text/csv", domain_move_csv(0..45), true).await;
    assert_eq!(answer.status(), 200);
    let report: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(report["counts"]["would_succeed"], 45, "{report}");
    let log = app.emulator.requests();
    let reads: Vec<_> = (log.iter())
        .filter(|r| r.method == "GET" && r.path.starts_with("/v1.0/users"))
        .collect();
    assert!(reads.len() >= 45, "{} reads", reads.len());
    assert!(
        reads.iter().all(|r| r.batch_item.is_some()),
        "every read in a batch"
    );
    let envelopes = log.iter().filter(|r| r.path == "/v1.0/$batch").count();
    assert!(
        (3..reads.len()).contains(&envelopes),
        "{envelopes} envelopes"
    );
    assert!(app.graph_writes().is_empty());
}

#[tokio::test]
async fn invitations_right_after_their_patch_wait_out_replication_lag_inside_batches() {
    // Graph may not know the new address for a while after the PATCH (the
    // documented 400 "doesn't match any emails"): each item's invitation is
    // tried again on the lag schedule, in later envelopes, and applied once.
    let emulator = tenant_with_guests(8);
    emulator.set_replication_lag(Duration::from_millis(700));
    let app = run_job(emulator, 8, None).await;
    let log = app.emulator.requests();
    let lagged = (log.iter())
        .filter(|r| is_invitation(r) && r.status == 400 && r.batch_item.is_some())
        .count();
    assert!(lagged >= 8, "every first invitation met the lag: {lagged}");
    let applied = invitations_per_guest(&app);
    assert_eq!(applied.len(), 8);
    assert!(applied.values().all(|n| *n == 1), "{applied:?}");
    let rows = app.audit_rows().await;
    assert!(rows.iter().all(|r| r["status"] == "succeeded"), "{rows:?}");
}

#[tokio::test]
async fn a_batch_whose_answer_is_lost_after_graph_applied_it_sends_nothing_twice() {
    // One invitation item is applied and then the connection drops: the
    // whole envelope's answer is lost, with every invitation in it applied.
    // Each is read back and credited on its own evidence, never sent again.
    let emulator = faulted(10, FaultRoute::Invitations, Fault::DropAfterApply, 1, 0);
    let app = run_job(emulator, 10, None).await;
    let applied = invitations_per_guest(&app);
    assert_eq!(applied.len(), 10);
    assert!(applied.values().all(|n| *n == 1), "{applied:?}");
    let rows = app.audit_rows().await;
    assert!(rows.iter().all(|r| r["status"] == "succeeded"), "{rows:?}");
    let read_back = rows.iter().filter(|r| !r["evidence"].is_null()).count();
    assert!(read_back >= 1, "the lost ones were read back: {rows:?}");
}
