//! A crash mid-job: `kill -9` the real binary while job items wait on Graph
//! (twice: while a wave reads, and while its invitations are out), restart it
//! on the same database each time, and check that the job finishes with every
//! item applied exactly once: nothing twice, nothing lost.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::binary::{ISSUER, SECRET, serve_logged};
use common::{sign, tenant_with_guests};
use guest_reset::emulator::{Emulator, Fault, FaultPlan, FaultRoute, FaultRule};
use serde_json::{Value, json};

const GUESTS: usize = 40;
const POLICY: &str = "[[grant]]\ncaller = { subjects = ['bulk'] }\npermissions = ['jobs:create', 'resets:create', 'resets:read:all']\n\
    [[rule]]\nname = 'bulk'\ntarget_domains = ['fabrikam.example']\nnew_email_domains = ['fabrikam.net']\nmax_job_items = 100\n";

fn token() -> String {
    let now = jsonwebtoken::get_current_timestamp();
    sign(
        &json!({ "iss": ISSUER, "aud": "api://guest-reset", "sub": "bulk", "exp": now + 600 }),
        SECRET,
    )
}

async fn job(base: &str, id: &str) -> Value {
    let answer = reqwest::Client::new()
        .get(format!("{base}/v1/jobs/{id}"))
        .bearer_auth(token())
        .send()
        .await
        .unwrap();
    answer.json().await.unwrap()
}

/// `POST /invitations` the emulator received, per guest id.
fn invitations(emulator: &Emulator) -> BTreeMap<String, usize> {
    let mut per = BTreeMap::new();
    for r in emulator.requests() {
        if r.path.ends_with("/invitations") {
            let id = r
                .body
                .as_ref()
                .and_then(|b| b["invitedUser"]["id"].as_str());
            *per.entry(id.unwrap_or_default().to_owned()).or_default() += 1;
        }
    }
    per
}

/// When to kill, from the job's counts.
type Caught = fn(&Value) -> bool;

fn count(counts: &Value, state: &str) -> u64 {
    counts[state].as_u64().unwrap_or(0)
}

/// The job's counts once `caught` holds (or the last seen, after 10 s).
async fn watch(base: &str, id: &str, caught: Caught) -> Value {
    let mut counts = Value::Null;
    for _ in 0..1000 {
        counts = job(base, id).await["counts"].clone();
        if caught(&counts) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_job_applies_every_item_once() {
    let emulator = tenant_with_guests(GUESTS);
    // Each invitation takes 300 ms in Graph, which applies it even when the
    // caller is gone.
    emulator.set_faults(FaultPlan {
        seed: 15,
        rules: vec![
            FaultRule {
                route: FaultRoute::Invitations,
                fault: Fault::Latency { millis: 300 },
                probability: 1.0,
                limit: None,
                skip: 0,
            },
            // Reads take a while too, so some items are killed before their
            // invitation was sent (they must be queued again, not failed).
            FaultRule {
                route: FaultRoute::ListUsers,
                fault: Fault::Latency { millis: 150 },
                probability: 1.0,
                limit: None,
                skip: 0,
            },
        ],
    });
    let graph = emulator.spawn("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), POLICY).unwrap();
    // An item killed after committing its invitation attempt but before
    // sending it is `unknown` until the read-back after the grace period
    // shows Graph untouched; then it is queued again.
    // The watch below polls every 10 ms: above the per-caller rate limit.
    let grace = [
        ("GUEST_RESET_UNKNOWN_GRACE_SECS", "1"),
        ("GUEST_RESET_RATE_LIMIT_PER_MINUTE", "100000"),
        ("GUEST_RESET_RATE_LIMIT_BURST", "10000"),
        // Waves of four: some items done while others are in flight.
        ("GUEST_RESET_JOB_WORKERS", "4"),
    ];
    let (mut server, base, _) = serve_logged(dir.path(), graph, &grace);
    let mut csv = String::from("user,new_email\n");
    for i in 0..GUESTS {
        csv.push_str(&format!(
            "guest-{i}@fabrikam.example,guest-{i}@fabrikam.net\n"
        ));
    }
    let created: Value = reqwest::Client::new()
        .post(format!("{base}/v1/jobs"))
        .bearer_auth(token())
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    // Job items move in step (an envelope answers all of its items at
    // once), so two kills: once while a wave reads and decides (`pending`:
    // no invitation sent, each must be queued again, not failed), once while
    // a wave's invitations are in Graph's hands (`running`: read back).
    let phases: [(&str, Caught); 2] = [
        ("pending", |c| {
            count(c, "succeeded") >= 4 && count(c, "pending") > 0
        }),
        ("running", |c| {
            count(c, "succeeded") >= 12 && count(c, "running") > 0
        }),
    ];
    let mut base = base;
    for (phase, caught) in phases {
        let counts = watch(&base, &id, caught).await;
        assert!(caught(&counts), "never caught with items {phase}: {counts}");
        server.0.kill().unwrap(); // SIGKILL: no shutdown, no finalisation
        server.0.wait().unwrap();
        eprintln!("killed with items {phase}: {counts}");
        tokio::time::sleep(Duration::from_millis(400)).await; // Graph finishes what it holds
        (server, base, _) = serve_logged(dir.path(), graph, &grace);
    }
    let mut after = Value::Null;
    for _ in 0..600 {
        after = job(&base, &id).await;
        let unknown = after["counts"]["unknown"].as_u64().unwrap_or(0);
        if after["state"] == "finished" && unknown == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "after restart: state {} counts {}",
        after["state"], after["counts"]
    );
    assert_eq!(after["state"], "finished", "{after}");
    assert_eq!(
        after["counts"]["succeeded"], GUESTS,
        "nothing lost: {after}"
    );
    let per_guest = invitations(&emulator);
    eprintln!(
        "invitations sent: {} for {} guests",
        per_guest.values().sum::<usize>(),
        per_guest.len()
    );
    assert_eq!(
        per_guest.len(),
        GUESTS,
        "every guest invited: {per_guest:?}"
    );
    assert!(
        per_guest.values().all(|n| *n == 1),
        "nothing twice: {per_guest:?}"
    );
}
