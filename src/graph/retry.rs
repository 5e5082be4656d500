//! When a failed Graph attempt may be repeated, and how long to wait first.
//! Pure functions: the loop in `send.rs` does the waiting.

use std::time::Duration;

use super::GraphError;
use super::breaker::BreakerSettings;

/// Retries, deadline, concurrency limit and circuit breaker towards Graph.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySettings {
    /// Attempts per logical call, the first one included (a 401 token
    /// refresh is not counted).
    pub max_attempts: u32,
    /// Full-jitter backoff: wait up to `base_delay · 2^retry`, at most `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A longer `Retry-After` is not waited for: the call fails at once and
    /// the caller passes the wait on.
    pub max_retry_after: Duration,
    /// The whole logical call, retries included; keep it below the inbound
    /// request timeout.
    pub deadline: Duration,
    /// Graph requests in flight at once (attempts, not logical calls).
    pub max_concurrency: usize,
    /// When the circuit opens (a failure rate over a window) and for how long.
    pub breaker: BreakerSettings,
    /// `POST /invitations` sent per window at most (Graph's per-tenant limit).
    pub invitations: super::BudgetSettings,
    /// User writes (`PATCH /users`) per window at most (per app and tenant).
    pub user_writes: super::BudgetSettings,
    /// The replication-lag schedule (after adding the email, Graph's "doesn't
    /// match any emails" 400): waits from `lag_base`, doubling up to
    /// `lag_max`, for as long as the deadline allows; not capped by
    /// `max_attempts`, since lag of several seconds is normal.
    pub lag_base: Duration,
    pub lag_max: Duration,
}

impl Default for RetrySettings {
    fn default() -> RetrySettings {
        RetrySettings {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            deadline: Duration::from_secs(25),
            max_concurrency: 16,
            breaker: BreakerSettings::default(),
            invitations: super::BudgetSettings::default(),
            user_writes: super::BudgetSettings::user_writes(),
            lag_base: Duration::from_millis(250),
            lag_max: Duration::from_secs(2),
        }
    }
}

/// How safe it is to send a request again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Repeating has the effect of sending once: reads, and the PATCH that
    /// sets the whole `otherMails` list.
    Idempotent,
    /// `POST /invitations`: a second send may reset (and mail) twice, so it
    /// is repeated only when Graph demonstrably did not act.
    /// `replication_lag`: the email was just written to the user.
    OnlyIfNotActed { replication_lag: bool },
}

/// Whether the attempt that failed with `error` may be repeated (the
/// replication-lag 400 has its own schedule: [`lag_retry`]).
/// `truncated`: a 2xx body that ended mid-JSON.
pub(crate) fn may_retry(replay: Replay, error: &GraphError, truncated: bool) -> bool {
    not_acted(error)
        || match replay {
            Replay::Idempotent => transient(error, truncated),
            Replay::OnlyIfNotActed { .. } => false,
        }
}

/// Whether `error` is the replication-lag 400 right after the email was
/// added, which is repeated on the lag schedule.
pub(crate) fn lag_retry(replay: Replay, error: &GraphError) -> bool {
    matches!(
        replay,
        Replay::OnlyIfNotActed {
            replication_lag: true
        }
    ) && is_replication_lag(error)
}

/// The wait before lag retry number `retry` (1-based): `base · 2^(retry-1)`
/// up to `max`, with half of it jittered (the write needs time to spread,
/// so never a zero wait); `None` when it would end past the deadline.
pub(crate) fn lag_wait(
    settings: &RetrySettings,
    retry: u32,
    remaining: Duration,
    unit: f64,
) -> Option<Duration> {
    let ceiling = backoff(retry, settings.lag_base, settings.lag_max, 1.0);
    let wait = ceiling / 2 + (ceiling / 2).mul_f64(unit.clamp(0.0, 1.0));
    (wait < remaining).then_some(wait)
}

/// Graph refused before doing anything (throttled, overloaded), or the
/// request never reached it (connect error, token endpoint trouble).
fn not_acted(error: &GraphError) -> bool {
    match error {
        GraphError::Api {
            status: 429 | 503, ..
        } => true,
        GraphError::Transport { maybe_sent, .. } => !maybe_sent,
        GraphError::Token { status, .. } => *status == 429 || *status >= 500,
        _ => false,
    }
}

/// Failures a repeat may cure, where the first attempt may have acted.
fn transient(error: &GraphError, truncated: bool) -> bool {
    match error {
        GraphError::Api { status, .. } => *status >= 500 && *status != 501,
        GraphError::Transport { .. } => true,
        GraphError::Decode(_) => truncated,
        _ => false,
    }
}

/// The documented exception to "never branch on Graph's message" (graph.md
/// §3.1): right after a PATCH of `otherMails`, the reset can fail with 400
/// "The email you're using to invite this user doesn't match any emails on
/// the user object" until the write has replicated (§8 pitfalls 1 and 6).
/// Its code is the generic `BadRequest`, so only the text tells it apart.
/// Keep this the only place that reads `message`.
pub(crate) fn is_replication_lag(error: &GraphError) -> bool {
    match error {
        GraphError::Api {
            status: 400,
            message,
            ..
        } => message.to_ascii_lowercase().contains("match any email"),
        _ => false,
    }
}

/// Whether an error means Graph (or the way to it) is in trouble; these
/// count towards opening the circuit. An answered 4xx or 429 does not.
pub(crate) fn is_trouble(error: &GraphError, truncated: bool) -> bool {
    match error {
        GraphError::Api { status, .. } | GraphError::Token { status, .. } => *status >= 500,
        GraphError::Transport { .. } => true,
        GraphError::Decode(_) => truncated,
        // Our own limits are not Graph's trouble.
        GraphError::CircuitOpen { .. } | GraphError::Budget { .. } | GraphError::Refused(_) => {
            false
        }
        // An answered throttle is Graph's limit, not its trouble.
        GraphError::ThrottledInBatch { .. } => false,
    }
}

/// How long to wait before retry number `retry` (1-based), or `None` to give
/// up now: Graph asked for more than we honour, or the wait would end past
/// the deadline (`remaining`). `unit` is a random number in [0, 1).
pub(crate) fn next_wait(
    settings: &RetrySettings,
    retry: u32,
    error: &GraphError,
    remaining: Duration,
    unit: f64,
) -> Option<Duration> {
    let wait = match error {
        GraphError::Api {
            retry_after: Some(asked),
            ..
        } if *asked > settings.max_retry_after => return None,
        GraphError::Api {
            retry_after: Some(asked),
            ..
        } => *asked,
        _ => backoff(retry, settings.base_delay, settings.max_delay, unit),
    };
    (wait < remaining).then_some(wait)
}

/// Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"):
/// uniform in [0, min(cap, base · 2^(retry-1))). Spreads the retries of
/// many callers instead of synchronising them.
pub(crate) fn backoff(retry: u32, base: Duration, cap: Duration, unit: f64) -> Duration {
    let ceiling = base
        .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
        .min(cap);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

/// A uniform random number in [0, 1) from the system RNG.
pub(crate) fn random_unit() -> f64 {
    let mut bytes = [0u8; 8];
    // A failed RNG only costs the jitter (the wait becomes 0), not the retry.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}
