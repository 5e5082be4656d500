//! Earlier resets that the policy's limits depend on (per-caller quota,
//! per-guest cooldown, a reset of the same guest still in flight), read and
//! acted on inside one write transaction: two concurrent requests cannot both
//! see "no earlier reset" and both go ahead.

use sqlx::{AnyConnection, Row};
use tokio::sync::oneshot;
use tracing::instrument;

use super::{Backend, QueueEntry, Store, StoreError};
use crate::record::{ResetRecord, Status};

/// Whose history to read. Timestamps are normalised RFC 3339. Owned: it
/// travels to the group-commit writer task.
#[derive(Debug, Clone)]
pub struct HistoryQuery {
    /// The reset being decided; never counted against itself.
    pub reset_id: String,
    /// The `unknown` reset a retry re-drives: it must not count against its retry.
    pub retry_of: Option<String>,
    pub requester_issuer: Option<String>,
    pub requester_subject: String,
    /// The agent the request names, whose own window is read too.
    pub agent: Option<String>,
    /// How many of the caller's most recent resets in the window to read (the
    /// policy's largest quota); 0 reads none.
    pub caller_window_limit: u32,
    pub target_id: String,
    /// Start of the quota window (an hour ago).
    pub window_start: String,
}

/// What the store knows; only resets the policy allowed, that were not dry
/// runs and did not fail (pending, succeeded or unknown) count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredHistory {
    pub caller_window: Vec<String>,
    /// The agent's window, when the request names an agent.
    pub agent_window: Option<Vec<String>>,
    pub target_last: Option<String>,
    pub target_in_flight: bool,
}

macro_rules! counted {
    () => {
        "policy_allowed = 1 and dry_run = 0 \
         and status in ('pending', 'running', 'succeeded', 'unknown', 'awaiting_approval', 'queued') \
         and id <> $1 \
         and id <> coalesce($2, '')"
    };
}

const CALLER_WINDOW: &str = concat!(
    "select created_at from resets where ",
    counted!(),
    " and requester_issuer is not distinct from $3 and requester_subject = $4 and created_at >= $5 \
     order by created_at desc limit $6"
);

const AGENT_WINDOW: &str = concat!(
    "select created_at from resets where ",
    counted!(),
    " and lower(requester_agent) = lower($3) and created_at >= $4 \
     order by created_at desc limit $5"
);

const TARGET: &str = concat!(
    "select max(created_at), coalesce(max(case when status in ('pending', 'running', \
     'awaiting_approval', 'queued') \
     or (status = 'unknown' and settle_after is not null) then 1 else 0 end), 0) \
     from resets where ",
    counted!(),
    " and target_id = $3"
);

impl Store {
    /// Retries of `id` that may have reset the guest (not failed or denied).
    #[instrument(skip_all, fields(reset_id = %id))]
    pub async fn live_retries_of(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "select id from resets where retry_of = $1 and status in ('pending', 'succeeded', 'unknown')",
        )
        .bind(id)
        .fetch_all(&self.writer)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// Read the history, let `decide` choose, and write the record it returns
    /// (if any) in the same transaction (a group commit: the decision runs
    /// here, between the writer task's read and its write).
    #[instrument(skip_all, fields(reset_id = %q.reset_id))]
    pub async fn decide_with_history<T>(
        &self,
        q: HistoryQuery,
        decide: impl FnOnce(StoredHistory) -> (T, Option<(ResetRecord, Option<QueueEntry>)>),
    ) -> Result<T, StoreError> {
        let (history_tx, history_rx) = oneshot::channel();
        let (record_tx, record_rx) =
            oneshot::channel::<Option<(super::chain::ResetWrite, Option<QueueEntry>)>>();
        let (backend, holder) = (self.backend, self.holder.clone());
        let write = self.batch.write(move |conn| {
            Box::pin(async move {
                if backend == Backend::Postgres {
                    serialise(conn, &q).await?;
                }
                let history = read(conn, &q).await?;
                let gone = || sqlx::Error::Protocol("the deciding request went away".into());
                history_tx.send(history).map_err(|_| gone())?;
                match record_rx.await.map_err(|_| gone())? {
                    // The claim moves the row only while it is still pending.
                    Some((write, parked)) => {
                        let id = write.record.id.clone();
                        let done =
                            super::chain::update_write(conn, write, Status::Pending, &holder)
                                .await?;
                        if !done {
                            return Err(sqlx::Error::Protocol(
                                "the reset is no longer pending".into(),
                            ));
                        }
                        match parked {
                            Some(entry) => super::approvals::park(conn, &id, &entry).await,
                            None => Ok(()),
                        }
                    }
                    None => Ok(()),
                }
            })
        });
        tokio::pin!(write);
        let history = tokio::select! {
            history = history_rx => history.map_err(|_| StoreError::Closed)?,
            done = &mut write => return Err(done.err().unwrap_or(StoreError::Closed)),
        };
        let (answer, record) = decide(history);
        // Encoded here, while the writer waits, rather than in the writer.
        let actor = super::chain::service(&self.holder.owner);
        let encoded = record
            .map(|(r, parked)| {
                super::chain::reset_write(r, Some(Status::Pending), actor).map(|w| (w, parked))
            })
            .transpose();
        match encoded {
            Ok(write) => {
                let _ = record_tx.send(write);
            }
            Err(e) => {
                drop(record_tx);
                let _ = write.await;
                return Err(e);
            }
        }
        write.await?;
        Ok(answer)
    }
}

/// On PostgreSQL, decisions about the same caller or the same guest take
/// turns: transaction-scoped advisory locks (released by the commit, so
/// pooled connections and PgBouncer's transaction mode are safe), the
/// caller's first and the guest's second, always in that order, so two
/// decisions never wait on each other in a cycle (the agent's, when the
/// request names one, between them). A hash collision only
/// makes two unrelated decisions take turns. SQLite's one writer already
/// serialises every decision.
async fn serialise(conn: &mut AnyConnection, q: &HistoryQuery) -> Result<(), sqlx::Error> {
    let caller = format!(
        "caller\n{}\n{}",
        q.requester_issuer.as_deref().unwrap_or(""),
        q.requester_subject
    );
    let guest = format!("guest\n{}", q.target_id);
    // A per-agent quota is counted across every app that names the agent.
    let agent = q
        .agent
        .as_ref()
        .map(|a| format!("agent\n{}", a.to_lowercase()));
    for key in std::iter::once(caller).chain(agent).chain([guest]) {
        sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn read(conn: &mut AnyConnection, q: &HistoryQuery) -> Result<StoredHistory, sqlx::Error> {
    // Only as many as the largest quota: a busy caller's whole hour would make
    // every decision (inside the group commit) slower as the hour fills.
    let caller_window = match q.caller_window_limit {
        0 => Vec::new(),
        limit => sqlx::query(CALLER_WINDOW)
            .bind(&q.reset_id)
            .bind(&q.retry_of)
            .bind(&q.requester_issuer)
            .bind(&q.requester_subject)
            .bind(&q.window_start)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let agent_window = match (&q.agent, q.caller_window_limit) {
        (Some(agent), limit) if limit > 0 => Some(
            sqlx::query(AGENT_WINDOW)
                .bind(&q.reset_id)
                .bind(&q.retry_of)
                .bind(agent)
                .bind(&q.window_start)
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        _ => None,
    };
    let target = sqlx::query(TARGET)
        .bind(&q.reset_id)
        .bind(&q.retry_of)
        .bind(&q.target_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(StoredHistory {
        caller_window,
        agent_window,
        target_last: target.try_get(0)?,
        target_in_flight: target.try_get::<i64, _>(1)? != 0,
    })
}
