//! The store as the Graph client's budget ledger: with several replicas on
//! PostgreSQL, every replica counts its sends in one log, so together they
//! stay within the limits Graph counts per tenant and per app. The Graph
//! client knows only the trait and the store knows nothing of Graph; this
//! is where the two meet.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;

use crate::graph::BudgetLedger;
use crate::store::{Backend, Store};

/// Where the Graph budgets are counted: on PostgreSQL in the store, by
/// every replica together. SQLite is one process's file, so its in-memory
/// log is the whole truth, and a write per Graph call would only queue
/// behind the audit's group commit.
pub fn for_store(store: &Store) -> Option<Arc<dyn BudgetLedger>> {
    match store.backend() {
        Backend::Postgres => Some(Arc::new(StoreLedger(store.clone()))),
        Backend::Sqlite => None,
    }
}

pub struct StoreLedger(pub Store);

impl BudgetLedger for StoreLedger {
    fn take(
        &self,
        key: String,
        share: u32,
        window: Duration,
        bulk: bool,
    ) -> BoxFuture<'static, Result<Option<Duration>, String>> {
        let store = self.0.clone();
        async move { store.take_budget(&key, share, window, bulk).await }
            .map(|r| r.map_err(|e| e.to_string()))
            .boxed()
    }

    fn cool(&self, key: String, hold: Duration) -> BoxFuture<'static, Result<(), String>> {
        let store = self.0.clone();
        async move { store.cool_budget(&key, hold).await }
            .map(|r| r.map_err(|e| e.to_string()))
            .boxed()
    }
}
