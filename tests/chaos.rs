//! Chaos: a few hundred resets through the service while the emulator
//! injects ~30% faults of every kind (429 with integer and fractional
//! Retry-After, 5xx, latency, stalls past the per-attempt timeout, malformed
//! and truncated JSON, dropped connections after the change was applied, the
//! invitation rate limit, replication lag). Afterwards every audit row is
//! final, no guest was reset twice, and every `succeeded` row matches a reset
//! Graph applied.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use common::{TestApp, guest_id, tenant_with_guests};
use guest_reset::emulator::{Fault, FaultPlan, FaultRoute, FaultRule};
use serde_json::json;

const RESETS: usize = 240;
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
            rule(PatchUser, down(503, None), 0.10),
            rule(PatchUser, DropAfterApply, 0.03),
            rule(GetUser, throttle("0.1"), 0.10),
            rule(ListUsers, down(503, None), 0.10),
            rule(ListUsers, TruncatedJson, 0.03),
            rule(MemberOf, down(502, None), 0.10),
            rule(MemberOf, Latency { millis: 20 }, 0.05),
            rule(Token, down(503, None), 0.04),
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_ends_final_and_no_guest_is_reset_twice() {
    let emulator = tenant_with_guests(RESETS);
    emulator.set_faults(plan());
    emulator.set_replication_lag(Duration::from_millis(150));
    let app = TestApp::spawn_on(emulator, |c| {
        // A stall of 1.5 s outlives a 1 s attempt; the default deadline stays.
        c.graph.timeout = Duration::from_secs(1);
        std::fs::write(&c.policy_file, POLICY).unwrap();
    })
    .await;
    let token = app.token();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for batch in (0..RESETS).collect::<Vec<_>>().chunks(CONCURRENCY) {
        let mut tasks = tokio::task::JoinSet::new();
        for &i in batch {
            // Half by email (the $filter path), half by object id; half move domain.
            let user = if i % 2 == 0 {
                format!("guest-{i}@fabrikam.example")
            } else {
                guest_id(i)
            };
            let new_email = if i % 3 == 0 {
                format!("guest-{i}@fabrikam.example")
            } else {
                format!("guest-{i}@northwind.example")
            };
            let body = json!({ "user": user, "new_email": new_email, "ticket": format!("INC-{i}"), "reason": "chaos test" });
            let request = app
                .client
                .post(format!("{}/v1/resets", app.base))
                .bearer_auth(&token)
                .json(&body);
            tasks.spawn(async move {
                request
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            });
        }
        for status in tasks.join_all().await {
            *statuses.entry(status).or_default() += 1;
        }
    }
    let rows = app.audit_rows().await;
    let applied = app.emulator.applied_resets();
    let injected = app
        .emulator
        .requests()
        .iter()
        .filter(|r| r.injected.is_some())
        .count();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for row in &rows {
        let kind = format!(
            "{} {}",
            row["status"].as_str().unwrap(),
            row["problem_type"]
                .as_str()
                .unwrap_or("")
                .rsplit(':')
                .next()
                .unwrap()
        );
        *outcomes.entry(kind).or_default() += 1;
    }
    eprintln!(
        "chaos: {RESETS} resets, {injected} faults injected over {} Graph requests; answers {statuses:?}; outcomes {outcomes:#?}; {} resets applied",
        app.emulator.requests().len(),
        applied.len()
    );

    assert_eq!(rows.len(), RESETS, "one audit row per request");
    assert!(
        !statuses.contains_key(&0),
        "every request got an answer: {statuses:?}"
    );
    for row in &rows {
        let status = row["status"].as_str().unwrap();
        assert!(
            ["succeeded", "failed", "denied", "unknown"].contains(&status),
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
    }
    let mut per_guest: HashMap<&str, usize> = HashMap::new();
    for reset in &applied {
        *per_guest.entry(reset.user_id.as_str()).or_default() += 1;
    }
    assert!(
        per_guest.values().all(|n| *n == 1),
        "a guest was reset twice: {per_guest:?}"
    );
    for row in rows.iter().filter(|r| r["status"] == "succeeded") {
        let target = row["target_id"].as_str().unwrap();
        assert!(
            per_guest.contains_key(target),
            "succeeded but Graph applied nothing: {row}"
        );
    }
    assert!(
        injected > RESETS / 4,
        "too few faults to mean anything: {injected}"
    );
    let succeeded = outcomes
        .iter()
        .filter(|(k, _)| k.starts_with("succeeded"))
        .map(|(_, n)| n)
        .sum::<usize>();
    assert!(
        succeeded > RESETS / 2,
        "retries should carry most resets through: {outcomes:?}"
    );
}
