//! Appending to the audit chain (`crate::audit`), always inside the
//! transaction of the change the event records: a reset's row and its event
//! commit together or not at all. Every reset write goes through
//! [`insert`] or [`update_from`] here, so no move escapes the log.
//!
//! Appends are serialised by the head row: the first statement of an append
//! updates it, which takes its row lock on PostgreSQL until the commit (and
//! SQLite has one writer). The append comes last in its transaction, after
//! the row locks of the change itself, so the head is held only from there
//! to the commit, and no transaction waits for another lock while holding it.

use serde_json::{Value, json};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::row;
use crate::audit::{Draft, Event, canonical_json};
use crate::record::{Requester, ResetRecord, Status};

/// Place `draft` at the head of the chain.
pub(super) async fn append(conn: &mut AnyConnection, draft: Draft) -> Result<Event, sqlx::Error> {
    let (seq, prev): (i64, String) =
        sqlx::query_as("update audit_head set seq = seq + 1 where id = 1 returning seq, hash")
            .fetch_one(&mut *conn)
            .await?;
    let seq = u64::try_from(seq).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let event = draft.seal(seq, crate::record::now_rfc3339(), prev);
    sqlx::query(
        "insert into audit_events (seq, at, kind, subject, actor, data, prev, hash) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq as i64)
    .bind(&event.at)
    .bind(&event.kind)
    .bind(&event.subject)
    .bind(canonical_json(&event.actor))
    .bind(canonical_json(&event.data))
    .bind(&event.prev)
    .bind(&event.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("update audit_head set hash = $1 where id = 1")
        .bind(&event.hash)
        .execute(&mut *conn)
        .await?;
    Ok(event)
}

/// Write a new reset row and its `reset.received` event; the requester acts.
pub(super) async fn insert(
    conn: &mut AnyConnection,
    record: &ResetRecord,
    holder: &row::Holder,
) -> Result<(), sqlx::Error> {
    let stored = row::insert(record, holder).fetch_one(&mut *conn).await?;
    reset_event(conn, &stored, None, caller(&record.requested_by)).await
}

/// Move a reset row from `from` (a compare-and-set) and record the move;
/// false, and nothing recorded, when the row was not in `from`.
pub(super) async fn update_from(
    conn: &mut AnyConnection,
    record: &ResetRecord,
    from: Status,
    holder: &row::Holder,
    actor: Value,
) -> Result<bool, sqlx::Error> {
    let Some(stored) = row::update_from(record, from, holder)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(false);
    };
    reset_event(conn, &stored, Some(from), actor).await?;
    Ok(true)
}

/// The event for a reset row as it now stands (read back from the write
/// itself, so the event shows exactly what the row holds).
pub(super) async fn reset_event(
    conn: &mut AnyConnection,
    stored: &AnyRow,
    from: Option<Status>,
    actor: Value,
) -> Result<(), sqlx::Error> {
    let record = row::from_row(stored).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let kind = match from {
        None => "reset.received".to_owned(),
        Some(from) if from == record.status => "reset.updated".to_owned(),
        Some(_) => format!("reset.{}", record.status.as_str()),
    };
    let data = json!({
        "from": from.map(Status::as_str),
        "reset": serde_json::to_value(&record).map_err(|e| sqlx::Error::Decode(e.into()))?,
    });
    let subject = record.id;
    append(
        conn,
        Draft {
            kind,
            subject,
            actor,
            data,
        },
    )
    .await
    .map(drop)
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
