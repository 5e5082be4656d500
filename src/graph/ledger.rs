//! Budgets several replicas share. Graph counts a tenant's invitations (and
//! an app's user writes) across every process that sends them, so with two
//! replicas each counting alone, each would send the whole limit and
//! together twice it. A [`BudgetLedger`] (the store, on PostgreSQL) keeps
//! the log of sends and the cool-down where every replica sees them; the
//! client knows it only through this trait.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::time::Instant;

/// Where the sends of a budget are counted when replicas share it.
pub trait BudgetLedger: Send + Sync {
    /// Record one send against budget `key` when fewer than `share` were
    /// recorded in the last `window`; otherwise `Some(wait)`: how long
    /// until a slot opens. `bulk` work also waits out a cool-down. `Err`:
    /// the ledger could not be reached (why, for the log).
    fn take(
        &self,
        key: String,
        share: u32,
        window: Duration,
        bulk: bool,
    ) -> BoxFuture<'static, Result<Option<Duration>, String>>;

    /// Hold bulk work back on every replica for `hold` from now.
    fn cool(&self, key: String, hold: Duration) -> BoxFuture<'static, Result<(), String>>;
}

/// A budget's place in the shared ledger.
#[derive(Clone)]
pub(super) struct Shared {
    pub(super) ledger: Arc<dyn BudgetLedger>,
    pub(super) key: String,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("key", &self.key).finish()
    }
}

impl Shared {
    /// A slot from the ledger, waiting for one until `deadline`: `Some(true)`
    /// taken, `Some(false)` none in time (nothing was sent), `None` the
    /// ledger is unreachable and the replica has to count alone.
    pub(super) async fn take(
        &self,
        share: u32,
        window: Duration,
        bulk: bool,
        deadline: Instant,
    ) -> Option<bool> {
        loop {
            let asked = self
                .ledger
                .take(self.key.clone(), share, window, bulk)
                .await;
            let wait = match asked {
                Ok(None) => return Some(true),
                Ok(Some(wait)) => wait,
                Err(e) => {
                    tracing::warn!(budget = %self.key, error = %e, "shared Graph budget unreachable; this replica counts alone");
                    return None;
                }
            };
            let at = Instant::now() + wait;
            if at > deadline {
                return Some(false);
            }
            tokio::time::sleep_until(at).await;
        }
    }

    /// Tell every replica to hold bulk work back; best effort, in the
    /// background (this replica holds back at once through its own budget).
    pub(super) fn cool(&self, hold: Duration) {
        let cooled = self.ledger.cool(self.key.clone(), hold);
        let key = self.key.clone();
        tokio::spawn(async move {
            if let Err(e) = cooled.await {
                tracing::warn!(budget = %key, error = %e, "cannot share a Graph cool-down");
            }
        });
    }
}
