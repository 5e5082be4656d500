//! Deliveries waiting to go out, and every attempt made: result callbacks
//! (`callbacks`, one per reset from a webhook source) and approval
//! notifications (`notifications`, one per event). One sender delivers both,
//! so they share the queries; each kind keeps its own tables.

use sqlx::Row;
use tracing::instrument;

use super::{Store, StoreError};

/// A delivery whose next attempt is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCallback {
    /// The `webhook-id`, the same on every attempt: a result callback's is
    /// its reset id, a notification's its own.
    pub id: String,
    pub reset_id: String,
    pub payload: Payload,
    /// Attempts made so far.
    pub attempts: u32,
}

/// What a delivery carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A result callback to the webhook source's URL: the record as it is
    /// when sent.
    Record { source: String },
    /// An approval notification: its body, fixed when the event happened.
    Event { body: String },
}

/// An approval notification to schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub id: String,
    pub reset_id: String,
    pub event: &'static str,
    pub body: String,
    pub url: String,
}

/// One attempt's result and what happens next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub next: Next,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(String),
    GiveUp,
}

/// A delivery table, its key, and the table of its attempts with its key.
struct Tables {
    deliveries: &'static str,
    key: &'static str,
    attempts: &'static str,
    attempt_key: &'static str,
}

impl Payload {
    fn tables(&self) -> Tables {
        match self {
            Payload::Record { .. } => Tables {
                deliveries: "callbacks",
                key: "reset_id",
                attempts: "callback_attempts",
                attempt_key: "reset_id",
            },
            Payload::Event { .. } => Tables {
                deliveries: "notifications",
                key: "id",
                attempts: "notification_attempts",
                attempt_key: "notification_id",
            },
        }
    }
}

/// Deliveries of both kinds, neither delivered nor given up, due at `$1`.
const DUE: &str = "select reset_id as id, reset_id, 'record' as kind, source as what, attempts, next_at \
    from callbacks where delivered_at is null and gave_up_at is null and next_at <= $1 union all \
    select id, reset_id, 'event', body, attempts, next_at from notifications \
    where delivered_at is null and gave_up_at is null and next_at <= $1 order by next_at limit $2";

/// When the earliest delivery of both kinds, neither delivered nor given up, is due.
const NEXT_DUE: &str = "select min(next_at) from (\
    select next_at from callbacks where delivered_at is null and gave_up_at is null union all \
    select next_at from notifications where delivered_at is null and gave_up_at is null) as undelivered";

impl Store {
    /// Schedule the callback of `reset_id` (once; a second call is a no-op).
    #[instrument(skip_all, fields(reset_id = %reset_id))]
    pub async fn schedule_callback(
        &self,
        reset_id: &str,
        source: &str,
        url: &str,
        now: &str,
    ) -> Result<(), StoreError> {
        let sql = "insert into callbacks (reset_id, source, url, next_at) values ($1, $2, $3, $4) \
                   on conflict (reset_id) do nothing";
        self.insert_texts(sql, [reset_id, source, url, now]).await
    }

    /// Schedule an approval notification, due at `now`.
    #[instrument(skip_all, fields(reset_id = %n.reset_id, event = n.event))]
    pub async fn schedule_notification(
        &self,
        n: &NewNotification,
        now: &str,
    ) -> Result<(), StoreError> {
        let sql = "insert into notifications (id, reset_id, event, body, url, next_at) \
                   values ($1, $2, $3, $4, $5, $6) on conflict (id) do nothing";
        let values = [&n.id, &n.reset_id, n.event, &n.body, &n.url, now];
        self.insert_texts(sql, values).await
    }

    /// Run `sql` with `values` bound in order, through the group commit.
    async fn insert_texts<const N: usize>(
        &self,
        sql: &'static str,
        values: [&str; N],
    ) -> Result<(), StoreError> {
        let values = values.map(str::to_owned);
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    let query = values.iter().fold(sqlx::query(sql), |q, v| q.bind(v));
                    query.execute(conn).await.map(drop)
                })
            })
            .await
    }

    /// Deliveries of both kinds whose next attempt is due at `now`, earliest first.
    pub async fn due_callbacks(
        &self,
        now: &str,
        limit: u32,
    ) -> Result<Vec<DueCallback>, StoreError> {
        let rows = sqlx::query(DUE)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(due).collect()
    }

    /// When the earliest undelivered delivery is due (RFC 3339), if any.
    pub async fn next_callback_at(&self) -> Result<Option<String>, StoreError> {
        let next: (Option<String>,) = sqlx::query_as(NEXT_DUE).fetch_one(&self.reader).await?;
        Ok(next.0)
    }

    /// Record attempt number `number` of `due` and its consequence.
    #[instrument(skip_all, fields(id = %due.id, number))]
    pub async fn record_attempt(
        &self,
        due: &DueCallback,
        number: u32,
        attempt: Attempt,
    ) -> Result<(), StoreError> {
        let t = due.payload.tables();
        let insert = format!(
            "insert into {} ({}, attempt, at, status, error) values ($1, $2, $3, $4, $5)",
            t.attempts, t.attempt_key
        );
        let update = format!(
            "update {} set attempts = $2, delivered_at = $3, gave_up_at = $4, \
             next_at = coalesce($5, next_at), last_error = $6 where {} = $1",
            t.deliveries, t.key
        );
        let id = due.id.clone();
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    // Table and column names come from `Payload::tables`, never from input.
                    sqlx::query(sqlx::AssertSqlSafe(insert))
                        .bind(&id)
                        .bind(i64::from(number))
                        .bind(&attempt.at)
                        .bind(attempt.status.map(i64::from))
                        .bind(&attempt.error)
                        .execute(&mut *conn)
                        .await?;
                    let (delivered, next_at, gave_up) = match &attempt.next {
                        Next::Delivered => (Some(&attempt.at), None, None),
                        Next::RetryAt(at) => (None, Some(at), None),
                        Next::GiveUp => (None, None, Some(&attempt.at)),
                    };
                    sqlx::query(sqlx::AssertSqlSafe(update))
                        .bind(&id)
                        .bind(i64::from(number))
                        .bind(delivered)
                        .bind(gave_up)
                        .bind(next_at)
                        .bind(&attempt.error)
                        .execute(conn)
                        .await
                        .map(drop)
                })
            })
            .await
    }
}

/// A row of [`Store::due_callbacks`].
fn due(r: &sqlx::any::AnyRow) -> Result<DueCallback, StoreError> {
    let what: String = r.try_get(3)?;
    let payload = match r.try_get::<String, _>(2)?.as_str() {
        "record" => Payload::Record { source: what },
        _ => Payload::Event { body: what },
    };
    Ok(DueCallback {
        id: r.try_get(0)?,
        reset_id: r.try_get(1)?,
        payload,
        attempts: u32::try_from(r.try_get::<i64, _>(4)?).unwrap_or(u32::MAX),
    })
}
