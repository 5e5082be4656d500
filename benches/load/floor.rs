//! The physical floor of durability: single-row commits, one at a time, with
//! the audit store's settings (SQLite: WAL, `synchronous=FULL`, on the same
//! disk; PostgreSQL: the server's own, on the run's database).

use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::{AnyConnection, Connection, Executor};

pub struct Floor {
    pub what: &'static str,
    pub commits: usize,
    pub p50: Duration,
    pub per_second: f64,
}

/// On the SQLite file `dir/floor.db`, or on the PostgreSQL database `url`.
pub async fn measure(dir: &Path, url: Option<&str>, commits: usize) -> anyhow::Result<Floor> {
    sqlx::any::install_default_drivers();
    let (what, mut conn) = match url {
        Some(url) => ("PostgreSQL", AnyConnection::connect(url).await?),
        None => {
            let file = format!("sqlite://{}?mode=rwc", dir.join("floor.db").display());
            let mut conn = AnyConnection::connect(&file).await?;
            conn.execute("pragma journal_mode = wal; pragma synchronous = full")
                .await?;
            ("SQLite", conn)
        }
    };
    conn.execute("create table floor (id bigint primary key, body text not null)")
        .await?;
    let mut took = Vec::with_capacity(commits);
    let started = Instant::now();
    for i in 0..commits {
        let t = Instant::now();
        let mut tx = conn.begin().await?;
        sqlx::query("insert into floor (id, body) values ($1, $2)")
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
        what,
        commits,
        p50: took[commits / 2],
        per_second: commits as f64 / wall.as_secs_f64(),
    })
}
