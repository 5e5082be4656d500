//! Group commit. With `synchronous=FULL` every commit waits for an fsync, so
//! one transaction per write caps the service at the disk's fsync rate. One
//! writer task instead takes every write queued while the previous commit
//! was on its way to disk, runs each in its own savepoint of one transaction
//! (a failing write is rolled back alone), commits once, and only then
//! answers each writer: an answer still means "on disk".

use std::future::Future;
use std::pin::Pin;

use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;

/// Writes per transaction at most; bounds the time a batch holds the lock.
const MAX_BATCH: usize = 256;
/// Writes waiting for the writer task; a full queue makes writers wait.
const QUEUE: usize = 4096;

pub(super) type BoxFut<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;
type Run =
    Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFut<'c, Result<(), sqlx::Error>> + Send>;

pub(super) struct Job {
    run: Run,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// How writes reach the database; cheap to clone.
#[derive(Clone)]
pub(super) enum Committer {
    /// SQLite: the writer task's group commit.
    Group(mpsc::Sender<Job>),
    /// PostgreSQL: each write its own transaction on the pool (the server
    /// batches concurrent commits itself).
    Direct(AnyPool),
}

impl Committer {
    /// Start the writer task on `pool` (the one writer connection).
    pub(super) fn group(pool: AnyPool) -> Committer {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(writer(pool, queue));
        Committer::Group(jobs)
    }

    pub(super) fn direct(pool: AnyPool) -> Committer {
        Committer::Direct(pool)
    }

    /// Run `work` in the next group transaction; its value once committed.
    pub(super) async fn write<T, W>(&self, work: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFut<'c, Result<T, sqlx::Error>>
            + Send
            + 'static,
    {
        let jobs = match self {
            Committer::Group(jobs) => jobs,
            Committer::Direct(pool) => {
                let mut tx = pool.begin().await?;
                let value = work(&mut tx).await?;
                tx.commit().await?;
                return Ok(value);
            }
        };
        let (value_tx, value_rx) = oneshot::channel();
        let run: Run = Box::new(move |conn| {
            Box::pin(async move {
                let value = work(conn).await?;
                let _ = value_tx.send(value);
                Ok(())
            })
        });
        let (done, committed) = oneshot::channel();
        jobs.send(Job { run, done })
            .await
            .map_err(|_| StoreError::Closed)?;
        committed.await.map_err(|_| StoreError::Closed)??;
        value_rx.await.map_err(|_| StoreError::Closed)
    }
}

async fn writer(pool: AnyPool, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let size = jobs.len();
        let outcomes = commit(&pool, jobs).await;
        crate::metrics::store_commit(size);
        for (done, outcome) in outcomes {
            let _ = done.send(outcome);
        }
    }
}

type Outcome = (
    oneshot::Sender<Result<(), StoreError>>,
    Result<(), StoreError>,
);

/// One transaction for `jobs`, each in a savepoint.
async fn commit(pool: &AnyPool, jobs: Vec<Job>) -> Vec<Outcome> {
    let fail_all = |jobs: Vec<Job>, e: &sqlx::Error| -> Vec<Outcome> {
        jobs.into_iter()
            .map(|j| (j.done, Err(StoreError::Commit(e.to_string()))))
            .collect()
    };
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => return fail_all(jobs, &e),
    };
    if let Err(e) = execute(&mut conn, "BEGIN IMMEDIATE").await {
        return fail_all(jobs, &e);
    }
    let mut ran = Vec::with_capacity(jobs.len());
    for job in jobs {
        let outcome = savepoint(&mut conn, job.run).await;
        ran.push((job.done, outcome));
    }
    match execute(&mut conn, "COMMIT").await {
        Ok(()) => ran
            .into_iter()
            .map(|(done, r)| (done, r.map_err(StoreError::from)))
            .collect(),
        Err(e) => {
            let _ = execute(&mut conn, "ROLLBACK").await;
            ran.into_iter()
                .map(|(done, _)| (done, Err(StoreError::Commit(e.to_string()))))
                .collect()
        }
    }
}

/// Run one write; on its failure undo just its own changes.
async fn savepoint(conn: &mut AnyConnection, run: Run) -> Result<(), sqlx::Error> {
    execute(conn, "SAVEPOINT job").await?;
    let outcome = run(conn).await;
    if outcome.is_err() {
        execute(conn, "ROLLBACK TO job").await?;
    }
    execute(conn, "RELEASE job").await?;
    outcome
}

async fn execute(conn: &mut AnyConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(conn).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pool(dir: &std::path::Path) -> AnyPool {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}?mode=rwc", dir.join("batch.db").display());
        let pool = AnyPool::connect(&url).await.unwrap();
        sqlx::raw_sql("create table t (id integer primary key)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    fn insert(id: i64) -> Job {
        let run: Run = Box::new(move |conn| {
            Box::pin(async move {
                sqlx::query("insert into t (id) values ($1)")
                    .bind(id)
                    .execute(conn)
                    .await
                    .map(drop)
            })
        });
        Job {
            run,
            done: oneshot::channel().0,
        }
    }

    /// Inserts `first`, then fails: the savepoint must undo `first` too.
    fn insert_then_fail(first: i64) -> Job {
        let run: Run = Box::new(move |conn| {
            Box::pin(async move {
                sqlx::query("insert into t (id) values ($1)")
                    .bind(first)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("insert into nowhere values (1)")
                    .execute(conn)
                    .await
                    .map(drop)
            })
        });
        Job {
            run,
            done: oneshot::channel().0,
        }
    }

    #[tokio::test]
    async fn a_failing_write_is_rolled_back_alone_and_the_batch_commits() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(dir.path()).await;
        let outcomes = commit(
            &pool,
            vec![insert(1), insert(1), insert_then_fail(7), insert(2)],
        )
        .await;
        let ok: Vec<bool> = outcomes.iter().map(|(_, r)| r.is_ok()).collect();
        assert_eq!(ok, [true, false, false, true]);
        let ids: Vec<i64> = sqlx::query_scalar("select id from t order by id")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(ids, [1, 2]);
    }

    #[tokio::test]
    async fn concurrent_writers_each_get_their_own_answer_after_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(dir.path()).await;
        let committer = Committer::group(pool.clone());
        let writes = (0..100i64).map(|i| {
            let committer = committer.clone();
            tokio::spawn(async move {
                let id = i % 90; // ten duplicates fail, alone
                committer
                    .write(move |conn| {
                        Box::pin(async move {
                            let insert = sqlx::query("insert into t (id) values ($1)").bind(id);
                            insert.execute(conn).await.map(|_| id)
                        })
                    })
                    .await
            })
        });
        let mut ok = 0;
        for w in writes.collect::<Vec<_>>() {
            ok += usize::from(w.await.unwrap().is_ok());
        }
        assert_eq!(ok, 90);
        let count: i64 = sqlx::query_scalar("select count(*) from t")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(count, 90);
    }
}
