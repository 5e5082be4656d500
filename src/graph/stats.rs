//! Counters for later metrics: cheap atomics, read as one snapshot.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What the client has done since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphStats {
    /// Logical calls (one per client method invocation, pages counted apiece).
    pub calls: u64,
    /// Requests actually started towards Graph.
    pub attempts: u64,
    /// Attempts repeated after a backoff or `Retry-After` wait.
    pub retries: u64,
    /// 429 answers from Graph.
    pub throttled: u64,
    /// Token renewals forced by a 401 from Graph.
    pub token_refreshes: u64,
    /// Times the circuit breaker opened.
    pub circuit_opened: u64,
    /// Calls refused without sending because the circuit was open.
    pub circuit_rejected: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) calls: AtomicU64,
    pub(crate) attempts: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) throttled: AtomicU64,
    pub(crate) token_refreshes: AtomicU64,
    pub(crate) circuit_opened: AtomicU64,
    pub(crate) circuit_rejected: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> GraphStats {
        GraphStats {
            calls: self.calls.load(Relaxed),
            attempts: self.attempts.load(Relaxed),
            retries: self.retries.load(Relaxed),
            throttled: self.throttled.load(Relaxed),
            token_refreshes: self.token_refreshes.load(Relaxed),
            circuit_opened: self.circuit_opened.load(Relaxed),
            circuit_rejected: self.circuit_rejected.load(Relaxed),
        }
    }
}
