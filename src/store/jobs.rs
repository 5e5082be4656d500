//! Bulk jobs: the job row, and its items as resets. A job and all its items
//! (rows `queued`, each with its queue entry) are written in one
//! transaction, and `(job_id, job_item)` is unique: an item exists exactly
//! once, and from then on it is an ordinary queued reset (claimed with a
//! lease, reconciled if its replica dies), so a crash can neither lose nor
//! repeat it.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tracing::instrument;

use serde_json::{Value, json};

use super::job_moves::{end, job_event, parsed, requeue};
use super::{Store, StoreError, chain, row};
use crate::record::{ResetRecord, Status};
use crate::store::QueueEntry;

/// A job as stored; its progress is counted from its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredJob {
    pub id: String,
    pub kind: String,
    /// `awaiting_approval`, `running`, `paused`, `cancelled`, `denied` or
    /// `expired`; `finished` is derived from the items, never stored.
    pub state: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub requested_by: String,
    /// The creator's identity (JSON), which the items run with.
    pub caller: String,
    pub tenant: Option<String>,
    /// What was asked (JSON): the selection, ticket and reason.
    pub spec: String,
    pub total: u32,
    /// The approval it needs and its decisions (JSON), if any.
    pub approval: Option<String>,
}

/// A job's items per state, and when the last one finished.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub by_status: Vec<(Status, u64)>,
    pub last_completed_at: Option<String>,
}

impl JobCounts {
    pub fn of(&self, status: Status) -> u64 {
        self.by_status
            .iter()
            .filter(|(s, _)| *s == status)
            .map(|(_, n)| n)
            .sum()
    }
}

const JOB_COLUMNS: &str = "select id, kind, state, created_at, finished_at, requested_by, \
     caller, tenant, spec, total, approval from jobs";

impl Store {
    /// Write `job` and its items (rows `queued`, queue entries marked with
    /// the job) all or nothing.
    #[instrument(skip_all, fields(job_id = %job.id, items = items.len()))]
    pub async fn create_job(
        &self,
        job: StoredJob,
        items: Vec<(ResetRecord, QueueEntry)>,
    ) -> Result<(), StoreError> {
        let holder = self.holder.clone();
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    insert_job(conn, &job).await?;
                    for (record, entry) in &items {
                        chain::insert(conn, record, &holder).await?;
                        insert_entry(conn, record, entry, &job.id).await?;
                    }
                    let actor = caller_of(&job);
                    job_event(conn, &job.id, "job.created", actor, created(&job)).await
                })
            })
            .await
    }

    #[instrument(skip_all, fields(job_id = %id))]
    pub async fn job(&self, id: &str) -> Result<Option<StoredJob>, StoreError> {
        let sql = format!("{JOB_COLUMNS} where id = $1");
        let found = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        Ok(found.map(|r| job_from_row(&r)).transpose()?)
    }

    /// The newest jobs (of `requested_by`, when given), at most `limit`.
    pub async fn jobs(
        &self,
        requested_by: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredJob>, StoreError> {
        let sql = format!(
            "{JOB_COLUMNS} where ($1 is null or requested_by = $1) \
             order by created_at desc, id desc limit $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(requested_by.map(str::to_owned))
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
        Ok(rows.iter().map(job_from_row).collect::<Result<_, _>>()?)
    }

    /// How many of the job's items are in each state.
    pub async fn job_counts(&self, id: &str) -> Result<JobCounts, StoreError> {
        let rows: Vec<(String, i64, Option<String>)> = sqlx::query_as(
            "select status, count(*), max(completed_at) from resets where job_id = $1 group by status",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        let mut counts = JobCounts::default();
        for (status, n, last) in rows {
            let status = Status::parse(&status).ok_or_else(|| StoreError::Corrupt {
                id: id.to_owned(),
                what: format!("an item in state {status:?}"),
            })?;
            counts
                .by_status
                .push((status, u64::try_from(n).unwrap_or(0)));
            counts.last_completed_at = counts.last_completed_at.max(last);
        }
        Ok(counts)
    }

    /// Move the job from one of `from` to `to` (a compare-and-set); true
    /// when it moved. `finished_at` is set with a final state.
    #[instrument(skip_all, fields(job_id = %id, to))]
    pub async fn move_job(
        &self,
        id: &str,
        from: &[&str],
        to: &str,
        actor: Value,
    ) -> Result<bool, StoreError> {
        let (id, to) = (id.to_owned(), to.to_owned());
        let from: Vec<String> = from.iter().map(|s| (*s).to_owned()).collect();
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "update jobs set state = $2, \
                         finished_at = case when $2 in ('cancelled', 'finished') then $3 else finished_at end \
                         where id = $1 and state in ($4, $5)",
                    )
                    .bind(&id)
                    .bind(&to)
                    .bind(crate::record::now_rfc3339())
                    .bind(from.first().cloned().unwrap_or_default())
                    .bind(from.get(1).or(from.first()).cloned().unwrap_or_default())
                    .execute(&mut *conn)
                    .await?;
                    if done.rows_affected() != 1 {
                        return Ok(false);
                    }
                    let data = json!({"from": from, "to": to});
                    job_event(conn, &id, &format!("job.{to}"), actor, data).await?;
                    Ok(true)
                })
            })
            .await
    }

    /// Cancel a running or paused job: its queued items become `cancelled`
    /// (a compare-and-set on `queued`, so an item a worker took meanwhile
    /// runs to its end). `None`: the job was not running or paused.
    #[instrument(skip_all, fields(job_id = %id))]
    pub async fn cancel_job(&self, id: &str, actor: Value) -> Result<Option<u64>, StoreError> {
        let (id, from) = (id.to_owned(), ["running", "paused", "awaiting_approval"]);
        self.batch
            .write(move |conn| {
                Box::pin(async move { end(conn, &id, &from, "cancelled", None, actor).await })
            })
            .await
    }

    /// Record an approval decision on a job still `awaiting_approval`
    /// (a compare-and-set): `to` is `awaiting_approval` (more approvals
    /// needed), `running` (the last one came), or `denied` / `expired`,
    /// which end its queued items as `cancelled`. False when another writer
    /// decided first.
    #[instrument(skip_all, fields(job_id = %id, to))]
    pub async fn decide_job(
        &self,
        id: &str,
        to: &str,
        approval: String,
        actor: Value,
    ) -> Result<bool, StoreError> {
        let (id, to) = (id.to_owned(), to.to_owned());
        let from = ["awaiting_approval"];
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    let ends = matches!(to.as_str(), "denied" | "expired");
                    if ends {
                        let ended = end(conn, &id, &from, &to, Some(&approval), actor).await?;
                        return Ok(ended.is_some());
                    }
                    let moved = sqlx::query(
                        "update jobs set state = $2, approval = $3 where id = $1 and state = 'awaiting_approval'",
                    )
                    .bind(&id)
                    .bind(&to)
                    .bind(&approval)
                    .execute(&mut *conn)
                    .await?;
                    if moved.rows_affected() != 1 {
                        return Ok(false);
                    }
                    let data = json!({"from": "awaiting_approval", "to": to, "approval": parsed(&approval)});
                    job_event(conn, &id, &format!("job.{to}"), actor, data).await?;
                    Ok(true)
                })
            })
            .await
    }

    /// Put an interrupted job item that sent no invitation back in the
    /// queue: its row (still in `from`) moves to `queued` without a lease,
    /// and its entry (`request`, run as the job's creator) is written again,
    /// in one transaction fenced by `lease` when given. False when another
    /// writer moved the row first.
    #[instrument(skip_all, fields(reset_id = %record.id))]
    pub async fn requeue_item(
        &self,
        record: &ResetRecord,
        from: Status,
        request: String,
        lease: Option<&super::Lease>,
    ) -> Result<bool, StoreError> {
        let (record, lease, holder) = (record.clone(), lease.cloned(), self.holder.clone());
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    if let Some(lease) = &lease
                        && !super::lease::fence(conn, lease).await?
                    {
                        return Ok(false);
                    }
                    requeue(conn, &record, from, &request, &holder).await
                })
            })
            .await
    }

    /// The job's items after item number `after`, in item order.
    pub async fn job_items(
        &self,
        id: &str,
        status: Option<Status>,
        after: u32,
        limit: u32,
    ) -> Result<Vec<ResetRecord>, StoreError> {
        let sql = concat!(
            "select ",
            row::columns!(),
            " from resets where job_id = $1 and job_item > $2 \
             and ($3 is null or status = $3) order by job_item limit $4"
        );
        let rows = sqlx::query(sql)
            .bind(id)
            .bind(i64::from(after))
            .bind(status.map(|s| s.as_str().to_owned()))
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(row::from_row).collect()
    }
}

async fn insert_job(conn: &mut AnyConnection, job: &StoredJob) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into jobs (id, kind, state, created_at, finished_at, requested_by, caller, \
         tenant, spec, total, approval) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&job.id)
    .bind(&job.kind)
    .bind(&job.state)
    .bind(&job.created_at)
    .bind(&job.finished_at)
    .bind(&job.requested_by)
    .bind(&job.caller)
    .bind(&job.tenant)
    .bind(&job.spec)
    .bind(i64::from(job.total))
    .bind(&job.approval)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_entry(
    conn: &mut AnyConnection,
    record: &ResetRecord,
    entry: &QueueEntry,
    job_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into reset_queue (reset_id, request, caller, source, enqueued_at, job_id) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&record.id)
    .bind(&entry.request)
    .bind(&entry.caller)
    .bind(&entry.source)
    .bind(&record.created_at)
    .bind(job_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn job_from_row(r: &AnyRow) -> Result<StoredJob, sqlx::Error> {
    let total: i64 = r.try_get("total")?;
    Ok(StoredJob {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        state: r.try_get("state")?,
        created_at: r.try_get("created_at")?,
        finished_at: r.try_get("finished_at")?,
        requested_by: r.try_get("requested_by")?,
        caller: r.try_get("caller")?,
        tenant: r.try_get("tenant")?,
        spec: r.try_get("spec")?,
        total: u32::try_from(total).unwrap_or(0),
        approval: r.try_get("approval")?,
    })
}

fn created(job: &StoredJob) -> Value {
    json!({
        "kind": job.kind,
        "state": job.state,
        "tenant": job.tenant,
        "total": job.total,
        "requested_by": job.requested_by,
        "spec": parsed(&job.spec),
        "approval": job.approval.as_deref().map(parsed),
    })
}

/// The job's creator, from the identity its items run with.
fn caller_of(job: &StoredJob) -> Value {
    json!({"type": "caller", "subject": job.requested_by, "identity": parsed(&job.caller)})
}
