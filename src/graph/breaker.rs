//! Circuit breaker for outages, not noise (the model of resilience4j's
//! time-based sliding window and Polly's advanced breaker): it opens when
//! the share of *logical* calls that failed with Graph trouble (5xx,
//! timeouts, connect errors; never a 429, which `Retry-After` handles)
//! reaches `failure_rate` over the last `window`, once at least `min_calls`
//! calls were made in it. Open, calls fail fast (or wait, for callers that
//! can) for `cooldown`; then one trial call decides whether to close again.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// When the breaker opens, and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerSettings {
    /// Share of failed calls in the window that opens the circuit (0..=1).
    pub failure_rate: f64,
    /// Fewer calls than this in the window never open it.
    pub min_calls: u32,
    pub window: Duration,
    pub cooldown: Duration,
}

impl Default for BreakerSettings {
    fn default() -> BreakerSettings {
        BreakerSettings {
            failure_rate: 0.5,
            min_calls: 20,
            window: Duration::from_secs(30),
            cooldown: Duration::from_secs(30),
        }
    }
}

/// The window is kept as this many buckets (counts, not calls).
const BUCKETS: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    /// One trial call is out; everyone else is refused. A trial that never
    /// reports (its caller was dropped) is replaced after another cooldown,
    /// so the breaker cannot stick half-open.
    HalfOpen {
        trial_since: Instant,
    },
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    start: Instant,
    calls: u32,
    failures: u32,
}

struct Inner {
    state: State,
    buckets: VecDeque<Bucket>,
}

/// Shared by all clones of a `GraphClient`.
pub(crate) struct Breaker {
    settings: BreakerSettings,
    inner: Mutex<Inner>,
}

impl Breaker {
    pub(crate) fn new(settings: BreakerSettings) -> Breaker {
        let inner = Inner {
            state: State::Closed,
            buckets: VecDeque::new(),
        };
        Breaker {
            settings,
            inner: Mutex::new(inner),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Ok` when a logical call may go out now (possibly as the trial);
    /// otherwise how long until a trial may.
    pub(crate) fn admit(&self, now: Instant) -> Result<(), Duration> {
        let mut inner = self.lock();
        let wait = self.refusal(inner.state, now);
        if wait.is_none() && inner.state != State::Closed {
            inner.state = State::HalfOpen { trial_since: now };
        }
        wait.map_or(Ok(()), Err)
    }

    /// How long until [`Breaker::admit`] would let a call out; `None`: now.
    /// Admits nothing (a waiting worker must not use up the trial).
    pub(crate) fn wait(&self, now: Instant) -> Option<Duration> {
        self.refusal(self.lock().state, now)
    }

    fn refusal(&self, state: State, now: Instant) -> Option<Duration> {
        match state {
            State::Closed => None,
            State::Open { until } => (now < until).then(|| until - now),
            State::HalfOpen { trial_since } => {
                let next = trial_since + self.settings.cooldown;
                (now < next).then(|| next - now)
            }
        }
    }

    /// Whether calls are being refused (open, or half-open with a trial out).
    pub(crate) fn is_open(&self) -> bool {
        self.lock().state != State::Closed
    }

    /// Report an admitted logical call's outcome; `trouble` as in
    /// `retry::is_trouble`. Returns true when this report opened the circuit.
    pub(crate) fn record(&self, trouble: bool, now: Instant) -> bool {
        let mut inner = self.lock();
        match (inner.state, trouble) {
            (State::Closed, _) => {
                self.count(&mut inner.buckets, trouble, now);
                if !self.tripped(&inner.buckets) {
                    return false;
                }
            }
            (_, false) => {
                // The trial (or a call admitted before the circuit opened) got
                // through: start afresh.
                inner.state = State::Closed;
                inner.buckets.clear();
                return false;
            }
            (State::Open { .. }, true) => return false,
            (State::HalfOpen { .. }, true) => {}
        }
        inner.state = State::Open {
            until: now + self.settings.cooldown,
        };
        inner.buckets.clear();
        true
    }

    fn count(&self, buckets: &mut VecDeque<Bucket>, trouble: bool, now: Instant) {
        let width = (self.settings.window / BUCKETS).max(Duration::from_millis(1));
        while buckets
            .front()
            .is_some_and(|b| now.saturating_duration_since(b.start) >= self.settings.window)
        {
            buckets.pop_front();
        }
        let current = buckets
            .back_mut()
            .filter(|b| now.saturating_duration_since(b.start) < width);
        let bucket = match current {
            Some(bucket) => bucket,
            None => {
                buckets.push_back(Bucket {
                    start: now,
                    calls: 0,
                    failures: 0,
                });
                let Some(bucket) = buckets.back_mut() else {
                    return;
                };
                bucket
            }
        };
        bucket.calls += 1;
        bucket.failures += u32::from(trouble);
    }

    fn tripped(&self, buckets: &VecDeque<Bucket>) -> bool {
        let (calls, failures) = buckets
            .iter()
            .fold((0u32, 0u32), |(c, f), b| (c + b.calls, f + b.failures));
        calls >= self.settings.min_calls.max(1)
            && f64::from(failures) >= self.settings.failure_rate * f64::from(calls)
    }
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
