//! What the HTTP edge and the background tasks ask the use case besides
//! resets: readiness, the queue and circuit state for metrics and workers,
//! stored idempotent answers. They go through the use case, so nothing above
//! it holds the store or the Graph client (a second store backend changes
//! nothing here).

use std::time::Duration;

use super::ResetService;

/// One tenant's part of readiness.
#[derive(Debug)]
pub struct TenantHealth {
    pub name: String,
    pub token: Result<(), GraphError>,
    pub circuit_open: bool,
}
use crate::graph::GraphError;
use crate::store::{KeyClaim, KeyState, StoreError, StoredAnswer};

impl ResetService {
    /// Whether the audit store answers and, per tenant, whether a Graph
    /// token can be had (the cached one while valid, so probes do not hit
    /// the token endpoint) and its circuit is closed.
    pub async fn readiness(&self) -> (Result<(), StoreError>, Vec<TenantHealth>) {
        // Side by side: one tenant's slow token endpoint must not hold up
        // the others' answers.
        let mut probes = tokio::task::JoinSet::new();
        for (i, t) in self.tenants.iter().enumerate() {
            let t = std::sync::Arc::clone(t);
            probes.spawn(async move {
                let health = TenantHealth {
                    name: t.name.clone(),
                    token: t.graph.check_token().await,
                    circuit_open: t.graph.circuit_open(),
                };
                (i, health)
            });
        }
        let (db, mut done) = tokio::join!(self.store.ping(), probes.join_all());
        done.sort_by_key(|(i, _)| *i);
        (db, done.into_iter().map(|(_, h)| h).collect())
    }

    /// How many resets wait in the queue, and when the oldest was queued.
    pub async fn queue_summary(&self) -> Result<(u64, Option<String>), StoreError> {
        self.store.queue_summary().await
    }

    /// Each tenant's name and whether its circuit breaker is refusing calls.
    pub fn circuits_open(&self) -> Vec<(String, bool)> {
        self.tenants
            .iter()
            .map(|t| (t.name.clone(), t.graph.circuit_open()))
            .collect()
    }

    /// The tenants whose circuit is open (their queued work waits), and
    /// when every tenant is paused, how long until the first lets a call out.
    pub fn paused_tenants(&self) -> (Vec<String>, Option<Duration>) {
        let waits: Vec<_> = self
            .tenants
            .iter()
            .filter_map(|t| t.graph.circuit_wait().map(|w| (t.name.clone(), w)))
            .collect();
        let all = waits.len() == self.tenants.len();
        let soonest = waits.iter().map(|(_, w)| *w).min().filter(|_| all);
        (waits.into_iter().map(|(name, _)| name).collect(), soonest)
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
