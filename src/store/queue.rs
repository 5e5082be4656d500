//! The queue of asynchronous resets, webhook replay protection and result
//! callbacks. Accepting a queued reset writes its pending row, its queue
//! entry, its delivery id and its idempotency key in one transaction.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tracing::instrument;

use super::{Backend, KeyClaim, Store, StoreError, idempotency, row};
use crate::record::{ResetRecord, Status};

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

/// A queued reset a worker took: its row (now `pending`, under this
/// process's lease) and what it needs to run it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub record: ResetRecord,
    pub entry: QueueEntry,
}

/// Which queued resets a worker takes: single resets (webhooks,
/// `respond-async`, approved ones) or bulk job items. Each has workers of
/// its own, so a job's thousands of items never stand between a helpdesk's
/// reset and a free worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Single,
    Bulk,
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
        let (record, holder) = (record.clone(), self.holder.clone());
        self.batch
            .write(move |conn| {
                Box::pin(
                    async move { enqueue(conn, &record, &entry, delivery, key, &holder).await },
                )
            })
            .await
    }

    /// Take the oldest queued reset: its entry is deleted and its row moves
    /// from `queued` to `pending` under this process's lease in one
    /// transaction, so from now on it is a reset in progress (reconciled by
    /// any replica if this one dies). On PostgreSQL, replicas taking at the
    /// same time skip each other's locked entries instead of waiting.
    #[instrument(skip_all)]
    /// The oldest queued reset of a tenant not in `paused`, claimed.
    pub async fn take_queued(
        &self,
        paused: &[String],
        lane: Lane,
    ) -> Result<Option<Claimed>, StoreError> {
        let (holder, sql) = (
            self.holder.clone(),
            take_sql(self.backend, paused.len(), lane),
        );
        let paused = paused.to_vec();
        let taken = self
            .batch
            .write(move |conn| Box::pin(async move { take(conn, &sql, &paused, &holder).await }))
            .await?;
        let Some((row, entry)) = taken else {
            return Ok(None);
        };
        Ok(Some(Claimed {
            record: row::from_row(&row)?,
            entry,
        }))
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
    conn: &mut AnyConnection,
    record: &ResetRecord,
    entry: &QueueEntry,
    delivery: Option<DeliveryClaim>,
    key: Option<KeyClaim>,
    holder: &row::Holder,
) -> Result<Enqueued, sqlx::Error> {
    if let Some(d) = &delivery
        && let Some(reset_id) = claim_delivery(conn, d, &record.id).await?
    {
        return Ok(Enqueued::Replay { reset_id });
    }
    match &key {
        Some(key) if !idempotency::claim(conn, record, key, holder).await? => {
            return Ok(Enqueued::KeyInFlight);
        }
        Some(_) => {}
        None => {
            super::chain::insert(conn, record, holder).await?;
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

/// Claim a delivery id by its primary key: the same delivery sent to two
/// replicas at once makes the second insert wait for the first's commit and
/// then insert nothing. The reset it started, when it was seen before.
async fn claim_delivery(
    conn: &mut AnyConnection,
    d: &DeliveryClaim,
    reset_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let inserted = sqlx::query(
        "insert into webhook_deliveries (source, delivery_id, reset_id, received_at) \
         values ($1, $2, $3, $4) on conflict (source, delivery_id) do nothing",
    )
    .bind(&d.source)
    .bind(&d.delivery_id)
    .bind(reset_id)
    .bind(&d.received_at)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(None);
    }
    let seen = sqlx::query(
        "select reset_id from webhook_deliveries where source = $1 and delivery_id = $2",
    )
    .bind(&d.source)
    .bind(&d.delivery_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Some(seen.try_get(0)?))
}

/// Take the oldest entry of `lane`, skipping those of `paused` tenants
/// (bound as `$1..$paused`) and of paused jobs; PostgreSQL also skips
/// entries another replica is taking.
fn take_sql(backend: Backend, paused: usize, lane: Lane) -> String {
    let mut skip = match lane {
        Lane::Single => " where q.job_id is null".to_owned(),
        // Items of a paused job stay queued until it resumes.
        Lane::Bulk => " where q.job_id is not null and not exists (select 1 from jobs j \
                       where j.id = q.job_id and j.state <> 'running')"
            .to_owned(),
    };
    if paused > 0 {
        let list: Vec<String> = (1..=paused).map(|i| format!("${i}")).collect();
        skip.push_str(&format!(
            " and not exists (select 1 from resets r where r.id = q.reset_id \
             and r.tenant in ({}))",
            list.join(", ")
        ));
    }
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " for update of q skip locked",
    };
    format!(
        "delete from reset_queue where reset_id = (select q.reset_id from reset_queue q{skip} \
         order by q.enqueued_at, q.reset_id limit 1{lock}) \
         returning reset_id, request, caller, source"
    )
}

/// Take entries until one's row moves from `queued` to `pending` under
/// `holder`'s lease; the claimed row comes back from the same statement. An
/// entry whose row is not `queued` (only a hand-edited database has one) is
/// dropped with a warning instead of blocking the queue.
async fn take(
    conn: &mut AnyConnection,
    sql: &str,
    paused: &[String],
    holder: &row::Holder,
) -> Result<Option<(AnyRow, QueueEntry)>, sqlx::Error> {
    loop {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
        for tenant in paused {
            query = query.bind(tenant.clone());
        }
        let Some(r) = query.fetch_optional(&mut *conn).await? else {
            return Ok(None);
        };
        let id: String = r.try_get(0)?;
        let claimed = sqlx::query(row::CLAIM_QUEUED)
            .bind(&id)
            .bind(&holder.owner)
            .bind(holder.expires_at())
            .fetch_optional(&mut *conn)
            .await?;
        match claimed {
            Some(row) => {
                super::chain::reset_event(
                    conn,
                    &row,
                    Some(Status::Queued),
                    super::chain::service(&holder.owner),
                )
                .await?;
                return Ok(Some((row, entry(&r)?)));
            }
            None => {
                tracing::warn!(reset_id = %id, "dropped a queue entry whose reset is not queued")
            }
        }
    }
}

fn entry(r: &AnyRow) -> Result<QueueEntry, sqlx::Error> {
    Ok(QueueEntry {
        request: r.try_get(1)?,
        caller: r.try_get(2)?,
        source: r.try_get(3)?,
    })
}
