//! The physical floor of durability: single-row commits, one at a time, with
//! the audit store's settings (WAL, `synchronous=FULL`), on the same disk.

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

pub struct Floor {
    pub commits: usize,
    pub p50: Duration,
    pub per_second: f64,
}

pub async fn measure(dir: &Path, commits: usize) -> anyhow::Result<Floor> {
    let mut conn = SqliteConnectOptions::from_str("sqlite:")?
        .filename(dir.join("floor.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::query("create table t (id integer primary key, body text not null)")
        .execute(&mut conn)
        .await?;
    let mut took = Vec::with_capacity(commits);
    let started = Instant::now();
    for i in 0..commits {
        let t = Instant::now();
        let mut tx = sqlx::Connection::begin(&mut conn).await?;
        sqlx::query("insert into t (id, body) values ($1, $2)")
            .bind(i as i64)
            .bind("x".repeat(600))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        took.push(t.elapsed());
    }
    let wall = started.elapsed();
    took.sort();
    Ok(Floor {
        commits,
        p50: took[commits / 2],
        per_second: commits as f64 / wall.as_secs_f64(),
    })
}
