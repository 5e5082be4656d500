//! Periodic sweeps, each on one replica at a time through its lease row
//! (store/lease.rs), and the renewal of this replica's row leases.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::reset::ResetService;
use crate::store::{Lease, Store};

/// Delivery ids are kept this long: far beyond any timestamp tolerance, and
/// long enough to absorb a sender's retries.
const DELIVERY_RETENTION: time::Duration = time::Duration::hours(24);

/// Start every periodic task; abort the handles to stop them.
pub fn start(store: &Store, resets: &Arc<ResetService>, grace: Duration) -> Vec<JoinHandle<()>> {
    let ttl = store.lease_ttl();
    // Reconciliation looks three times per lease time, and its own lease is
    // one lease time: even when the replica that died also held this job,
    // its rows are settled within about one and a third lease times.
    let sweep_every = (ttl / 3).max(Duration::from_millis(250));
    let settle = (grace / 4).clamp(Duration::from_millis(250), Duration::from_secs(30));
    let purge_store = store.clone();
    vec![
        tokio::spawn(renew_row_leases(store.clone())),
        sweep(
            store,
            resets,
            ("reconcile", sweep_every),
            |r, lease| async move {
                let done = r.reconcile_expired(Some(&lease)).await;
                report(
                    done,
                    "reconciled resets whose owner stopped",
                    "reconciliation",
                );
            },
        ),
        sweep(store, resets, ("settle", settle), |r, lease| async move {
            let done = r.settle_due(Some(&lease)).await;
            report(
                done,
                "unknown resets read back",
                "reading back unknown resets",
            );
        }),
        // An expiry is a compare-and-set on the locked row: safe on any
        // replica; the lease only saves the others the work.
        sweep(store, resets, ("approvals", settle), |r, _| async move {
            let done = r.expire_approvals().await;
            report(done, "approvals expired", "expiring approvals");
        }),
        // Signing and pruning on one replica at a time: two signing the
        // same head would only keep the first, but pruning needs one view.
        sweep(
            store,
            resets,
            ("checkpoint", resets.checkpoint_every()),
            |r, _| async move {
                report(
                    r.sign_checkpoint()
                        .await
                        .map(|c| c.map(|c| c.size))
                        .map(drop),
                    "",
                    "signing an audit checkpoint",
                );
                report(
                    r.prune_audit().await,
                    "old audit events pruned behind a checkpoint",
                    "pruning the audit trail",
                );
            },
        ),
        tokio::spawn(leased(
            store.clone(),
            "purge",
            Duration::from_secs(600),
            move |_| purge(purge_store.clone()),
        )),
    ]
}

/// A periodic job of the use case, run with its lease held (see [`leased`]).
fn sweep<F, Fut>(
    store: &Store,
    resets: &Arc<ResetService>,
    (name, every): (&'static str, Duration),
    job: F,
) -> JoinHandle<()>
where
    F: Fn(Arc<ResetService>, Lease) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let resets = Arc::clone(resets);
    tokio::spawn(leased(store.clone(), name, every, move |lease| {
        job(Arc::clone(&resets), lease)
    }))
}

/// Log what a sweep did (nothing when it found nothing) or why it failed.
fn report<T, E>(outcome: Result<T, E>, did: &str, job: &str)
where
    T: Default + PartialEq + std::fmt::Debug,
    E: std::fmt::Display,
{
    match outcome {
        Ok(done) if done != T::default() => tracing::warn!(?done, "{did}"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "{job} failed"),
    }
}

/// Every `every`, take or keep the job's lease and run it while held. The
/// lease lasts three periods, so a holder that died is replaced within
/// about four, and one that is merely slow keeps it.
async fn leased<F, Fut>(store: Store, name: &'static str, every: Duration, job: F)
where
    F: Fn(Lease) -> Fut,
    Fut: Future<Output = ()>,
{
    let ttl = every * 3;
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match store.hold_job(name, ttl).await {
            Ok(Some(lease)) => job(lease).await,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, job = name, "cannot hold the job's lease"),
        }
    }
}

/// The leases on the rows this replica drives, renewed three times per
/// lease time: one statement, however many resets are in flight.
async fn renew_row_leases(store: Store) {
    let mut tick = tokio::time::interval(store.lease_ttl() / 3);
    loop {
        tick.tick().await;
        if let Err(e) = store.renew_row_leases().await {
            tracing::warn!(error = %e, "cannot renew this replica's row leases");
        }
    }
}

async fn purge(store: Store) {
    let now = time::OffsetDateTime::now_utc();
    let before = crate::record::format_timestamp(now - DELIVERY_RETENTION);
    match store.purge_deliveries(&before).await {
        Ok(n) => tracing::debug!(purged = n, "old webhook delivery ids removed"),
        Err(e) => tracing::warn!(error = %e, "could not purge webhook delivery ids"),
    }
    match store
        .purge_expired_keys(&crate::record::format_timestamp(now))
        .await
    {
        Ok(n) => tracing::debug!(purged = n, "expired idempotency keys removed"),
        Err(e) => tracing::warn!(error = %e, "could not purge idempotency keys"),
    }
}
