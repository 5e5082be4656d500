//! Moving a reset's row (only from the state the writer saw: a
//! compare-and-set), and what settling an `unknown` reset reads: the other
//! resets of the same guest that reached the invitation (their windows decide
//! whether a change Graph shows can be credited to this one) and the rows due
//! for their re-read.

use sqlx::Row;
use tracing::instrument;

use super::{Store, StoreError, row};
use crate::record::{ResetRecord, Status};

/// Another reset of the same guest that sent (or may have sent) the
/// invitation: its id, first attempt, status and end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempted {
    pub reset_id: String,
    pub invite_attempted_at: String,
    pub status: Status,
    pub completed_at: Option<String>,
}

impl Store {
    /// Resets of `target_id` other than `reset_id` that reached the
    /// invitation and may have applied it (not failed or denied).
    #[instrument(skip_all, fields(reset_id = %reset_id))]
    pub async fn attempts_on(
        &self,
        target_id: &str,
        reset_id: &str,
    ) -> Result<Vec<Attempted>, StoreError> {
        let rows = sqlx::query(
            "select id, invite_attempted_at, status, completed_at from resets \
             where target_id = $1 and id <> $2 and invite_attempted_at is not null \
             and dry_run = 0 and status in ('pending', 'running', 'succeeded', 'unknown') \
             order by invite_attempted_at",
        )
        .bind(target_id)
        .bind(reset_id)
        .fetch_all(&self.writer)
        .await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get(2)?;
                let reset_id: String = r.try_get(0)?;
                Ok(Attempted {
                    status: Status::parse(&status).ok_or_else(|| StoreError::Corrupt {
                        id: reset_id.clone(),
                        what: "status".into(),
                    })?,
                    reset_id,
                    invite_attempted_at: r.try_get(1)?,
                    completed_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// `unknown` rows whose re-read is due at `now`, oldest due first.
    #[instrument(skip_all)]
    pub async fn unknown_due(&self, now: &str, limit: u32) -> Result<Vec<ResetRecord>, StoreError> {
        self.due(row::SELECT_UNKNOWN_DUE, now, limit).await
    }

    /// Whole rows of a sweep's query (`$1` the time, `$2` how many).
    pub(super) async fn due(
        &self,
        sql: &'static str,
        now: &str,
        limit: u32,
    ) -> Result<Vec<ResetRecord>, StoreError> {
        let rows = sqlx::query(sql)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.writer)
            .await?;
        rows.iter().map(row::from_row).collect()
    }

    /// Write `record` only if the stored row is still in state `from` (a
    /// compare-and-set: a row someone else moved meanwhile is left alone).
    /// True when it was written.
    #[instrument(skip_all, fields(reset_id = %record.id, from = from.as_str(), to = record.status.as_str()))]
    pub async fn update_from(
        &self,
        record: &ResetRecord,
        from: Status,
    ) -> Result<bool, StoreError> {
        let started = std::time::Instant::now();
        let actor = super::chain::service(&self.holder.owner);
        let write = super::chain::reset_write(record.clone(), Some(from), actor)?;
        let holder = self.holder.clone();
        self.batch
            .write(move |conn| {
                Box::pin(
                    async move { super::chain::update_write(conn, write, from, &holder).await },
                )
            })
            .await
            .inspect(|_| crate::metrics::store_write("update", started.elapsed()))
    }
}
