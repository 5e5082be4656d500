//! Reading the audit chain, and the writes that are not a reset's move:
//! admin events, checkpoints, pruning behind a checkpoint.

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use tracing::instrument;

use super::{Store, StoreError, chain, row};
use crate::audit::{Draft, Event};
use crate::record::ResetRecord;

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub hash: String,
    pub signed_at: String,
    pub note: String,
}

impl Store {
    /// Append an event that records no reset move (an admin action), in a
    /// transaction of its own.
    #[instrument(skip_all, fields(kind = %draft.kind))]
    pub async fn append_event(&self, draft: Draft) -> Result<Event, StoreError> {
        self.batch
            .write(move |conn| Box::pin(async move { chain::append(conn, draft).await }))
            .await
    }

    /// Events after `after`, oldest first, at most `limit`. Appends commit in
    /// sequence order, so what this sees is always a gap-free prefix.
    #[instrument(skip_all, fields(after, limit))]
    pub async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "select seq, at, kind, subject, actor, data, prev, hash from audit_events \
             where seq > $1 order by seq limit $2",
        )
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The head: the last event's sequence number and hash (0 and the
    /// genesis hash before the first).
    pub async fn audit_head(&self) -> Result<(u64, String), StoreError> {
        let (seq, hash): (i64, String) =
            sqlx::query_as("select seq, hash from audit_head where id = 1")
                .fetch_one(&self.reader)
                .await?;
        Ok((u64::try_from(seq).unwrap_or(0), hash))
    }

    /// The oldest event kept: its sequence number and time.
    pub async fn oldest_event(&self) -> Result<Option<(u64, String)>, StoreError> {
        let found: Option<(i64, String)> =
            sqlx::query_as("select seq, at from audit_events order by seq limit 1")
                .fetch_optional(&self.reader)
                .await?;
        Ok(found.map(|(seq, at)| (u64::try_from(seq).unwrap_or(0), at)))
    }

    /// Keep a signed checkpoint (once per size: the first one signed stays).
    pub async fn save_checkpoint(&self, cp: StoredCheckpoint) -> Result<(), StoreError> {
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "insert into audit_checkpoints (size, hash, signed_at, note) values ($1, $2, $3, $4) \
                         on conflict (size) do nothing",
                    )
                    .bind(i64::try_from(cp.size).unwrap_or(i64::MAX))
                    .bind(&cp.hash)
                    .bind(&cp.signed_at)
                    .bind(&cp.note)
                    .execute(conn)
                    .await
                    .map(drop)
                })
            })
            .await
    }

    /// The newest stored checkpoint (what the API serves, what signing and
    /// pruning start from): one row, however many have been kept.
    pub async fn newest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row = sqlx::query(
            "select size, hash, signed_at, note from audit_checkpoints order by size desc limit 1",
        )
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.as_ref().map(checkpoint_from_row).transpose()?)
    }

    /// Every stored checkpoint, oldest first.
    pub async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let rows =
            sqlx::query("select size, hash, signed_at, note from audit_checkpoints order by size")
                .fetch_all(&self.reader)
                .await?;
        rows.iter()
            .map(checkpoint_from_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Delete the events older than `before` (RFC 3339) that lie behind the
    /// checkpoint at `size` (which is kept, to anchor verification), and
    /// record the pruning as an event. The number deleted.
    #[instrument(skip_all, fields(size, before))]
    pub async fn prune_events(
        &self,
        size: u64,
        before: &str,
        actor: serde_json::Value,
    ) -> Result<u64, StoreError> {
        let before = before.to_owned();
        let size = i64::try_from(size).unwrap_or(0);
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query("delete from audit_events where seq < $1 and at < $2")
                        .bind(size)
                        .bind(&before)
                        .execute(&mut *conn)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Ok(0);
                    }
                    let data = json!({"deleted": done.rows_affected(), "before": before, "checkpoint": size});
                    let draft = Draft { kind: "audit.pruned".into(), subject: String::new(), actor, data };
                    chain::append(conn, draft).await?;
                    Ok(done.rows_affected())
                })
            })
            .await
    }

    /// A database written before the chain existed: each of its reset rows
    /// gets a `reset.adopted` event showing it as it is, so verification
    /// covers every row from then on. Runs once (while the chain is empty;
    /// the head's lock makes a second replica starting at once wait and
    /// then find the chain begun). The number adopted.
    pub async fn adopt_unchained(&self) -> Result<u64, StoreError> {
        let actor = chain::service(&self.holder.owner);
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    let (seq,): (i64,) = sqlx::query_as(
                        "update audit_head set seq = seq where id = 1 returning seq",
                    )
                    .fetch_one(&mut *conn)
                    .await?;
                    if seq != 0 {
                        return Ok(0);
                    }
                    let sql = format!(
                        "select {} from resets order by created_at, id",
                        row::columns!()
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .fetch_all(&mut *conn)
                        .await?;
                    for stored in &rows {
                        chain::adopted_event(conn, stored, actor.clone()).await?;
                    }
                    Ok(rows.len() as u64)
                })
            })
            .await
    }

    /// Whether reset `id` has an event after `seq` (it moved since).
    pub async fn moved_since(&self, id: &str, seq: u64) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "select seq from audit_events where subject = $1 and seq > $2 limit 1",
        )
        .bind(id)
        .bind(i64::try_from(seq).unwrap_or(i64::MAX))
        .fetch_optional(&self.reader)
        .await?;
        Ok(found.is_some())
    }

    /// Reset rows after id `after`, in id order: verification's page.
    pub async fn reset_rows_after(
        &self,
        after: &str,
        limit: u32,
    ) -> Result<Vec<ResetRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {} from resets where id > $1 order by id limit $2",
            row::columns!()
        )))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(row::from_row).collect()
    }
}

fn event_from_row(r: &AnyRow) -> Result<Event, StoreError> {
    let seq: i64 = r.try_get(0)?;
    let json = |i: usize| -> Result<serde_json::Value, StoreError> {
        let text: String = r.try_get(i)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            id: format!("audit event {seq}"),
            what: e.to_string(),
        })
    };
    Ok(Event {
        seq: u64::try_from(seq).unwrap_or(0),
        at: r.try_get(1)?,
        kind: r.try_get(2)?,
        subject: r.try_get(3)?,
        actor: json(4)?,
        data: json(5)?,
        prev: r.try_get(6)?,
        hash: r.try_get(7)?,
    })
}

fn checkpoint_from_row(r: &AnyRow) -> Result<StoredCheckpoint, sqlx::Error> {
    let size: i64 = r.try_get(0)?;
    Ok(StoredCheckpoint {
        size: u64::try_from(size).unwrap_or(0),
        hash: r.try_get(1)?,
        signed_at: r.try_get(2)?,
        note: r.try_get(3)?,
    })
}
