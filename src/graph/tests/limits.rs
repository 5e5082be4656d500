//! The deadline, the concurrency limit and the circuit breaker.

use std::time::{Duration, Instant};

use super::fake::{FakeGraph, Reply};
use super::{api, client, quick, settings};
use crate::graph::{BreakerSettings, GraphClient, GraphError, RetrySettings};

#[tokio::test]
async fn the_deadline_bounds_the_whole_call_retries_included() {
    let stall = Reply::Slow(Duration::from_secs(60));
    let fake = FakeGraph::start([stall.clone(), stall.clone(), stall]).await;
    let retry = RetrySettings {
        deadline: Duration::from_millis(800),
        ..quick()
    };
    let mut s = settings(&fake.url, &fake.url, retry);
    s.timeout = Duration::from_secs(30); // longer than the deadline
    let graph = GraphClient::new(s).unwrap();
    let started = Instant::now();
    let err = graph.get_user("obj-1").await.unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(800),
        "gave up early: {took:?}"
    );
    assert!(took < Duration::from_secs(10), "deadline ignored: {took:?}");
    assert!(
        matches!(
            err,
            GraphError::Transport {
                maybe_sent: true,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_call_beyond_the_concurrency_limit_waits_for_a_slot() {
    let slow = Reply::Slow(Duration::from_millis(300));
    let fake = FakeGraph::start([slow.clone(), slow.clone(), slow]).await;
    let graph = client(
        &fake.url,
        RetrySettings {
            max_concurrency: 2,
            ..quick()
        },
    );
    let started = Instant::now();
    let (a, b, c) = tokio::join!(
        graph.get_user("a"),
        graph.get_user("b"),
        graph.get_user("c")
    );
    assert!(a.is_ok() && b.is_ok() && c.is_ok());
    assert_eq!(
        fake.max_in_flight(),
        2,
        "never more than the limit at Graph"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "the third call waited"
    );
}

#[tokio::test]
async fn the_circuit_opens_after_the_threshold_and_half_opens_after_the_cooldown() {
    let failing = Reply::Status(500, None);
    let fake = FakeGraph::start([failing.clone(), failing.clone(), failing]).await;
    let cooldown = Duration::from_millis(300);
    let retry = RetrySettings {
        max_attempts: 1,
        breaker: BreakerSettings {
            failure_rate: 1.0,
            min_calls: 2,
            cooldown,
            ..BreakerSettings::default()
        },
        ..quick()
    };
    let graph = client(&fake.url, retry);
    for _ in 0..2 {
        assert_eq!(api(&graph.get_user("x").await.unwrap_err()).0, 500);
    }
    let open = graph.get_user("x").await.unwrap_err();
    assert!(matches!(open, GraphError::CircuitOpen { retry_after } if retry_after <= cooldown));
    assert_eq!(fake.graph_hits(), 2, "an open circuit sends nothing");
    tokio::time::sleep(cooldown).await;
    assert_eq!(api(&graph.get_user("trial").await.unwrap_err()).0, 500);
    assert!(
        matches!(
            graph.get_user("x").await,
            Err(GraphError::CircuitOpen { .. })
        ),
        "failed trial reopens"
    );
    tokio::time::sleep(cooldown).await;
    graph
        .get_user("trial")
        .await
        .expect("the trial is answered");
    graph.get_user("x").await.expect("closed again");
    assert_eq!(fake.graph_hits(), 5);
    let stats = graph.stats();
    assert_eq!((stats.circuit_opened, stats.circuit_rejected), (2, 2));
}

#[tokio::test]
async fn answered_4xx_and_429_keep_the_circuit_closed() {
    let script = [
        Reply::Status(429, None),
        Reply::Status(404, None),
        Reply::Status(400, None),
        Reply::Status(429, None),
    ];
    let fake = FakeGraph::start(script).await;
    let retry = RetrySettings {
        max_attempts: 1,
        breaker: BreakerSettings {
            min_calls: 2,
            ..quick().breaker
        },
        ..quick()
    };
    let graph = client(&fake.url, retry);
    for _ in 0..4 {
        let _ = graph
            .find_users_by_email("a@example.com")
            .await
            .unwrap_err();
    }
    graph.get_user("x").await.expect("circuit still closed");
    assert_eq!(graph.stats().circuit_opened, 0);
    assert_eq!(graph.stats().throttled, 2);
}

/// The tenant's invitation budget: beyond it an invitation waits for a
/// slot; none before the deadline is a throttle of our own: nothing sent,
/// and not a Graph failure the breaker counts.
#[tokio::test]
async fn invitations_beyond_the_tenants_budget_wait_and_never_open_the_circuit() {
    let fake = FakeGraph::start([]).await;
    let retry = RetrySettings {
        deadline: Duration::from_millis(300),
        breaker: BreakerSettings {
            min_calls: 1,
            ..BreakerSettings::default()
        },
        invitations: crate::graph::BudgetSettings {
            limit: 2,
            window: Duration::from_secs(60),
        },
        ..quick()
    };
    let graph = client(&fake.url, retry);
    for _ in 0..2 {
        graph.reset_redemption(&super::invitation()).await.unwrap();
    }
    let err = graph
        .reset_redemption(&super::invitation())
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Budget { .. }), "{err:?}");
    assert_eq!(fake.graph_hits(), 2, "the third was never sent");
    assert!(!graph.circuit_open());
    assert!(
        graph.get_user("obj-1").await.is_ok(),
        "reads are not budgeted"
    );
}

/// User writes have their own budget (per app and tenant): reads and
/// invitations do not use it up.
#[tokio::test]
async fn user_writes_beyond_their_budget_are_not_sent() {
    let fake = FakeGraph::start([]).await;
    let retry = RetrySettings {
        deadline: Duration::from_millis(300),
        user_writes: crate::graph::BudgetSettings {
            limit: 1,
            window: Duration::from_secs(60),
        },
        ..quick()
    };
    let graph = client(&fake.url, retry);
    let list = ["a@example.com".to_owned()];
    graph.set_other_mails("obj-1", &list).await.unwrap();
    let err = graph.set_other_mails("obj-1", &list).await.unwrap_err();
    assert!(matches!(err, GraphError::Budget { .. }), "{err:?}");
    assert_eq!(fake.graph_hits(), 1, "the second write was never sent");
    assert!(graph.reset_redemption(&super::invitation()).await.is_ok());
    assert!(graph.get_user("obj-1").await.is_ok());
}
