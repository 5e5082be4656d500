//! Two replicas on one PostgreSQL database run one job, and together stay
//! within Graph's invitation limit: the budget is counted in the store by
//! both, not by each alone (which would send twice the limit).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::jobs::{bulk_token, domain_move_csv, invitations_per_guest, submit, wait_over};
use common::{TestApp, tenant_with_guests};
use guest_reset::graph::BudgetSettings;

/// PostgreSQL only: SQLite is one process's file.
fn on_postgres() -> bool {
    if std::env::var("GUEST_RESET_TEST_DATABASE_URL").is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("GUEST_RESET_REQUIRE_POSTGRES").is_none(),
        "GUEST_RESET_REQUIRE_POSTGRES is set but GUEST_RESET_TEST_DATABASE_URL is not"
    );
    eprintln!("skipped: no PostgreSQL (run .ci/postgres-tests)");
    false
}

/// The lease owners of the rows in flight now: which replicas are working.
async fn owners_in_flight(app: &TestApp) -> BTreeSet<String> {
    let mut conn = app.database().await;
    sqlx::query_scalar::<_, String>(
        "select distinct lease_owner from resets \
         where status in ('pending', 'running') and lease_owner is not null",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

#[tokio::test]
async fn two_replicas_share_one_invitation_budget_and_graph_throttles_neither() {
    if !on_postgres() {
        return;
    }
    // Graph's limit scaled down: 10 invitations per 2 s, in the emulator
    // and in the service's budget alike.
    let emulator = tenant_with_guests(40);
    emulator.set_invitation_rate(10, Duration::from_secs(2));
    let a = TestApp::spawn_on(emulator, |c| {
        c.graph.retry.invitations = BudgetSettings {
            limit: 10,
            window: Duration::from_secs(2),
        };
        c.reset.unknown_grace = Duration::from_secs(1);
    })
    .await;
    let b = a.replica().await;
    let token = bulk_token(&a);
    let id = submit(&a, &token, "text/csv", domain_move_csv(0..40)).await;
    let mut owners = BTreeSet::new();
    for _ in 0..600 {
        owners.extend(owners_in_flight(&a).await);
        let job = common::jobs::job(&b, &token, &id).await;
        if job["state"] == "finished" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let job = wait_over(&a, &token, &id, Duration::from_secs(5)).await;
    assert_eq!(job["counts"]["succeeded"], 40, "{job}");
    assert_eq!(owners.len(), 2, "both replicas ran items: {owners:?}");
    let limited = (a.emulator.requests().iter())
        .filter(|r| r.injected.as_deref() == Some("invitation_rate_limit"))
        .count();
    assert_eq!(limited, 0, "Graph throttled no invitation");
    let applied = invitations_per_guest(&a);
    assert_eq!(applied.len(), 40);
    assert!(applied.values().all(|n| *n == 1), "{applied:?}");
}
