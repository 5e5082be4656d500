//! Idempotency keys: claimed in the same transaction as the reset's pending
//! row (so a key can never point at a reset that was not recorded, nor two
//! resets share a key), completed with the answer to replay.

use sqlx::{AnyConnection, Row};
use tracing::instrument;

use super::{Store, StoreError, row};
use crate::record::ResetRecord;

/// A caller's key for one route, with the fingerprint of the request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyClaim {
    /// Issuer and subject of the caller: keys of different callers never meet.
    pub principal: String,
    pub route: String,
    pub key: String,
    pub fingerprint: String,
    pub created_at: String,
    pub expires_at: String,
}

/// What the store holds for a key (expired keys count as absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    Absent,
    InProgress {
        fingerprint: String,
        reset_id: String,
    },
    Done {
        fingerprint: String,
        reset_id: String,
        answer: StoredAnswer,
    },
}

/// The answer given the first time, replayed for a retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// The headers a replay repeats, as (name, value); empty for answers
    /// stored before they were kept.
    pub headers: Vec<(String, String)>,
}

const LOOKUP: &str = "select fingerprint, reset_id, state, status, content_type, body, headers \
                      from idempotency_keys where principal = $1 and route = $2 and key = $3 \
                      and expires_at > $4";

impl Store {
    #[instrument(skip_all)]
    pub async fn idempotency_lookup(&self, c: &KeyClaim) -> Result<KeyState, StoreError> {
        let found = sqlx::query(LOOKUP)
            .bind(&c.principal)
            .bind(&c.route)
            .bind(&c.key)
            .bind(&c.created_at)
            .fetch_optional(&self.writer)
            .await?;
        let Some(r) = found else {
            return Ok(KeyState::Absent);
        };
        let (fingerprint, reset_id) = (r.try_get("fingerprint")?, r.try_get("reset_id")?);
        if r.try_get::<String, _>("state")? == "in_progress" {
            return Ok(KeyState::InProgress {
                fingerprint,
                reset_id,
            });
        }
        let headers = r.try_get::<Option<String>, _>("headers")?;
        let answer = StoredAnswer {
            status: u16::try_from(r.try_get::<i64, _>("status")?).unwrap_or(500),
            content_type: r.try_get("content_type")?,
            body: r.try_get("body")?,
            headers: match headers {
                Some(json) => serde_json::from_str(&json).map_err(|_| StoreError::Corrupt {
                    id: reset_id.clone(),
                    what: "idempotency_keys.headers".into(),
                })?,
                None => Vec::new(),
            },
        };
        Ok(KeyState::Done {
            fingerprint,
            reset_id,
            answer,
        })
    }

    /// Insert `record` as pending and claim `key` for it, atomically. `false`
    /// (and nothing written) when a live claim for the key already exists.
    #[instrument(skip_all, fields(reset_id = %record.id))]
    pub async fn insert_claiming(
        &self,
        record: &ResetRecord,
        key: &KeyClaim,
    ) -> Result<bool, StoreError> {
        let (record, key, holder) = (record.clone(), key.clone(), self.holder.clone());
        self.batch
            .write(move |conn| Box::pin(async move { claim(conn, &record, &key, &holder).await }))
            .await
    }

    /// Store the answer for a key claimed by `reset_id` (no-op otherwise).
    #[instrument(skip_all, fields(reset_id = %reset_id))]
    pub async fn idempotency_complete(
        &self,
        key: &KeyClaim,
        reset_id: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        let (key, reset_id, answer) = (key.clone(), reset_id.to_owned(), answer.clone());
        self.batch
            .write(move |conn| {
                Box::pin(async move { complete(conn, &key, &reset_id, &answer).await })
            })
            .await
    }
}

/// The key's primary key decides between two requests sent at the same
/// instant (to two replicas, say): the second insert waits for the first's
/// commit, then finds the key taken and live and claims nothing. An expired
/// claim for the same key is replaced, as the draft allows.
pub(super) async fn claim(
    conn: &mut AnyConnection,
    record: &ResetRecord,
    key: &KeyClaim,
    holder: &row::Holder,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query(
        "insert into idempotency_keys (principal, route, key, fingerprint, reset_id, \
             state, created_at, expires_at) values ($1, $2, $3, $4, $5, 'in_progress', $6, $7) \
         on conflict (principal, route, key) do update set fingerprint = excluded.fingerprint, \
             reset_id = excluded.reset_id, state = 'in_progress', status = null, \
             content_type = null, body = null, headers = null, \
             created_at = excluded.created_at, expires_at = excluded.expires_at \
         where idempotency_keys.expires_at <= excluded.created_at",
    )
    .bind(&key.principal)
    .bind(&key.route)
    .bind(&key.key)
    .bind(&key.fingerprint)
    .bind(&record.id)
    .bind(&key.created_at)
    .bind(&key.expires_at)
    .execute(&mut *conn)
    .await?;
    if claimed.rows_affected() == 0 {
        return Ok(false);
    }
    super::chain::insert(conn, record, holder).await?;
    Ok(true)
}

impl Store {
    /// Forget keys past their retention; returns how many.
    #[instrument(skip_all)]
    pub async fn purge_expired_keys(&self, now: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("delete from idempotency_keys where expires_at <= $1")
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}

async fn complete(
    conn: &mut AnyConnection,
    key: &KeyClaim,
    reset_id: &str,
    answer: &StoredAnswer,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update idempotency_keys set state = 'done', status = $1, content_type = $2, body = $3, \
         headers = $8 where principal = $4 and route = $5 and key = $6 and reset_id = $7",
    )
    .bind(i64::from(answer.status))
    .bind(&answer.content_type)
    .bind(&answer.body)
    .bind(&key.principal)
    .bind(&key.route)
    .bind(&key.key)
    .bind(reset_id)
    .bind(serde_json::to_string(&answer.headers).unwrap_or_else(|_| "[]".into()))
    .execute(conn)
    .await
    .map(drop)
}
