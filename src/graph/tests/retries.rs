//! How many attempts each failure gets, per kind of request.

use std::time::{Duration, Instant};

use super::fake::{FakeGraph, Reply, dropping_server, refused_url};
use super::{api, client, invitation, quick, settings};
use crate::graph::{GraphClient, GraphError, RetrySettings};

const STALL: Duration = Duration::from_secs(30); // far beyond the 500 ms per-attempt timeout
const LAG: &str =
    "The email you're using to invite this user doesn't match any emails on the user object.";

#[tokio::test]
async fn reads_repeat_5xx_stalls_and_truncated_bodies_until_answered() {
    let script = [
        Reply::Status(500, None),
        Reply::Status(504, None),
        Reply::Slow(STALL),
        Reply::Truncated,
    ];
    let fake = FakeGraph::start(script).await;
    let graph = client(
        &fake.url,
        RetrySettings {
            max_attempts: 5,
            ..quick()
        },
    );
    let user = graph
        .get_user("obj-1")
        .await
        .expect("the fifth attempt is answered");
    assert_eq!(user.value.map(|u| u.id).as_deref(), Some("obj-1"));
    assert_eq!(fake.graph_hits(), 5);
    assert_eq!(graph.stats().retries, 4);
}

#[tokio::test]
async fn reads_repeat_a_dropped_connection_up_to_max_attempts() {
    let token = FakeGraph::start([]).await;
    let (url, hits) = dropping_server().await;
    let graph = GraphClient::new(settings(&token.url, &url, quick())).unwrap();
    let err = graph.get_user("obj-1").await.unwrap_err();
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
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[tokio::test]
async fn other_mails_patch_repeats_like_a_read() {
    let fake = FakeGraph::start([Reply::Status(502, None), Reply::Slow(STALL)]).await;
    let graph = client(&fake.url, quick());
    graph
        .set_other_mails("obj-1", &["a@example.com".into()])
        .await
        .expect("third attempt");
    assert_eq!(fake.graph_hits(), 3);
}

#[tokio::test]
async fn invitation_is_not_repeated_when_the_outcome_is_unknown() {
    for reply in [
        Reply::Status(500, None),
        Reply::Status(502, None),
        Reply::Status(504, None),
        Reply::Slow(STALL),
        Reply::Truncated,
    ] {
        let fake = FakeGraph::start([reply.clone()]).await;
        let err = client(&fake.url, quick())
            .reset_redemption(&invitation())
            .await
            .unwrap_err();
        let expected_kind = match &reply {
            Reply::Status(status, _) => api(&err).0 == *status,
            Reply::Slow(_) => matches!(
                err,
                GraphError::Transport {
                    maybe_sent: true,
                    ..
                }
            ),
            _ => matches!(err, GraphError::Decode(_)),
        };
        assert!(expected_kind, "{reply:?} gave {err:?}");
        assert_eq!(fake.graph_hits(), 1, "{reply:?} must not be repeated");
    }
}

#[tokio::test]
async fn invitation_is_not_repeated_after_a_dropped_connection() {
    let token = FakeGraph::start([]).await;
    let (url, hits) = dropping_server().await;
    let graph = GraphClient::new(settings(&token.url, &url, quick())).unwrap();
    let err = graph.reset_redemption(&invitation()).await.unwrap_err();
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
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn invitation_is_repeated_after_429_and_503_honouring_fractional_retry_after() {
    let script = [
        Reply::Status(429, Some("0.2")),
        Reply::Status(503, Some("0")),
    ];
    let fake = FakeGraph::start(script).await;
    let graph = client(&fake.url, quick());
    let started = Instant::now();
    let invited = graph
        .reset_redemption(&invitation())
        .await
        .expect("third attempt");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(invited.value.status, "PendingAcceptance");
    assert_eq!(fake.graph_hits(), 3);
    let stats = graph.stats();
    assert_eq!((stats.attempts, stats.retries, stats.throttled), (3, 2, 1));
}

#[tokio::test]
async fn invitation_is_repeated_when_the_connection_is_refused() {
    let token = FakeGraph::start([]).await;
    let refused = refused_url().await;
    let graph = GraphClient::new(settings(&token.url, &refused, quick())).unwrap();
    let err = graph.reset_redemption(&invitation()).await.unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Transport {
                maybe_sent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(graph.stats().attempts, 4, "every attempt was safe to make");
}

#[tokio::test]
async fn integer_retry_after_is_waited_for() {
    let fake = FakeGraph::start([Reply::Status(429, Some("1"))]).await;
    let graph = client(&fake.url, quick());
    let started = Instant::now();
    graph.get_user("obj-1").await.expect("second attempt");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(fake.graph_hits(), 2);
}

#[tokio::test]
async fn retry_after_over_the_cap_fails_fast_and_is_passed_on() {
    let fake = FakeGraph::start([Reply::Status(429, Some("120"))]).await;
    let graph = client(&fake.url, quick()); // honours up to 5 s
    let started = Instant::now();
    let err = graph.reset_redemption(&invitation()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(api(&err), (429, Some(Duration::from_secs(120))));
    assert_eq!(fake.graph_hits(), 1);
}

#[tokio::test]
async fn retry_after_past_the_deadline_fails_fast_and_is_passed_on() {
    let fake = FakeGraph::start([Reply::Status(503, Some("4"))]).await;
    let retry = RetrySettings {
        deadline: Duration::from_secs(3),
        ..quick()
    };
    let started = Instant::now();
    let err = client(&fake.url, retry)
        .get_user("obj-1")
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(api(&err), (503, Some(Duration::from_secs(4))));
}

#[tokio::test]
async fn replication_lag_400_is_repeated_right_after_the_email_was_added() {
    let fake = FakeGraph::start([Reply::BadRequest(LAG), Reply::BadRequest(LAG)]).await;
    let graph = client(&fake.url, quick());
    let invited = graph
        .reset_redemption_after_email_added(&invitation())
        .await;
    assert_eq!(invited.expect("third attempt").value.id, "obj-1");
    assert_eq!(fake.graph_hits(), 3);
}

#[tokio::test]
async fn replication_lag_400_is_final_otherwise() {
    let fake = FakeGraph::start([Reply::BadRequest(LAG)]).await;
    let err = client(&fake.url, quick())
        .reset_redemption(&invitation())
        .await
        .unwrap_err();
    assert_eq!(api(&err).0, 400);
    assert_eq!(fake.graph_hits(), 1);
}
