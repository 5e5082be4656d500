//! Appending to the audit chain (`crate::audit`), always inside the
//! transaction of the change the event records: a reset's row and its event
//! commit together or not at all. Every reset write goes through this file,
//! so no move escapes the log.
//!
//! Appends are serialised by the head row: the first statement of an append
//! updates it, which takes its row lock on PostgreSQL until the commit (and
//! SQLite has one writer). The append comes last in its transaction, after
//! the row locks of the change itself, so the head is held only from there
//! to the commit, and no transaction waits for another lock while holding it.
//! A hot write encodes its event (the JSON, the bulk of the work) before it
//! queues for the writer ([`ResetWrite`]), so the writer only hashes.

use serde_json::{Value, json};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::{Backend, StoreError, row};
use crate::audit::{Draft, Encoded, Event, digest};
use crate::record::{Requester, ResetRecord, Status};

/// A reset's row to write and its event, encoded.
pub(super) struct ResetWrite {
    pub record: ResetRecord,
    event: Encoded,
}

/// `record` moved from `from` (`None`: new) by `actor`, ready to write.
pub(super) fn reset_write(
    record: ResetRecord,
    from: Option<Status>,
    actor: Value,
) -> Result<ResetWrite, StoreError> {
    let event = reset_draft(&record, from, actor)
        .map_err(|e| StoreError::Corrupt {
            id: record.id.clone(),
            what: e.to_string(),
        })?
        .encode(crate::record::now_rfc3339());
    Ok(ResetWrite { record, event })
}

fn reset_draft(
    record: &ResetRecord,
    from: Option<Status>,
    actor: Value,
) -> Result<Draft, serde_json::Error> {
    let kind = match from {
        None => "reset.received".to_owned(),
        Some(from) if from == record.status => "reset.updated".to_owned(),
        Some(_) => format!("reset.{}", record.status.as_str()),
    };
    let data = json!({"from": from.map(Status::as_str), "reset": serde_json::to_value(record)?});
    Ok(Draft {
        kind,
        subject: record.id.clone(),
        actor,
        data,
    })
}

/// Write a new reset row and its `reset.received` event.
pub(super) async fn insert_write(
    conn: &mut AnyConnection,
    write: ResetWrite,
    holder: &row::Holder,
) -> Result<(), sqlx::Error> {
    row::insert(&write.record, holder)
        .execute(&mut *conn)
        .await?;
    append_reset(conn, write).await
}

/// Move a reset row from `from` (a compare-and-set) and record the move;
/// false, and nothing recorded, when the row was not in `from`.
pub(super) async fn update_write(
    conn: &mut AnyConnection,
    write: ResetWrite,
    from: Status,
    holder: &row::Holder,
) -> Result<bool, sqlx::Error> {
    let done = row::update_from(&write.record, from, holder)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    append_reset(conn, write).await.map(|()| true)
}

/// [`insert_write`], encoding inside the writer (a write of its own kind).
pub(super) async fn insert(
    conn: &mut AnyConnection,
    record: &ResetRecord,
    holder: &row::Holder,
) -> Result<(), sqlx::Error> {
    let write = reset_write(record.clone(), None, caller(&record.requested_by)).map_err(decode)?;
    insert_write(conn, write, holder).await
}

/// [`update_write`], encoding inside the writer.
pub(super) async fn update_from(
    conn: &mut AnyConnection,
    record: &ResetRecord,
    from: Status,
    holder: &row::Holder,
    actor: Value,
) -> Result<bool, sqlx::Error> {
    let write = reset_write(record.clone(), Some(from), actor).map_err(decode)?;
    update_write(conn, write, from, holder).await
}

/// The event for a row a statement moved and returned whole.
pub(super) async fn reset_event(
    conn: &mut AnyConnection,
    stored: &AnyRow,
    from: Option<Status>,
    actor: Value,
) -> Result<(), sqlx::Error> {
    let record = row::from_row(stored).map_err(decode)?;
    append_reset(conn, reset_write(record, from, actor).map_err(decode)?).await
}

/// A row written before the chain existed, recorded as it stands
/// (`reset.adopted`: the shape of `reset.received`, another name).
pub(super) async fn adopted_event(
    conn: &mut AnyConnection,
    stored: &AnyRow,
    actor: Value,
) -> Result<(), sqlx::Error> {
    let record = row::from_row(stored).map_err(decode)?;
    let mut draft = reset_draft(&record, None, actor).map_err(decode)?;
    draft.kind = "reset.adopted".into();
    append(conn, draft).await.map(drop)
}

async fn append_reset(conn: &mut AnyConnection, write: ResetWrite) -> Result<(), sqlx::Error> {
    // The tests run with this check: an event must show the row exactly as
    // stored, or verification would call the row edited.
    if cfg!(debug_assertions) {
        let stored = sqlx::query(row::SELECT_BY_ID)
            .bind(&write.record.id)
            .fetch_one(&mut *conn)
            .await?;
        let value = serde_json::to_value(row::from_row(&stored).map_err(decode)?)
            .map_err(|e| sqlx::Error::Decode(e.into()))?;
        let shown: Value =
            serde_json::from_str(&write.event.data).map_err(|e| sqlx::Error::Decode(e.into()))?;
        if shown["reset"] != value {
            return Err(sqlx::Error::Protocol(format!(
                "the event of reset {} differs from its row",
                write.record.id
            )));
        }
    }
    append_encoded(conn, write.event).await.map(drop)
}

/// Place `draft` at the head of the chain.
pub(super) async fn append(conn: &mut AnyConnection, draft: Draft) -> Result<Event, sqlx::Error> {
    append_encoded(conn, draft.encode(crate::record::now_rfc3339())).await
}

async fn append_encoded(conn: &mut AnyConnection, event: Encoded) -> Result<Event, sqlx::Error> {
    if Backend::of(conn) == Backend::Postgres {
        return append_in_one(conn, event).await;
    }
    let (seq, prev): (i64, String) = sqlx::query_as(
        "update audit_head set seq = seq + 1, prev = hash where id = 1 returning seq, hash",
    )
    .fetch_one(&mut *conn)
    .await?;
    let seq = u64::try_from(seq).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let hash = event.hash_at(seq, &prev);
    sqlx::query(
        "insert into audit_events (seq, at, kind, subject, actor, data, prev, hash) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq as i64)
    .bind(&event.at)
    .bind(event.kind())
    .bind(event.subject())
    .bind(&event.actor)
    .bind(&event.data)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("update audit_head set hash = $1 where id = 1")
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(event.placed(seq, prev, hash))
}

/// PostgreSQL: one statement takes the head's lock, hashes (the SET sees
/// the head as it was: its hash is the new event's `prev`) and inserts the
/// event, so the head is held for one round trip and the commit, not three.
/// The bytes around `prev` and `seq` come from Rust (`audit::preimage`), as
/// bytea so the database's encoding cannot change them.
async fn append_in_one(conn: &mut AnyConnection, event: Encoded) -> Result<Event, sqlx::Error> {
    let (seq, prev, hash): (i64, String, String) = sqlx::query_as(
        "with h as (update audit_head set seq = seq + 1, prev = hash, \
           hash = encode(sha256($1::bytea || convert_to(hash || '\",\"seq\":' || (seq + 1)::text, 'UTF8') \
                  || $2::bytea), 'hex') \
         where id = 1 returning seq, prev, hash) \
         insert into audit_events (seq, at, kind, subject, actor, data, prev, hash) \
         select seq, $3, $4, $5, $6, $7, prev, hash from h returning seq, prev, hash",
    )
    .bind(event.prefix.as_bytes().to_vec())
    .bind(event.suffix.as_bytes().to_vec())
    .bind(&event.at)
    .bind(event.kind())
    .bind(event.subject())
    .bind(&event.actor)
    .bind(&event.data)
    .fetch_one(&mut *conn)
    .await?;
    let seq = u64::try_from(seq).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let event = event.placed(seq, prev, hash);
    // The database and Rust must hash alike; the tests run with this check.
    if cfg!(debug_assertions) && digest(&event) != event.hash {
        return Err(sqlx::Error::Protocol(format!(
            "event {seq}: PostgreSQL hashed otherwise than Rust"
        )));
    }
    Ok(event)
}

fn decode(e: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

/// The person or application behind a request, as the token named them.
pub fn caller(r: &Requester) -> Value {
    json!({
        "type": "caller",
        "issuer": r.issuer,
        "subject": r.subject,
        "name": r.name,
        "app": r.app,
        "agent": r.agent.as_ref().map(|a| serde_json::to_value(a).unwrap_or(Value::Null)),
    })
}

/// This replica acting on its own (a worker, reconciliation, a sweep).
pub fn service(replica: &str) -> Value {
    json!({"type": "service", "replica": replica})
}
