//! Leases. A row a process drives (`pending`, `running`) carries its owner
//! and an expiry the owner renews; a row whose lease ran out belongs to a
//! process that died, and whichever replica sees it reconciles it. A
//! periodic job (reconciliation, the grace-period re-read, purges, callback
//! retries) runs on one replica at a time through a row in `job_leases`
//! whose epoch grows with each new holder: a holder's writes check their
//! epoch (a fencing number), so a replica that paused past its lease cannot
//! act on a job another one took over. No session-level advisory lock: those
//! belong to a connection, and pools and PgBouncer move connections.

use sqlx::{AnyConnection, Row};
use tracing::instrument;

use super::{Backend, Store, StoreError, row};
use crate::record::{ResetRecord, Status, format_timestamp, now_rfc3339};

/// A periodic job held by this replica until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub owner: String,
    pub epoch: i64,
}

impl Store {
    /// Push the expiry of every row this process drives; one statement per
    /// replica, however many resets are in flight.
    #[instrument(skip_all)]
    pub async fn renew_row_leases(&self) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "update resets set lease_expires_at = $2 \
             where lease_owner = $1 and status in ('pending', 'running')",
        )
        .bind(&self.holder.owner)
        .bind(self.holder.expires_at())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    /// SQLite is one process's file: at start-up every lease of an earlier
    /// process is void at once (on PostgreSQL another replica may be alive,
    /// so its rows wait for their leases to run out).
    pub async fn void_foreign_leases(&self) -> Result<u64, StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        let done = sqlx::query(
            "update resets set lease_expires_at = null \
             where status in ('pending', 'running') and lease_owner is distinct from $1",
        )
        .bind(&self.holder.owner)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    /// Rows in `pending` or `running` whose lease ran out at `now`.
    #[instrument(skip_all)]
    pub async fn lease_expired(
        &self,
        now: &str,
        limit: u32,
    ) -> Result<Vec<ResetRecord>, StoreError> {
        self.due(row::SELECT_LEASE_EXPIRED, now, limit).await
    }

    /// Let go of this process's periodic-job leases (at shutdown, after
    /// its sweeps stopped): another replica, or this one restarted, takes
    /// them at its next tick instead of waiting them out. They expire rather
    /// than vanish, so their epochs keep counting up (the fence).
    pub async fn release_job_leases(&self) -> Result<(), StoreError> {
        sqlx::query("update job_leases set expires_at = $2 where owner = $1")
            .bind(&self.holder.owner)
            .bind(crate::record::now_rfc3339())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Take or keep the job `name` for `ttl`: the lease when this replica
    /// holds it now (its epoch grows only when the holder changes).
    #[instrument(skip_all, fields(job = name))]
    pub async fn hold_job(
        &self,
        name: &str,
        ttl: std::time::Duration,
    ) -> Result<Option<Lease>, StoreError> {
        let now = time::OffsetDateTime::now_utc();
        let ttl = time::Duration::try_from(ttl).unwrap_or(time::Duration::MINUTE);
        let held = sqlx::query(
            "insert into job_leases (name, owner, epoch, expires_at) values ($1, $2, 1, $3) \
             on conflict (name) do update set owner = excluded.owner, \
                 epoch = case when job_leases.owner = excluded.owner \
                         then job_leases.epoch else job_leases.epoch + 1 end, \
                 expires_at = excluded.expires_at \
             where job_leases.owner = excluded.owner or job_leases.expires_at < $4 \
             returning epoch",
        )
        .bind(name)
        .bind(&self.holder.owner)
        .bind(format_timestamp(now + ttl))
        .bind(format_timestamp(now))
        .fetch_optional(&self.writer)
        .await?;
        Ok(match held {
            Some(r) => Some(Lease {
                name: name.to_owned(),
                owner: self.holder.owner.clone(),
                epoch: r.try_get(0)?,
            }),
            None => None,
        })
    }

    /// A job's compare-and-set on a reset's row, fenced by its lease: written
    /// only while `lease` is still the job's current holder and epoch.
    #[instrument(skip_all, fields(reset_id = %record.id, job = %lease.name, epoch = lease.epoch))]
    pub async fn update_fenced(
        &self,
        record: &ResetRecord,
        from: Status,
        lease: &Lease,
    ) -> Result<bool, StoreError> {
        let actor = super::chain::service(&self.holder.owner);
        let write = super::chain::reset_write(record.clone(), Some(from), actor)?;
        let (lease, holder) = (lease.clone(), self.holder.clone());
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    if !fence(conn, &lease).await? {
                        return Ok(false);
                    }
                    super::chain::update_write(conn, write, from, &holder).await
                })
            })
            .await
    }
}

/// Inside a write's transaction: is `lease` still the job's holder? The
/// no-op update takes the lease row's lock until the commit, so a new holder
/// cannot take the job between this check and the write.
pub(super) async fn fence(conn: &mut AnyConnection, lease: &Lease) -> Result<bool, sqlx::Error> {
    let held = sqlx::query(
        "update job_leases set epoch = epoch where name = $1 and owner = $2 and epoch = $3 \
         and expires_at >= $4",
    )
    .bind(&lease.name)
    .bind(&lease.owner)
    .bind(lease.epoch)
    .bind(now_rfc3339())
    .execute(conn)
    .await?;
    Ok(held.rows_affected() == 1)
}
