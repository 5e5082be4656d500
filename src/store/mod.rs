//! The audit store: SQLite through sqlx, one writer connection (SQLite has one
//! writer anyway; a pool of writers only produces `database is locked`), a
//! small reader pool, WAL and `synchronous=FULL` so a committed row survives a
//! power loss. Knows nothing of HTTP or Graph.

mod batch;
mod callbacks;
mod history;
mod idempotency;
mod list;
mod queue;
mod row;
mod settle;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tracing::instrument;

use crate::record::{ProblemRecord, ResetRecord, Status};

pub use callbacks::{Attempt, DueCallback, Next};
pub use history::{HistoryQuery, StoredHistory};
pub use idempotency::{KeyClaim, KeyState, StoredAnswer};
pub use list::{ListFilter, MAX_LIMIT};
pub use queue::{DeliveryClaim, Enqueued, QueueEntry};
pub use settle::Attempted;

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

/// Handle to the audit database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Every write during requests goes through the group commit.
    batch: batch::Committer,
}

impl Store {
    /// Open (creating if needed) the database at `path` and run migrations.
    #[instrument(skip_all, fields(path = %path.display()))]
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Directory {
                path: dir.display().to_string(),
                source,
            })?;
        }
        restrict(path)?;
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        let batch = batch::Committer::start(writer.clone());
        Ok(Store {
            writer,
            reader,
            batch,
        })
    }

    /// Fold the WAL into the database and close every connection, so a
    /// stopped service leaves one self-contained file.
    pub async fn close(&self) {
        if let Err(e) = sqlx::query("pragma wal_checkpoint(truncate)")
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
        let record = record.clone();
        self.batch
            .write(move |conn| {
                Box::pin(async move { row::insert(&record).execute(conn).await.map(drop) })
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
        let rows = list::query(filter).build().fetch_all(&self.reader).await?;
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

    /// Rows still `pending` that were created before `before` (RFC 3339):
    /// requests the service stopped handling midway.
    #[instrument(skip_all)]
    pub async fn pending_before(&self, before: &str) -> Result<Vec<ResetRecord>, StoreError> {
        let rows = sqlx::query(row::SELECT_PENDING_BEFORE)
            .bind(before)
            .fetch_all(&self.writer)
            .await?;
        rows.iter().map(row::from_row).collect()
    }
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
