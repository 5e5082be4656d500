//! Result callbacks waiting to be delivered, and every attempt made.

use sqlx::Row;
use tracing::instrument;

use super::{Store, StoreError};

/// A callback whose next attempt is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCallback {
    pub reset_id: String,
    pub source: String,
    pub url: String,
    /// Attempts made so far.
    pub attempts: u32,
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
        let (id, source, url, now) = (
            reset_id.to_owned(),
            source.to_owned(),
            url.to_owned(),
            now.to_owned(),
        );
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "insert into callbacks (reset_id, source, url, next_at) values ($1, $2, $3, $4) \
                         on conflict (reset_id) do nothing",
                    )
                    .bind(&id)
                    .bind(&source)
                    .bind(&url)
                    .bind(&now)
                    .execute(conn)
                    .await
                    .map(drop)
                })
            })
            .await
    }

    /// Callbacks not delivered nor given up whose next attempt is due at `now`.
    pub async fn due_callbacks(
        &self,
        now: &str,
        limit: u32,
    ) -> Result<Vec<DueCallback>, StoreError> {
        let rows = sqlx::query(
            "select reset_id, source, url, attempts from callbacks where delivered_at is null \
             and gave_up_at is null and next_at <= $1 order by next_at limit $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DueCallback {
                    reset_id: r.try_get(0)?,
                    source: r.try_get(1)?,
                    url: r.try_get(2)?,
                    attempts: u32::try_from(r.try_get::<i64, _>(3)?).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// When the earliest undelivered callback is due (RFC 3339), if any.
    pub async fn next_callback_at(&self) -> Result<Option<String>, StoreError> {
        let next: (Option<String>,) = sqlx::query_as(
            "select min(next_at) from callbacks where delivered_at is null and gave_up_at is null",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(next.0)
    }

    /// Record attempt number `number` of `reset_id`'s callback and its consequence.
    #[instrument(skip_all, fields(reset_id = %reset_id, number))]
    pub async fn record_attempt(
        &self,
        reset_id: &str,
        number: u32,
        attempt: Attempt,
    ) -> Result<(), StoreError> {
        let id = reset_id.to_owned();
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query("insert into callback_attempts (reset_id, attempt, at, status, error) values ($1, $2, $3, $4, $5)")
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
                    sqlx::query(
                        "update callbacks set attempts = $2, delivered_at = $3, gave_up_at = $4, \
                         next_at = coalesce($5, next_at), last_error = $6 where reset_id = $1",
                    )
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
