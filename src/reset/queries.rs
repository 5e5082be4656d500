//! What the HTTP edge and the background tasks ask the use case besides
//! resets: readiness, the queue and circuit state for metrics and workers,
//! stored idempotent answers. They go through the use case, so nothing above
//! it holds the store or the Graph client (a second store backend changes
//! nothing here).

use std::time::Duration;

use super::ResetService;
use crate::graph::GraphError;
use crate::store::{KeyClaim, KeyState, StoreError, StoredAnswer};

impl ResetService {
    /// Whether the audit store answers and a Graph token can be had (the
    /// cached one while valid, so probes do not hit the token endpoint).
    pub async fn readiness(&self) -> (Result<(), StoreError>, Result<(), GraphError>) {
        tokio::join!(self.store.ping(), self.graph.check_token())
    }

    /// How many resets wait in the queue, and when the oldest was queued.
    pub async fn queue_summary(&self) -> Result<(u64, Option<String>), StoreError> {
        self.store.queue_summary().await
    }

    /// Whether the Graph circuit breaker is refusing calls.
    pub fn circuit_open(&self) -> bool {
        self.graph.circuit_open()
    }

    /// How long until the Graph circuit lets a call out; `None`: now.
    pub fn circuit_wait(&self) -> Option<Duration> {
        self.graph.circuit_wait()
    }

    /// The stored state of an `Idempotency-Key`.
    pub async fn idempotency_lookup(&self, claim: &KeyClaim) -> Result<KeyState, StoreError> {
        self.store.idempotency_lookup(claim).await
    }

    /// Keep the answer given for a key claimed by `reset_id`, to replay it.
    pub async fn idempotency_complete(
        &self,
        claim: &KeyClaim,
        reset_id: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        self.store
            .idempotency_complete(claim, reset_id, answer)
            .await
    }
}
