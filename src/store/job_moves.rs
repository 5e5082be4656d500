//! The moves of a job's items that are SQL of their own (put back in the
//! queue, cancelled with their job), and a job's own events.

use serde_json::{Value, json};
use sqlx::AnyConnection;

use super::{chain, row};
use crate::record::{ResetRecord, Status};

pub(super) async fn requeue(
    conn: &mut AnyConnection,
    record: &ResetRecord,
    from: Status,
    request: &str,
    holder: &row::Holder,
) -> Result<bool, sqlx::Error> {
    // A job that was cancelled (or denied, or expired) wants none of its
    // items: the caller settles this one as it would a single reset.
    let state: Option<String> = sqlx::query_scalar(
        "select j.state from jobs j join resets r on r.job_id = j.id where r.id = $1",
    )
    .bind(&record.id)
    .fetch_optional(&mut *conn)
    .await?;
    let wanted = matches!(state.as_deref(), Some("running" | "paused"));
    if !wanted {
        return Ok(false);
    }
    let moved = sqlx::query(concat!(
        "update resets set status = 'queued', lease_owner = null, lease_expires_at = null \
         where id = $1 and status = $2 and job_id is not null returning ",
        row::columns!()
    ))
    .bind(&record.id)
    .bind(from.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(moved) = moved else {
        return Ok(false);
    };
    chain::reset_event(conn, &moved, Some(from), chain::service(&holder.owner)).await?;
    sqlx::query(
        "insert into reset_queue (reset_id, request, caller, source, enqueued_at, job_id) \
         select r.id, $2, j.caller, null, r.created_at, j.id from resets r \
         join jobs j on j.id = r.job_id where r.id = $1",
    )
    .bind(&record.id)
    .bind(request)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// End a job that is in one of `from` (three states at most) as `to`,
/// with its queued items `cancelled`; the count of those, or `None` when
/// the job was in no state of `from`.
pub(super) async fn end(
    conn: &mut AnyConnection,
    id: &str,
    from: &[&str],
    to: &str,
    approval: Option<&str>,
    actor: Value,
) -> Result<Option<u64>, sqlx::Error> {
    let now = crate::record::now_rfc3339();
    let state = |i: usize| from.get(i).or(from.first()).copied().unwrap_or_default();
    let moved = sqlx::query(
        "update jobs set state = $3, finished_at = $2, approval = coalesce($7, approval) \
         where id = $1 and state in ($4, $5, $6)",
    )
    .bind(id)
    .bind(&now)
    .bind(to)
    .bind(state(0))
    .bind(state(1))
    .bind(state(2))
    .bind(approval.map(str::to_owned))
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() == 0 {
        return Ok(None);
    }
    // The entries first: a worker that holds one (PostgreSQL) finishes its
    // claim before this delete goes on, and its row is then no longer queued.
    sqlx::query("delete from reset_queue where job_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let cancelled = sqlx::query(concat!(
        "update resets set status = 'cancelled', completed_at = $2 \
         where job_id = $1 and status = 'queued' returning ",
        row::columns!()
    ))
    .bind(id)
    .bind(&now)
    .fetch_all(&mut *conn)
    .await?;
    let data = json!({"from": from, "to": to, "approval": approval.map(parsed), "items_cancelled": cancelled.len()});
    job_event(conn, id, &format!("job.{to}"), actor.clone(), data).await?;
    // Each item's own move, after the job's: in item order, one event each.
    for item in &cancelled {
        chain::reset_event(conn, item, Some(Status::Queued), actor.clone()).await?;
    }
    Ok(Some(cancelled.len() as u64))
}

/// A job's own event (created, paused, resumed, cancelled, decided).
pub(super) async fn job_event(
    conn: &mut AnyConnection,
    id: &str,
    kind: &str,
    actor: Value,
    data: Value,
) -> Result<(), sqlx::Error> {
    let draft = crate::audit::Draft {
        kind: kind.to_owned(),
        subject: id.to_owned(),
        actor,
        data,
    };
    chain::append(conn, draft).await.map(drop)
}

/// A stored JSON column as JSON (text that is not JSON stays text).
pub(super) fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}
