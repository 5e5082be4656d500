//! The pure retry rules: which failures repeat, and how long to wait.

use std::time::Duration;

use super::quick;
use crate::graph::GraphError;
use crate::graph::retry::{
    Replay, RetrySettings, backoff, is_replication_lag, is_trouble, lag_retry, lag_wait, may_retry,
    next_wait, random_unit,
};

const MS: Duration = Duration::from_millis(1);
const LAG: &str =
    "The email you're using to invite this user doesn't match any emails on the user object.";

fn api(status: u16, retry_after: Option<Duration>) -> GraphError {
    GraphError::Api {
        status,
        code: "Code".into(),
        message: "text".into(),
        request_id: None,
        retry_after,
    }
}

fn transport(maybe_sent: bool) -> GraphError {
    GraphError::Transport {
        message: "x".into(),
        maybe_sent,
    }
}

fn lag(message: &str) -> GraphError {
    GraphError::Api {
        status: 400,
        code: "BadRequest".into(),
        message: message.into(),
        request_id: None,
        retry_after: None,
    }
}

#[test]
fn full_jitter_is_uniform_below_an_exponential_capped_ceiling() {
    let (base, cap) = (100 * MS, 1000 * MS);
    assert_eq!(
        backoff(1, base, cap, 0.0),
        Duration::ZERO,
        "full jitter starts at 0"
    );
    assert_eq!(backoff(1, base, cap, 0.5), 50 * MS);
    assert_eq!(backoff(2, base, cap, 0.5), 100 * MS, "ceiling doubles");
    assert_eq!(backoff(3, base, cap, 0.5), 200 * MS);
    let top = backoff(3, base, cap, 0.999_999);
    assert!(top < 400 * MS && top > 399 * MS, "{top:?}");
    assert_eq!(backoff(5, base, cap, 0.5), 500 * MS, "capped at max_delay");
    assert_eq!(backoff(200, base, cap, 0.5), 500 * MS, "no overflow");
    let units: Vec<f64> = (0..1000).map(|_| random_unit()).collect();
    assert!(units.iter().all(|u| (0.0..1.0).contains(u)));
    assert!(units.iter().any(|u| *u < 0.5) && units.iter().any(|u| *u >= 0.5));
}

#[test]
fn retry_after_is_honoured_up_to_the_cap_and_the_deadline() {
    let s = quick(); // max_retry_after 5 s
    let long = Duration::from_secs(60);
    let wait = |e: &GraphError, remaining| next_wait(&s, 1, e, remaining, 0.5);
    assert_eq!(wait(&api(429, Some(200 * MS)), long), Some(200 * MS));
    assert_eq!(
        wait(&api(503, Some(Duration::ZERO)), long),
        Some(Duration::ZERO)
    );
    assert_eq!(
        wait(&api(429, Some(Duration::from_secs(6))), long),
        None,
        "over the cap"
    );
    assert_eq!(
        wait(
            &api(429, Some(Duration::from_secs(2))),
            Duration::from_secs(1)
        ),
        None,
        "past the deadline"
    );
    assert_eq!(
        wait(&api(500, None), long),
        Some(s.base_delay / 2),
        "no Retry-After: backoff"
    );
    assert_eq!(
        wait(&api(500, None), Duration::ZERO),
        None,
        "backoff past the deadline"
    );
}

#[test]
fn invitations_repeat_only_when_graph_did_not_act() {
    let post = Replay::OnlyIfNotActed {
        replication_lag: false,
    };
    let cases = [
        (api(429, None), false, true),
        (api(503, None), false, true),
        (transport(false), false, true),
        (
            GraphError::Token {
                status: 503,
                error: "temporarily_unavailable".into(),
                codes: vec![],
            },
            false,
            true,
        ),
        (api(500, None), false, false),
        (api(502, None), false, false),
        (api(504, None), false, false),
        (transport(true), false, false),
        (GraphError::Decode("eof".into()), true, false),
        (api(400, None), false, false),
        (api(403, None), false, false),
        (
            GraphError::Token {
                status: 401,
                error: "invalid_client".into(),
                codes: vec![7000215],
            },
            false,
            false,
        ),
        (GraphError::CircuitOpen { retry_after: MS }, false, false),
    ];
    for (error, truncated, expected) in cases {
        assert_eq!(
            may_retry(post, &error, truncated),
            expected,
            "POST after {error:?}"
        );
    }
}

#[test]
fn reads_also_repeat_unknown_outcomes() {
    let read = Replay::Idempotent;
    for error in [
        api(500, None),
        api(502, None),
        api(504, None),
        transport(true),
        api(429, None),
    ] {
        assert!(may_retry(read, &error, false), "GET after {error:?}");
    }
    assert!(
        may_retry(read, &GraphError::Decode("eof".into()), true),
        "truncated body"
    );
    for error in [
        GraphError::Decode("bad type".into()),
        api(501, None),
        api(404, None),
        api(400, None),
    ] {
        assert!(!may_retry(read, &error, false), "GET after {error:?}");
    }
}

#[test]
fn replication_lag_is_a_400_with_that_text_and_only_retried_when_flagged() {
    assert!(is_replication_lag(&lag(LAG)));
    assert!(is_replication_lag(&lag(
        "The email you\u{2019}re using … doesn\u{2019}t MATCH ANY EMAILS on the user object"
    )));
    assert!(!is_replication_lag(&lag("Invalid redirect URL")));
    assert!(!is_replication_lag(&api(403, None)));
    let flagged = Replay::OnlyIfNotActed {
        replication_lag: true,
    };
    let plain = Replay::OnlyIfNotActed {
        replication_lag: false,
    };
    // The lag 400 has its own schedule, outside the generic attempt cap.
    assert!(!may_retry(flagged, &lag(LAG), false));
    assert!(lag_retry(flagged, &lag(LAG)));
    assert!(!lag_retry(plain, &lag(LAG)));
    assert!(!lag_retry(flagged, &lag("Invalid redirect URL")));
    assert!(!lag_retry(Replay::Idempotent, &lag(LAG)));
}

#[test]
fn lag_waits_grow_never_reach_zero_and_stop_at_the_deadline() {
    let settings = RetrySettings::default();
    let long = Duration::from_secs(60);
    let waits: Vec<_> = (1..=5)
        .map(|n| lag_wait(&settings, n, long, 0.0).unwrap())
        .collect();
    assert_eq!(
        waits[0],
        settings.lag_base / 2,
        "half of it is never jittered away"
    );
    assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
    assert_eq!(waits[4], settings.lag_max / 2, "capped");
    let within: Duration = (1..=4)
        .map(|n| lag_wait(&settings, n, long, 0.0).unwrap())
        .sum();
    assert!(
        within > Duration::from_millis(1500),
        "even the shortest waits ride out a 1.5 s lag in 5 attempts: {within:?}"
    );
    assert_eq!(lag_wait(&settings, 1, Duration::from_millis(10), 0.5), None);
}

#[test]
fn only_graph_trouble_counts_towards_the_breaker() {
    for error in [
        api(500, None),
        api(503, None),
        api(504, None),
        transport(true),
        transport(false),
    ] {
        assert!(is_trouble(&error, false), "{error:?}");
    }
    assert!(is_trouble(&GraphError::Decode("eof".into()), true));
    for error in [
        api(400, None),
        api(404, None),
        api(429, None),
        GraphError::Decode("type".into()),
    ] {
        assert!(!is_trouble(&error, false), "{error:?}");
    }
}
