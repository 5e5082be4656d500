//! The worker pool for queued resets: a fixed number of workers take them
//! oldest first, run them with the same flow as synchronous ones, and hand
//! finished webhook resets to the result callbacks. On shutdown a worker
//! finishes the reset it holds and takes no other.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::callback::Callbacks;
use crate::config::{Config, WebhookSource};
use crate::reset::ResetService;

/// Everything that runs besides the HTTP server: the queue workers, the
/// callback sender, and the purge of old delivery ids.
pub struct Background {
    pool: Pool,
    others: Vec<JoinHandle<()>>,
}

impl Background {
    /// `wake` is notified whenever a reset is queued; `sources` are the
    /// webhook sources the callbacks answer.
    pub fn start(
        config: &Config,
        resets: Arc<ResetService>,
        store: crate::store::Store,
        wake: Arc<Notify>,
        sources: Arc<Vec<WebhookSource>>,
    ) -> anyhow::Result<Background> {
        let notifier = resets.notifier().cloned();
        let callbacks = Callbacks::new(store.clone(), &config.webhooks, sources, notifier)?;
        let callbacks = Arc::new(callbacks);
        let pool = Pool::start(
            config.webhooks.workers,
            idle(&store),
            resets,
            wake,
            Arc::clone(&callbacks),
        );
        let mut others = Vec::new();
        if callbacks.any() {
            others.push(tokio::spawn(callbacks.run()));
        }
        Ok(Background { pool, others })
    }

    /// Stop taking queued work, let running resets finish, stop the rest
    /// (undelivered callbacks stay scheduled in the store).
    pub async fn stop(self, limit: Duration) {
        self.pool.stop(limit).await;
        for task in self.others {
            task.abort();
        }
    }
}

/// How long an idle worker sleeps without being woken. Workers look at the
/// queue when they start (work from before a restart) and are woken for each
/// new entry, so this is only a safety net.
const IDLE: Duration = Duration::from_secs(30);

/// With several replicas on PostgreSQL, a reset queued on one wakes only
/// that one's workers; the others look at the queue this often. A short poll
/// rather than LISTEN/NOTIFY: LISTEN holds a connection of its own outside
/// the pool (PgBouncer's transaction mode drops it), and an empty-queue
/// check on an indexed table is one cheap query per second per replica.
const POLL_ACROSS_REPLICAS: Duration = Duration::from_secs(1);

fn idle(store: &crate::store::Store) -> Duration {
    match store.backend() {
        crate::store::Backend::Sqlite => IDLE,
        crate::store::Backend::Postgres => POLL_ACROSS_REPLICAS,
    }
}
/// The pause after the store failed, before trying again.
const BACKOFF: Duration = Duration::from_secs(1);

struct Pool {
    stop: Arc<AtomicBool>,
    wake: Arc<Notify>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    fn start(
        n: usize,
        idle: Duration,
        resets: Arc<ResetService>,
        wake: Arc<Notify>,
        callbacks: Arc<Callbacks>,
    ) -> Pool {
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..n)
            .map(|_| {
                let (resets, wake, stop, callbacks) = (
                    Arc::clone(&resets),
                    Arc::clone(&wake),
                    Arc::clone(&stop),
                    Arc::clone(&callbacks),
                );
                tokio::spawn(work(resets, wake, stop, callbacks, idle))
            })
            .collect();
        Pool {
            stop,
            wake,
            workers,
        }
    }

    /// Let running resets finish (within `limit`); take no new ones.
    async fn stop(self, limit: Duration) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
        let all = futures_all(self.workers);
        if tokio::time::timeout(limit, all).await.is_err() {
            tracing::warn!(
                "queue workers still busy at shutdown; reconciliation will settle their resets"
            );
        }
    }
}

async fn futures_all(handles: Vec<JoinHandle<()>>) {
    for handle in handles {
        let _ = handle.await;
    }
}

async fn work(
    resets: Arc<ResetService>,
    wake: Arc<Notify>,
    stop: Arc<AtomicBool>,
    callbacks: Arc<Callbacks>,
    idle: Duration,
) {
    loop {
        // Registered before the stop flag and the queue are looked at, so a
        // wake-up (a new entry, or shutdown's notify_waiters) in between is
        // not missed and waited out for IDLE.
        let woken = wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if stop.load(Ordering::SeqCst) {
            return;
        }
        // While a tenant's Graph circuit is open, its queued work stays
        // queued (durably, and a restart keeps it) instead of failing, and
        // the other tenants' work goes on; when every circuit is open, wait
        // for the first trial.
        let (paused, all_wait) = resets.paused_tenants();
        if let Some(wait) = all_wait {
            let _ = tokio::time::timeout(wait.min(idle), woken).await;
            continue;
        }
        match resets.run_next(&paused).await {
            // Only a final record goes back; one now awaiting approval comes
            // through the queue again once approved.
            Ok(Some((Some(record), Some(source)))) if !record.status.is_open() => {
                callbacks.schedule(&record.id, &source).await
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                let _ = tokio::time::timeout(idle, woken).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot take queued work");
                tokio::time::sleep(BACKOFF).await;
            }
        }
    }
}
