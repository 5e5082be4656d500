//! The audit store: SQLite (embedded, the default) or PostgreSQL (several
//! replicas), through sqlx. Knows nothing of HTTP or Graph. The backends'
//! differences (connections, durability, locking) live in `backend.rs`.

mod approvals;
mod backend;
mod batch;
mod budgets;
mod callbacks;
mod chain;
mod history;
mod idempotency;
mod job_moves;
mod jobs;
mod lease;
mod list;
mod queue;
mod row;
mod sessions;
mod settle;
mod trail;

use std::path::Path;

use sqlx::AnyPool;
use tracing::instrument;

use crate::record::{ProblemRecord, ResetRecord, Status};

use crate::config::Database;
pub use approvals::Act;
pub use backend::Backend;
pub use callbacks::{Attempt, DueCallback, NewNotification, Next, Payload};
pub use chain::{caller as caller_actor, service as service_actor};
pub use history::{HistoryQuery, StoredHistory};
pub use idempotency::{KeyClaim, KeyState, StoredAnswer};
pub use jobs::{JobCounts, StoredJob};
pub use lease::Lease;
pub use list::{ListFilter, MAX_LIMIT, Visible};
pub use queue::{Claimed, DeliveryClaim, Enqueued, Lane, QueueEntry};
pub use sessions::SessionKind;
pub use settle::Attempted;
pub use trail::StoredCheckpoint;

/// Errors of the audit store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot prepare the database path {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored row {id} is corrupt: {what}")]
    Corrupt { id: String, what: String },
    #[error("the group commit failed: {0}")]
    Commit(String),
    #[error("the audit store is closed")]
    Closed,
}

/// Handle to the audit database; cheap to clone. The same SQL runs on both
/// backends (sqlx's `Any` driver, `$N` placeholders, text timestamps and
/// integer flags); where the databases differ, [`Backend`] says which
/// statement to use.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Connections that write outside the request path (sweeps, purges).
    writer: AnyPool,
    reader: AnyPool,
    /// Every write during requests: a group commit on SQLite, a transaction
    /// of its own per write on PostgreSQL.
    batch: batch::Committer,
    /// The lease this process puts on the rows it drives.
    holder: row::Holder,
}

impl Store {
    /// Open (creating if needed) the SQLite database at `path` and migrate it.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        Store::connect(&Database::Sqlite(path.to_owned())).await
    }

    /// Connect to `database` and run its backend's migrations.
    #[instrument(skip_all, fields(backend = database.backend().as_str()))]
    pub async fn connect(database: &Database) -> Result<Store, StoreError> {
        let pools = backend::connect(database).await?;
        let batch = match pools.backend {
            Backend::Sqlite => batch::Committer::group(pools.writer.clone()),
            Backend::Postgres => batch::Committer::direct(pools.writer.clone()),
        };
        Ok(Store {
            backend: pools.backend,
            writer: pools.writer,
            reader: pools.reader,
            batch,
            holder: row::Holder {
                owner: format!("replica-{}", uuid::Uuid::new_v4().simple()),
                ttl: std::time::Duration::from_secs(30),
            },
        })
    }

    /// The same store, putting leases of `ttl` on the rows it drives: a
    /// replica that stops renewing them for that long is presumed dead.
    pub fn with_lease_ttl(mut self, ttl: std::time::Duration) -> Store {
        self.holder.ttl = ttl;
        self
    }

    /// This process's name on the leases it holds.
    pub fn owner(&self) -> &str {
        &self.holder.owner
    }

    pub fn lease_ttl(&self) -> std::time::Duration {
        self.holder.ttl
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Close every connection; on SQLite fold the WAL into the database
    /// first, so a stopped service leaves one self-contained file.
    pub async fn close(&self) {
        if self.backend == Backend::Sqlite
            && let Err(e) = sqlx::query("pragma wal_checkpoint(truncate)")
                .execute(&self.writer)
                .await
        {
            tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
        }
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Cheap liveness check for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&self.reader).await?;
        Ok(())
    }

    /// Record a new request. Committed (and fsynced) before this returns, so
    /// the row exists before any Graph call is made.
    #[instrument(skip_all, fields(reset_id = %record.id, status = record.status.as_str()))]
    pub async fn insert(&self, record: &ResetRecord) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        // The event is encoded here, in the caller's task, not in the writer.
        let actor = chain::caller(&record.requested_by);
        let write = chain::reset_write(record.clone(), None, actor)?;
        let holder = self.holder.clone();
        self.batch
            .write(move |conn| {
                Box::pin(async move { chain::insert_write(conn, write, &holder).await })
            })
            .await?;
        crate::metrics::store_write("insert", started.elapsed());
        Ok(())
    }

    #[instrument(skip_all, fields(reset_id = %id))]
    pub async fn get(&self, id: &str) -> Result<Option<ResetRecord>, StoreError> {
        let found = sqlx::query(row::SELECT_BY_ID)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        found.map(|r| row::from_row(&r)).transpose()
    }

    #[instrument(skip_all)]
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<ResetRecord>, StoreError> {
        let rows = list::query(filter).fetch_all(&self.reader).await?;
        rows.iter().map(row::from_row).collect()
    }

    /// How many resets wait in the queue, and when the oldest was queued.
    pub async fn queue_summary(&self) -> Result<(u64, Option<String>), StoreError> {
        let (count, oldest): (i64, Option<String>) =
            sqlx::query_as("select count(*), min(enqueued_at) from reset_queue")
                .fetch_one(&self.reader)
                .await?;
        Ok((u64::try_from(count).unwrap_or(0), oldest))
    }
}

/// Whether `database` answers, without migrating it (for `doctor`).
pub async fn probe(database: &Database) -> Result<String, StoreError> {
    sqlx::any::install_default_drivers();
    let Database::Postgres(url) = database else {
        return Ok(database.describe());
    };
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(
        secrecy::ExposeSecret::expose_secret(url),
    )
    .await?;
    let migrated: i64 = sqlx::query_scalar(
        "select count(*) from information_schema.tables where table_name = '_sqlx_migrations'",
    )
    .fetch_one(&mut conn)
    .await?;
    Ok(format!(
        "{} answers; {}",
        database.describe(),
        match migrated {
            0 => "not migrated yet (`serve` or `migrate` will)",
            _ => "migrated",
        }
    ))
}

/// The audit file holds who reset whom: owner read/write only (0600). SQLite
/// gives its -wal and -shm files the same mode as the database file.
fn restrict(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let fail = |source| StoreError::Directory {
            path: path.display().to_string(),
            source,
        };
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(fail)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
    }
    Ok(())
}

/// Mark a record final with `status` and `problem` at the current time.
pub fn finalise(record: &mut ResetRecord, status: Status, problem: Option<ProblemRecord>) {
    record.status = status;
    record.problem = problem;
    record.completed_at = Some(crate::record::now_rfc3339());
}

#[cfg(test)]
mod tests;
