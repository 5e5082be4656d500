//! Where the two backends differ: how to connect, how a committed row is
//! made durable, and which migrations apply. Everything else is one SQL
//! dialect (`$N` placeholders, text timestamps, integer flags) run through
//! sqlx's `Any` driver.

use std::path::Path;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

use super::StoreError;
use crate::config::Database;

impl Database {
    pub fn backend(&self) -> Backend {
        match self {
            Database::Sqlite(_) => Backend::Sqlite,
            Database::Postgres(_) => Backend::Postgres,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a connection of the `Any` driver talks to (for a write
    /// that runs on whichever connection it is given).
    pub(super) fn of(conn: &sqlx::AnyConnection) -> Backend {
        match conn.backend_name() {
            "PostgreSQL" => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

pub(super) struct Pools {
    pub backend: Backend,
    pub writer: AnyPool,
    pub reader: AnyPool,
}

pub(super) async fn connect(database: &Database) -> Result<Pools, StoreError> {
    sqlx::any::install_default_drivers();
    match database {
        Database::Sqlite(path) => sqlite(path).await,
        Database::Postgres(url) => postgres(url.expose_secret()).await,
    }
}

/// One writer connection (SQLite has one writer anyway; a pool of writers
/// only produces `database is locked`), a small reader pool, WAL and
/// `synchronous=FULL` so a committed row survives a power loss.
async fn sqlite(path: &Path) -> Result<Pools, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Directory {
            path: dir.display().to_string(),
            source,
        })?;
    }
    super::restrict(path)?;
    let file = path
        .display()
        .to_string()
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    let writer = AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("pragma journal_mode = wal; pragma synchronous = full")
                    .await
                    .map(drop)
            })
        })
        .connect(&format!("sqlite://{file}?mode=rwc"))
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
    let reader = AnyPoolOptions::new()
        .max_connections(4)
        .connect(&format!("sqlite://{file}?mode=ro"))
        .await?;
    Ok(Pools {
        backend: Backend::Sqlite,
        writer,
        reader,
    })
}

/// One pool: every write is its own transaction, committed before the
/// answer (PostgreSQL's `synchronous_commit` makes a commit durable; the
/// server's group commit batches concurrent ones, so no batching here).
async fn postgres(url: &str) -> Result<Pools, StoreError> {
    let pool = AnyPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(Pools {
        backend: Backend::Postgres,
        writer: pool.clone(),
        reader: pool,
    })
}
