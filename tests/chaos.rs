//! Chaos: 200 resets of distinct guests through the service, 16 in flight,
//! while the emulator injects ~30% faults of every kind (429 with integer and
//! fractional Retry-After, 5xx, latency, stalls past the per-attempt timeout,
//! malformed and truncated JSON, dropped connections after the change was
//! applied, the invitation rate limit, replication lag). After the grace
//! period every audit row is final, at least 95% are definite (succeeded or
//! failed), none is false (every `succeeded` matches a reset Graph applied,
//! every `failed` a guest Graph did not reset), no guest was reset twice, and
//! the circuit breaker never opened on this noise.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use common::{TestApp, guest_id, tenant_with_guests};
use guest_reset::emulator::{Fault, FaultPlan, FaultRoute, FaultRule};
use serde_json::json;

const RESETS: usize = 200;
const GRACE: Duration = Duration::from_secs(1);
const CONCURRENCY: usize = 16;
/// The demo grants and rule, without the per-caller quota (one caller makes
/// every request here).
const POLICY: &str = r#"
[[grant]]
caller = { roles = ["GuestReset.Helpdesk"] }
permissions = ["resets:create", "resets:read:own"]
[[rule]]
name = "chaos"
caller = { roles = ["GuestReset.Helpdesk"] }
target_domains = ["fabrikam.example"]
new_email_domains = ["fabrikam.example", "northwind.example"]
"#;

fn rule(route: FaultRoute, fault: Fault, probability: f64) -> FaultRule {
    FaultRule {
        route,
        fault,
        probability,
        limit: None,
        skip: 0,
    }
}

fn plan() -> FaultPlan {
    use Fault::*;
    use FaultRoute::*;
    let throttle = |s: &str| Throttle {
        retry_after: Some(s.into()),
    };
    let down = |status: u16, retry: Option<&str>| Unavailable {
        status,
        retry_after: retry.map(str::to_owned),
    };
    FaultPlan {
        seed: 20261125,
        rules: vec![
            rule(Invitations, throttle("1"), 0.08),
            rule(Invitations, throttle("0.2"), 0.08),
            rule(Invitations, down(503, Some("0.1")), 0.08),
            rule(Invitations, down(500, None), 0.06),
            rule(Invitations, down(502, None), 0.04),
            rule(Invitations, down(504, None), 0.04),
            rule(Invitations, DropAfterApply, 0.04),
            rule(Invitations, TruncatedJson, 0.04),
            rule(Invitations, MalformedJson, 0.04),
            rule(Invitations, Stall { millis: 1500 }, 0.03),
            rule(Invitations, Latency { millis: 30 }, 0.04),
            rule(PatchUser, down(503, None), 0.12),
            rule(PatchUser, down(500, None), 0.05),
            rule(PatchUser, DropAfterApply, 0.03),
            rule(GetUser, throttle("0.1"), 0.10),
            rule(GetUser, down(503, None), 0.08),
            rule(GetUser, Latency { millis: 20 }, 0.05),
            rule(ListUsers, down(503, None), 0.10),
            rule(ListUsers, TruncatedJson, 0.03),
            rule(MemberOf, down(502, None), 0.10),
            rule(MemberOf, Latency { millis: 20 }, 0.05),
            rule(Token, down(503, None), 0.04),
        ],
    }
}

/// Send every reset, 16 in flight at any time; the answers' statuses.
async fn drive(app: &TestApp) -> BTreeMap<u16, usize> {
    let token = app.token();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..RESETS {
        // Half by email (the $filter path), half by object id; two thirds move domain.
        let user = match i % 2 {
            0 => format!("guest-{i}@fabrikam.example"),
            _ => guest_id(i),
        };
        let new_email = match i % 3 {
            0 => format!("guest-{i}@fabrikam.example"),
            _ => format!("guest-{i}@northwind.example"),
        };
        let body = json!({ "user": user, "new_email": new_email, "ticket": format!("INC-{i}"), "reason": "chaos test" });
        let request = app
            .client
            .post(format!("{}/v1/resets", app.base))
            .bearer_auth(&token)
            .json(&body);
        let slot = std::sync::Arc::clone(&slots).acquire_owned().await.unwrap();
        tasks.spawn(async move {
            let status = request.send().await.map(|r| r.status().as_u16());
            drop(slot);
            status.unwrap_or(0)
        });
    }
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for status in tasks.join_all().await {
        *statuses.entry(status).or_default() += 1;
    }
    statuses
}

/// The audit rows once no `unknown` row waits for its re-read any more.
async fn after_grace(app: &TestApp) -> Vec<serde_json::Value> {
    tokio::time::sleep(GRACE).await;
    for _ in 0..300 {
        let rows = app.audit_rows().await;
        if rows.iter().all(|r| r["settle_after"].is_null()) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("unknown rows still wait for their re-read");
}

fn outcome(row: &serde_json::Value) -> String {
    let problem = row["problem_type"].as_str().unwrap_or("");
    let slug = problem.rsplit(':').next().unwrap_or_default();
    format!("{} {slug}", row["status"].as_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_ends_final_and_no_guest_is_reset_twice() {
    let emulator = tenant_with_guests(RESETS);
    emulator.set_faults(plan());
    emulator.set_replication_lag(Duration::from_millis(150));
    let app = TestApp::spawn_on(emulator, |c| {
        // A stall of 1.5 s outlives a 1 s attempt; the default deadline stays.
        c.graph.timeout = Duration::from_secs(1);
        c.reset.unknown_grace = GRACE;
        std::fs::write(&c.policy_file, POLICY).unwrap();
    })
    .await;
    let statuses = drive(&app).await;
    let at_once: BTreeMap<String, usize> =
        app.audit_rows()
            .await
            .iter()
            .fold(BTreeMap::new(), |mut m, r| {
                *m.entry(outcome(r)).or_default() += 1;
                m
            });
    let rows = after_grace(&app).await;
    let applied = app.emulator.applied_resets();
    let requests = app.emulator.requests();
    let injected = requests.iter().filter(|r| r.injected.is_some()).count();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for row in &rows {
        *outcomes.entry(outcome(row)).or_default() += 1;
    }
    let metrics = app.metrics().await;
    let opened = metrics
        .lines()
        .find(|l| l.starts_with("guest_reset_graph_circuit_opened_total{tenant=\"default\"} "))
        .map_or(0, |l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap());
    eprintln!(
        "chaos: {RESETS} resets, {injected} faults injected over {} Graph requests ({:.0}%); answers {statuses:?}; outcomes at once {at_once:?}; after the grace period {outcomes:#?}; {} resets applied; circuit opened {opened} times",
        requests.len(),
        100.0 * injected as f64 / requests.len() as f64,
        applied.len()
    );

    assert_eq!(rows.len(), RESETS, "one audit row per request");
    assert!(
        !statuses.contains_key(&0),
        "every request got an answer: {statuses:?}"
    );
    let mut per_guest: HashMap<&str, usize> = HashMap::new();
    for reset in &applied {
        *per_guest.entry(reset.user_id.as_str()).or_default() += 1;
    }
    assert!(
        per_guest.values().all(|n| *n == 1),
        "a guest was reset twice: {per_guest:?}"
    );
    for row in &rows {
        let status = row["status"].as_str().unwrap();
        assert!(
            ["succeeded", "failed", "unknown"].contains(&status),
            "not final: {row}"
        );
        if status != "succeeded" {
            assert!(row["problem_type"].is_string(), "no named problem: {row}");
        }
        if status == "unknown" {
            assert!(
                row["evidence"].is_string(),
                "unknown without evidence: {row}"
            );
        }
        let target = row["target_id"].as_str().unwrap_or_default();
        match status {
            "succeeded" => assert!(per_guest.contains_key(target), "false succeeded: {row}"),
            "failed" => assert!(!per_guest.contains_key(target), "false failed: {row}"),
            _ => {}
        }
    }
    assert!(
        injected > RESETS / 2,
        "too few faults to mean anything: {injected}"
    );
    let definite = rows.iter().filter(|r| r["status"] != "unknown").count();
    assert!(
        definite * 100 >= RESETS * 95,
        "only {definite} of {RESETS} definite: {outcomes:?}"
    );
    assert_eq!(opened, 0, "the breaker opened on noise");
}

/// One guest reset back to back 60 times while a third of the reset calls
/// fail (5xx Graph did not apply, dropped answers Graph did apply, stalls).
/// Every `succeeded` row must be backed by a reset Graph applied inside its
/// own window (first attempt to completion), none shared with another row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_back_resets_of_one_guest_never_claim_each_others_change() {
    use Fault::*;
    let emulator = tenant_with_guests(1);
    let down = |status| Unavailable {
        status,
        retry_after: None,
    };
    let rules = vec![
        rule(FaultRoute::Invitations, down(500), 0.12),
        rule(FaultRoute::Invitations, down(502), 0.06),
        rule(FaultRoute::Invitations, DropAfterApply, 0.08),
        rule(FaultRoute::Invitations, Stall { millis: 1500 }, 0.05),
    ];
    emulator.set_faults(FaultPlan { seed: 60, rules });
    let app = TestApp::spawn_on(emulator, |c| {
        c.graph.timeout = Duration::from_secs(1);
        c.reset.unknown_grace = GRACE;
        std::fs::write(&c.policy_file, POLICY).unwrap();
    })
    .await;
    let body = json!({ "user": guest_id(0), "new_email": "guest-0@northwind.example", "ticket": "INC-1", "reason": "back to back" });
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for _ in 0..60 {
        let response = app.post_reset(body.clone()).await;
        *statuses.entry(response.status().as_u16()).or_default() += 1;
        if response.status() == 409 {
            // An unknown reset of the guest waits for its read-back.
            tokio::time::sleep(GRACE / 2).await;
        }
    }
    let rows = after_grace(&app).await;
    let applied = app.emulator.applied_resets();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for row in &rows {
        *outcomes.entry(outcome(row)).or_default() += 1;
    }
    eprintln!(
        "back to back: answers {statuses:?}; outcomes {outcomes:#?}; {} resets applied",
        applied.len()
    );
    let parse = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    };
    let mut used = vec![false; applied.len()];
    for row in rows.iter().filter(|r| r["status"] == "succeeded") {
        let from = parse(row["invite_attempted_at"].as_str().unwrap());
        let until = parse(row["completed_at"].as_str().unwrap());
        let own = applied.iter().enumerate().position(|(i, a)| {
            let at = parse(&a.at);
            !used[i] && at >= from && at <= until
        });
        let Some(i) = own else {
            panic!("succeeded without a reset of its own in Graph: {row}");
        };
        used[i] = true;
    }
    let succeeded = outcomes.get("succeeded ").copied().unwrap_or(0);
    assert!(
        succeeded > 10,
        "too few resets went through to mean anything: {outcomes:?}"
    );
}
