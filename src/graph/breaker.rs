//! Circuit breaker: after `threshold` consecutive failures that point at
//! Graph trouble, calls fail fast for `cooldown` instead of piling onto an
//! unhealthy upstream; then one trial call decides whether to close again.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One trial call is out; everyone else fails fast. A trial that never
    /// reports (its caller was dropped) is replaced after another cooldown,
    /// so the breaker cannot stick half-open.
    HalfOpen {
        trial_since: Instant,
    },
}

/// Shared by all clones of a `GraphClient`.
pub(crate) struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// `Ok` when a call may go out now; otherwise how long until a trial.
    pub(crate) fn admit(&self, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match *state {
            State::Closed { .. } => Ok(()),
            State::Open { until } if now < until => Err(until - now),
            State::HalfOpen { trial_since } if now < trial_since + self.cooldown => {
                Err(trial_since + self.cooldown - now)
            }
            State::Open { .. } | State::HalfOpen { .. } => {
                *state = State::HalfOpen { trial_since: now };
                Ok(())
            }
        }
    }

    /// Whether calls are being refused (open, or half-open with a trial out).
    pub(crate) fn is_open(&self) -> bool {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        !matches!(*state, State::Closed { .. })
    }

    /// Report an admitted call's outcome; `trouble` as in `retry::is_trouble`.
    /// Returns true when this report opened the circuit.
    pub(crate) fn record(&self, trouble: bool, now: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let next = match (*state, trouble) {
            (_, false) => State::Closed { failures: 0 },
            (State::Closed { failures }, true) if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            (_, true) => State::Open {
                until: now + self.cooldown,
            },
        };
        let opened = matches!(next, State::Open { .. }) && !matches!(*state, State::Open { .. });
        *state = next;
        opened
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL: Duration = Duration::from_secs(10);

    fn failing(b: &Breaker, now: Instant, n: u32) {
        for _ in 0..n {
            assert_eq!(b.admit(now), Ok(()));
            b.record(true, now);
        }
    }

    #[test]
    fn opens_after_threshold_consecutive_failures_only() {
        let (b, t0) = (Breaker::new(3, COOL), Instant::now());
        failing(&b, t0, 2);
        b.record(false, t0); // an answer in between resets the count
        failing(&b, t0, 2);
        assert_eq!(b.admit(t0), Ok(()), "2 consecutive failures keep it closed");
        assert!(b.record(true, t0), "the third consecutive failure opens it");
        assert_eq!(
            b.admit(t0 + Duration::from_secs(4)),
            Err(Duration::from_secs(6))
        );
    }

    #[test]
    fn after_cooldown_exactly_one_trial_goes_out() {
        let (b, t0) = (Breaker::new(1, COOL), Instant::now());
        failing(&b, t0, 1);
        let later = t0 + COOL;
        assert_eq!(b.admit(later), Ok(()), "trial admitted");
        assert!(b.admit(later).is_err(), "second caller waits for the trial");
        b.record(false, later);
        assert_eq!(b.admit(later), Ok(()), "successful trial closes");
        assert_eq!(b.admit(later), Ok(()));
    }

    #[test]
    fn failed_trial_reopens_for_a_full_cooldown() {
        let (b, t0) = (Breaker::new(1, COOL), Instant::now());
        failing(&b, t0, 1);
        let later = t0 + COOL;
        assert_eq!(b.admit(later), Ok(()));
        assert!(b.record(true, later), "a failed trial opens it again");
        assert_eq!(
            b.admit(later + Duration::from_secs(1)),
            Err(Duration::from_secs(9))
        );
    }

    #[test]
    fn abandoned_trial_is_replaced_after_another_cooldown() {
        let (b, t0) = (Breaker::new(1, COOL), Instant::now());
        failing(&b, t0, 1);
        assert_eq!(
            b.admit(t0 + COOL),
            Ok(()),
            "trial whose caller never reports"
        );
        assert!(b.admit(t0 + COOL + Duration::from_secs(9)).is_err());
        assert_eq!(b.admit(t0 + COOL * 2), Ok(()), "a new trial");
    }
}
