//! The queue of asynchronous resets, webhook replay protection and result
//! callbacks. Accepting a queued reset writes its pending row, its queue
//! entry, its delivery id and its idempotency key in one transaction.

use sqlx::{Row, SqliteConnection};
use tracing::instrument;

use super::{KeyClaim, Store, StoreError, idempotency, row};
use crate::record::ResetRecord;

/// What a worker needs to run a queued reset besides its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// The reset request (JSON).
    pub request: String,
    /// The identity the policy sees (JSON).
    pub caller: String,
    /// The webhook source, whose callback receives the result.
    pub source: Option<String>,
}

/// A webhook delivery id to claim with the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryClaim {
    pub source: String,
    pub delivery_id: String,
    pub received_at: String,
}

/// How [`Store::enqueue`] went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    Queued,
    /// The delivery was seen before: this is the reset it started.
    Replay {
        reset_id: String,
    },
    /// The `Idempotency-Key` is claimed by a request still in progress.
    KeyInFlight,
}

impl Store {
    /// Write `record` (pending) and its queue entry, claiming the delivery id
    /// and the key, all or nothing; durable when this returns `Queued`.
    #[instrument(skip_all, fields(reset_id = %record.id))]
    pub async fn enqueue(
        &self,
        record: &ResetRecord,
        entry: QueueEntry,
        delivery: Option<DeliveryClaim>,
        key: Option<KeyClaim>,
    ) -> Result<Enqueued, StoreError> {
        let record = record.clone();
        self.batch
            .write(move |conn| {
                Box::pin(async move { enqueue(conn, &record, &entry, delivery, key).await })
            })
            .await
    }

    /// Take the oldest queued reset: its entry is deleted as it is taken, so
    /// from now on the row is a reset in progress (reconciled if we die).
    #[instrument(skip_all)]
    pub async fn take_queued(&self) -> Result<Option<(ResetRecord, QueueEntry)>, StoreError> {
        let taken = self
            .batch
            .write(|conn| Box::pin(async move { take(conn).await }))
            .await?;
        let Some((id, entry)) = taken else {
            return Ok(None);
        };
        match self.get(&id).await? {
            Some(record) => Ok(Some((record, entry))),
            None => Err(StoreError::Corrupt {
                id,
                what: "queued without a row".into(),
            }),
        }
    }

    /// Forget delivery ids received before `before` (RFC 3339).
    pub async fn purge_deliveries(&self, before: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("delete from webhook_deliveries where received_at < $1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}

async fn enqueue(
    conn: &mut SqliteConnection,
    record: &ResetRecord,
    entry: &QueueEntry,
    delivery: Option<DeliveryClaim>,
    key: Option<KeyClaim>,
) -> Result<Enqueued, sqlx::Error> {
    if let Some(d) = &delivery {
        let seen = sqlx::query(
            "select reset_id from webhook_deliveries where source = $1 and delivery_id = $2",
        )
        .bind(&d.source)
        .bind(&d.delivery_id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(seen) = seen {
            return Ok(Enqueued::Replay {
                reset_id: seen.try_get(0)?,
            });
        }
        sqlx::query("insert into webhook_deliveries (source, delivery_id, reset_id, received_at) values ($1, $2, $3, $4)")
            .bind(&d.source)
            .bind(&d.delivery_id)
            .bind(&record.id)
            .bind(&d.received_at)
            .execute(&mut *conn)
            .await?;
    }
    match &key {
        Some(key) if !idempotency::claim(conn, record, key).await? => {
            return Ok(Enqueued::KeyInFlight);
        }
        Some(_) => {}
        None => {
            row::insert(record).execute(&mut *conn).await?;
        }
    }
    sqlx::query("insert into reset_queue (reset_id, request, caller, source, enqueued_at) values ($1, $2, $3, $4, $5)")
        .bind(&record.id)
        .bind(&entry.request)
        .bind(&entry.caller)
        .bind(&entry.source)
        .bind(&record.created_at)
        .execute(&mut *conn)
        .await?;
    Ok(Enqueued::Queued)
}

async fn take(conn: &mut SqliteConnection) -> Result<Option<(String, QueueEntry)>, sqlx::Error> {
    let taken = sqlx::query(
        "delete from reset_queue where reset_id = (select reset_id from reset_queue \
         order by enqueued_at, reset_id limit 1) returning reset_id, request, caller, source",
    )
    .fetch_optional(conn)
    .await?;
    taken
        .map(|r| {
            let entry = QueueEntry {
                request: r.try_get(1)?,
                caller: r.try_get(2)?,
                source: r.try_get(3)?,
            };
            Ok((r.try_get(0)?, entry))
        })
        .transpose()
}
