//! Two `guest-reset serve` processes on one PostgreSQL database (the issue's
//! five scenarios, and approvals sent to both at once). Needs
//! `GUEST_RESET_TEST_DATABASE_URL` (a server where a database can be
//! created); `.ci/postgres-tests` starts one and sets
//! `GUEST_RESET_REQUIRE_POSTGRES=1`, so in CI a missing server fails.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking
#![cfg(unix)]

mod common;

use common::replicas::*;
use common::{guest_id, tenant_with_guests};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_sent_to_both_replicas_at_once_resets_once() {
    let Some(url) = database().await else { return };
    let p = pair(&url, tenant_with_guests(5), POLICY).await;
    for i in 0..5 {
        let key = format!("key-{i}");
        let answers = both(&p, |base| reset(base, i, Some(&key))).await;
        let codes: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
        assert!(codes.contains(&201), "{codes:?}");
        for r in answers.into_iter().filter(|r| r.status() != 201) {
            assert_eq!(r.status(), 409);
            assert_eq!(problem_type(r).await, "idempotency-key-in-flight");
        }
    }
    assert_eq!(p.emulator.applied_resets().len(), 5, "one reset per key");
    println!("idempotency: 5 keys, each sent to both replicas at once: 5 resets applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_webhook_delivery_sent_to_both_replicas_resets_once() {
    let Some(url) = database().await else { return };
    let p = pair(&url, tenant_with_guests(3), POLICY).await;
    for i in 0..3 {
        let body = serde_json::to_vec(&json!({ "ticket": { "key": format!("INC-{i}"),
            "guest": guest_id(i), "new_email": format!("guest-{i}@northwind.example") } }))
        .unwrap();
        let ts = common::webhooks::now();
        let headers = common::webhooks::standard(&format!("msg_{i}"), ts, &body, WHSEC);
        let answers = both(&p, |base| {
            let mut r = reqwest::Client::new()
                .post(format!("{base}/v1/webhooks/tickets"))
                .header("content-type", "application/json")
                .body(body.clone());
            for (k, v) in &headers {
                r = r.header(k, v);
            }
            r
        })
        .await;
        let codes: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
        assert!(codes.contains(&202), "{codes:?}");
        assert!(codes.iter().all(|c| *c == 202 || *c == 200), "{codes:?}");
    }
    let finished = wait(|| async {
        let s = statuses(&p.bases[0]).await;
        (s.len() == 3 && s.iter().all(|s| s == "succeeded")).then_some(s)
    })
    .await;
    assert_eq!(finished.len(), 3);
    assert_eq!(
        p.emulator.applied_resets().len(),
        3,
        "one reset per delivery"
    );
    println!("webhooks: 3 deliveries, each sent to both replicas: 3 rows, 3 resets applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_resets_of_one_guest_through_both_apply_once() {
    let Some(url) = database().await else { return };
    let emulator = tenant_with_guests(1);
    emulator.set_faults(slow_invitations(800));
    let p = pair(&url, emulator, POLICY).await;
    let answers = both(&p, |base| reset(base, 0, None)).await;
    let mut codes: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    codes.sort_unstable();
    assert_eq!(codes, [201, 409]);
    for r in answers.into_iter().filter(|r| r.status() == 409) {
        assert_eq!(problem_type(r).await, "reset-in-progress");
    }
    assert_eq!(p.emulator.applied_resets().len(), 1);
    println!("one guest through both replicas at once: answers {codes:?}, 1 reset applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_of_n_holds_across_both_replicas() {
    let Some(url) = database().await else { return };
    const N: usize = 4;
    let policy = format!("{POLICY}max_resets_per_hour = {N}\n");
    let p = pair(&url, tenant_with_guests(3 * N), &policy).await;
    let requests = (0..3 * N).map(|i| reset(&p.bases[i % 2], i, None).send());
    let answers = futures_join(requests).await;
    let allowed = answers.iter().filter(|c| **c == 201).count();
    let refused = answers.iter().filter(|c| **c == 429).count();
    assert_eq!((allowed, refused), (N, 2 * N), "{answers:?}");
    assert_eq!(p.emulator.applied_resets().len(), N);
    println!(
        "quota {N}/h, {} requests over both replicas: {allowed} allowed, {refused} refused 429",
        3 * N
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_one_replica_leaves_the_other_to_finish_everything() {
    let Some(url) = database().await else { return };
    const RUNNING: usize = 4;
    const QUEUED: usize = 4;
    let emulator = tenant_with_guests(RUNNING + QUEUED);
    emulator.set_faults(slow_invitations(1500));
    let mut p = pair(&url, emulator, POLICY).await;
    let victim = p.bases[0].clone();
    for i in 0..RUNNING {
        let request = reset(&victim, i, None);
        tokio::spawn(async move { drop(request.send().await) });
    }
    for i in RUNNING..RUNNING + QUEUED {
        let r = reset(&victim, i, None)
            .header("prefer", "respond-async")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    // Kill while Graph holds the running resets' invitations.
    wait(|| async {
        let n = p
            .emulator
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/invitations"))
            .count();
        (n >= RUNNING).then_some(())
    })
    .await;
    let mut victim = p.servers.remove(0);
    victim.0.kill().unwrap(); // SIGKILL: no shutdown, no finalisation
    victim.0.wait().unwrap();
    let started = std::time::Instant::now();
    let survivor = p.bases[1].clone();
    // Settled: nothing open, and no `unknown` left waiting (grace 1 s).
    let end = wait(|| async {
        let rows = rows(&survivor).await;
        let settled = rows
            .iter()
            .all(|(_, s)| !common::is_open(&Value::from(s.as_str())) && s != "unknown");
        (rows.len() == RUNNING + QUEUED && settled).then_some(rows)
    })
    .await;
    let took = started.elapsed();
    // Each guest applied at most once, and every status true to Graph: a
    // `succeeded` reset was applied, a `failed` one was not. (Which resets
    // the victim had sent when it died depends on timing; truth does not.)
    let applied: Vec<String> = p
        .emulator
        .applied_resets()
        .into_iter()
        .map(|a| a.user_id)
        .collect();
    let mut unique = applied.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        applied.len(),
        "nothing applied twice: {applied:?}"
    );
    for (guest, status) in &end {
        let was_applied = applied.contains(guest);
        assert_eq!(
            status == "succeeded",
            was_applied,
            "{guest}: {status}, applied {was_applied}"
        );
    }
    let succeeded = end.iter().filter(|(_, s)| s == "succeeded").count();
    println!(
        "kill -9 with {RUNNING} running and {QUEUED} queued: the survivor settled all {} in {took:?} (lease 2 s, grace 1 s): {succeeded} succeeded, the rest failed; {} applied, none twice",
        end.len(),
        applied.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_sent_to_both_replicas_at_once_queue_each_reset_once() {
    let Some(url) = database().await else { return };
    let policy = "[[grant]]\ncaller = { subjects = ['portal'] }\npermissions = ['resets:create', 'resets:read:all']\n\
        [[rule]]\nname = 'two-eyes'\ntarget_domains = ['fabrikam.example']\nnew_email_domains = ['northwind.example']\n\
        approval = { approvers = { roles = ['GuestReset.Approver'] } }\n";
    let p = pair(&url, tenant_with_guests(3), policy).await;
    let mut answers = Vec::new();
    for i in 0..3 {
        let waiting: Value = reset(&p.bases[0], i, None)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(waiting["status"], "awaiting_approval", "{waiting}");
        let id = waiting["id"].as_str().unwrap().to_owned();
        // Two approvers, one on each replica, at the same moment.
        let approve = |base: &str, n: usize| {
            reqwest::Client::new()
                .post(format!("{base}/v1/resets/{id}/approve"))
                .bearer_auth(person_token(
                    &format!("approver-{n}"),
                    &["GuestReset.Approver"],
                ))
                .send()
        };
        let (a, b) = tokio::join!(approve(&p.bases[0], 1), approve(&p.bases[1], 2));
        let mut codes = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
        codes.sort_unstable();
        answers.push(codes);
    }
    assert!(
        answers
            .iter()
            .all(|c| c[0] == 200 && (c[1] == 200 || c[1] == 409)),
        "{answers:?}"
    );
    let finished = wait(|| async {
        let s = statuses(&p.bases[1]).await;
        (s.len() == 3 && s.iter().all(|s| s == "succeeded")).then_some(s)
    })
    .await;
    assert_eq!(finished.len(), 3);
    assert_eq!(
        p.emulator.applied_resets().len(),
        3,
        "each reset applied once"
    );
    println!(
        "approvals: 3 resets, each approved on both replicas at once (answers {answers:?}): 3 applied, none twice"
    );
}
