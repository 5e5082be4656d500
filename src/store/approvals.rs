//! Resets that wait for approval: the request kept for the queue, and the
//! decisions, each applied inside one write transaction on the locked row,
//! so two approvals arriving at once (on two replicas) are counted one after
//! the other and the reset is queued once.

use sqlx::AnyConnection;
use tracing::instrument;

use super::{Backend, QueueEntry, Store, StoreError, row};
use crate::record::{ResetRecord, Status};

/// Keep the request of a reset that now waits for approval.
pub(super) async fn park(
    conn: &mut AnyConnection,
    reset_id: &str,
    entry: &QueueEntry,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into approval_requests (reset_id, request, caller, source) values ($1, $2, $3, $4)",
    )
    .bind(reset_id)
    .bind(&entry.request)
    .bind(&entry.caller)
    .bind(&entry.source)
    .execute(conn)
    .await?;
    Ok(())
}

/// Move the kept request into the queue (the last approval is in).
async fn release(conn: &mut AnyConnection, reset_id: &str, at: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into reset_queue (reset_id, request, caller, source, enqueued_at) \
         select reset_id, request, caller, source, $2 from approval_requests where reset_id = $1",
    )
    .bind(reset_id)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    forget(conn, reset_id).await
}

async fn forget(conn: &mut AnyConnection, reset_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("delete from approval_requests where reset_id = $1")
        .bind(reset_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// What an approval action decided about a reset.
pub type Act<T> = Box<dyn FnOnce(ResetRecord) -> (T, Option<ResetRecord>) + Send>;

impl Store {
    /// Lock reset `id`, let `act` look at it and return the record to
    /// write (moved from the state it was read in); a record moved to
    /// `queued` takes its kept request into the queue, one that leaves
    /// `awaiting_approval` otherwise drops it. `None`: no such reset.
    #[instrument(skip_all, fields(reset_id = %id))]
    pub async fn act_on_approval<T: Send + 'static>(
        &self,
        id: &str,
        actor: serde_json::Value,
        act: Act<T>,
    ) -> Result<Option<T>, StoreError> {
        let (backend, holder, id) = (self.backend, self.holder.clone(), id.to_owned());
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    let lock = match backend {
                        Backend::Postgres => " for update",
                        Backend::Sqlite => "",
                    };
                    let sql = format!("{}{lock}", row::SELECT_BY_ID);
                    let Some(found) = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(&id)
                        .fetch_optional(&mut *conn)
                        .await?
                    else {
                        return Ok(None);
                    };
                    let before =
                        row::from_row(&found).map_err(|e| sqlx::Error::Decode(e.into()))?;
                    let from = before.status;
                    let (answer, after) = act(before);
                    if let Some(after) = after {
                        write(conn, &after, from, &holder, actor).await?;
                    }
                    Ok(Some(answer))
                })
            })
            .await
    }

    /// Awaiting resets whose approval ran out before `now`, and approved
    /// ones not run by their run-by time.
    pub async fn approvals_expired(
        &self,
        now: &str,
        limit: u32,
    ) -> Result<Vec<ResetRecord>, StoreError> {
        let rows = sqlx::query(row::SELECT_APPROVAL_EXPIRED)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.writer)
            .await?;
        rows.iter().map(row::from_row).collect()
    }
}

async fn write(
    conn: &mut AnyConnection,
    after: &ResetRecord,
    from: Status,
    holder: &row::Holder,
    actor: serde_json::Value,
) -> Result<(), sqlx::Error> {
    if !super::chain::update_from(conn, after, from, holder, actor).await? {
        return Err(sqlx::Error::Protocol("the reset moved meanwhile".into()));
    }
    match (from, after.status) {
        (Status::AwaitingApproval, Status::Queued) => {
            release(conn, &after.id, &crate::record::now_rfc3339()).await
        }
        (Status::AwaitingApproval, Status::AwaitingApproval) => Ok(()),
        (Status::AwaitingApproval, _) => forget(conn, &after.id).await,
        // Approved, but not run in time: it leaves the queue.
        (Status::Queued, Status::Expired) => {
            sqlx::query("delete from reset_queue where reset_id = $1")
                .bind(&after.id)
                .execute(conn)
                .await?;
            Ok(())
        }
        _ => Ok(()),
    }
}
