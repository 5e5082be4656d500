//! Graph budgets shared by every replica: a sliding log of recent sends per
//! budget, and a cool-down bulk work waits out after any replica was
//! throttled. Each take is one transaction that locks its budget's row, so
//! replicas taking at the same instant are counted one after the other and
//! together never exceed the share. Time is the database's clock.

use std::time::Duration;

use sqlx::{AnyConnection, Row};
use tracing::instrument;

use super::{Backend, Store, StoreError};

impl Store {
    /// Record one send against budget `key` when fewer than `share` were
    /// recorded in the last `window`; otherwise how long until the send
    /// that keeps it full ages out. `bulk` work also waits out a cool-down.
    #[instrument(skip_all, fields(budget = key))]
    pub async fn take_budget(
        &self,
        key: &str,
        share: u32,
        window: Duration,
        bulk: bool,
    ) -> Result<Option<Duration>, StoreError> {
        let (key, backend) = (key.to_owned(), self.backend);
        let window = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    let (cool_until, now) = lock(conn, backend, &key).await?;
                    if bulk && cool_until > now {
                        return Ok(Some(millis(cool_until - now)));
                    }
                    sqlx::query("delete from graph_sends where key = $1 and sent_at <= $2")
                        .bind(&key)
                        .bind(now.saturating_sub(window))
                        .execute(&mut *conn)
                        .await?;
                    // The share-th newest send, if there is one, keeps the window full.
                    let full = sqlx::query(
                        "select sent_at from graph_sends where key = $1 \
                         order by sent_at desc limit 1 offset $2",
                    )
                    .bind(&key)
                    .bind(i64::from(share.max(1) - 1))
                    .fetch_optional(&mut *conn)
                    .await?;
                    if let Some(row) = full {
                        let sent_at: i64 = row.try_get(0)?;
                        return Ok(Some(millis(sent_at + window - now)));
                    }
                    sqlx::query("insert into graph_sends (key, sent_at) values ($1, $2)")
                        .bind(&key)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    Ok(None)
                })
            })
            .await
    }

    /// Hold bulk work back on every replica for `hold` from now (a longer
    /// cool-down already set stays).
    #[instrument(skip_all, fields(budget = key))]
    pub async fn cool_budget(&self, key: &str, hold: Duration) -> Result<(), StoreError> {
        let (key, backend) = (key.to_owned(), self.backend);
        let hold = i64::try_from(hold.as_millis()).unwrap_or(i64::MAX);
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    let (cool_until, now) = lock(conn, backend, &key).await?;
                    sqlx::query("update graph_budgets set cool_until = $2 where key = $1")
                        .bind(&key)
                        .bind(cool_until.max(now.saturating_add(hold)))
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .await
    }
}

/// The budget's row, locked until the commit (created on first use), with
/// its cool-down and the database's clock in ms since the epoch. SQLite has
/// one writer: its transaction is the lock.
async fn lock(
    conn: &mut AnyConnection,
    backend: Backend,
    key: &str,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query(
        "insert into graph_budgets (key, cool_until) values ($1, 0) on conflict (key) do nothing",
    )
    .bind(key)
    .execute(&mut *conn)
    .await?;
    let sql = match backend {
        Backend::Postgres => {
            "select cool_until, cast(extract(epoch from clock_timestamp()) * 1000 as bigint) \
             from graph_budgets where key = $1 for update"
        }
        Backend::Sqlite => {
            "select cool_until, cast((julianday('now') - 2440587.5) * 86400000.0 as integer) \
             from graph_budgets where key = $1"
        }
    };
    let row = sqlx::query(sql).bind(key).fetch_one(&mut *conn).await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

fn millis(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms.max(1)).unwrap_or(1))
}
