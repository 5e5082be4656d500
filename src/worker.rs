//! The worker pools for queued resets: a fixed number of workers take them
//! oldest first, run them with the same flow as synchronous ones, and hand
//! finished webhook resets to the result callbacks. Single resets and bulk
//! job items have pools of their own (`GUEST_RESET_WORKERS`,
//! `GUEST_RESET_JOB_WORKERS`): a job's items wait on Graph's budgets, and
//! must not keep a helpdesk's reset from a worker. On shutdown a worker
//! finishes the reset it holds and takes no other.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::callback::Callbacks;
use crate::config::{Config, WebhookSource};
use crate::reset::ResetService;
use crate::store;

/// Everything that runs besides the HTTP server: the queue workers, the
/// callback sender, and the purge of old delivery ids.
pub struct Background {
    pools: [Pool; 2],
    others: Vec<JoinHandle<()>>,
}

impl Background {
    /// `wake` is notified whenever a single reset is queued (`[0]`) and
    /// when a job's items are (`[1]`); `sources` are the webhook sources
    /// the callbacks answer.
    pub fn start(
        config: &Config,
        resets: Arc<ResetService>,
        store: crate::store::Store,
        wake: [Arc<Notify>; 2],
        sources: Arc<Vec<WebhookSource>>,
    ) -> anyhow::Result<Background> {
        let notifier = resets.notifier().cloned();
        let callbacks = Callbacks::new(store.clone(), &config.webhooks, sources, notifier)?;
        let callbacks = Arc::new(callbacks);
        let [single, bulk] = wake;
        let lane = |n, lane, wake| Lane {
            workers: n,
            lane,
            wake,
            idle: idle(&store),
        };
        let pools = [
            lane(config.webhooks.workers, store::Lane::Single, single),
            lane(config.reset.job_workers, store::Lane::Bulk, bulk),
        ]
        .map(|l| Pool::start(l, Arc::clone(&resets), Arc::clone(&callbacks)));
        let mut others = Vec::new();
        if callbacks.any() {
            others.push(tokio::spawn(callbacks.run()));
        }
        Ok(Background { pools, others })
    }

    /// Stop taking queued work, let running resets finish, stop the rest
    /// (undelivered callbacks stay scheduled in the store).
    pub async fn stop(self, limit: Duration) {
        let [single, bulk] = self.pools;
        tokio::join!(single.stop(limit), bulk.stop(limit));
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

/// What a pool of workers takes from the queue, and how many.
#[derive(Clone)]
struct Lane {
    workers: usize,
    lane: store::Lane,
    wake: Arc<Notify>,
    idle: Duration,
}

impl Pool {
    fn start(lane: Lane, resets: Arc<ResetService>, callbacks: Arc<Callbacks>) -> Pool {
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..lane.workers)
            .map(|_| {
                let (resets, stop, callbacks) = (
                    Arc::clone(&resets),
                    Arc::clone(&stop),
                    Arc::clone(&callbacks),
                );
                tokio::spawn(work(resets, lane.clone(), stop, callbacks))
            })
            .collect();
        Pool {
            stop,
            wake: lane.wake,
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
    lane: Lane,
    stop: Arc<AtomicBool>,
    callbacks: Arc<Callbacks>,
) {
    let (wake, idle) = (lane.wake, lane.idle);
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
        match resets.run_next(&paused, lane.lane).await {
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
