//! Mapping between [`ResetRecord`] and the `resets` table.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, Row};

use super::StoreError;
use crate::record::{
    InvitationRecord, PolicyRecord, ProblemRecord, Requester, ResetRecord, Status, Target,
};

type Query = sqlx::query::Query<'static, Any, AnyArguments>;

/// The columns in bind order; a macro so `concat!` can build `'static` SQL.
macro_rules! columns {
    () => {
        "id, status, dry_run, requested_user, target_id, target_upn, target_previous_email, \
         target_user_type, target_external_user_state, new_email, other_mails_added, \
         send_invitation_message, redirect_url, invitation_id, invitation_status, \
         graph_request_ids, requester_subject, requester_app, requester_name, ticket, reason, \
         policy_allowed, policy_rule, policy_reasons, problem_type, problem_title, \
         problem_status, problem_detail, request_id, created_at, completed_at, \
         requester_issuer, requester_object_id, requester_tenant_id, policy_version, \
         override_cooldown, evidence, retry_of, target_external_user_state_changed_at, \
         invite_attempted_at, settle_after, tenant, tenant_id, approval, approval_expires_at, \
         requester_agent, requester_agent_via, job_id, job_item, job_total"
    };
}
pub(super) use columns;

pub(super) const SELECT_BY_ID: &str = concat!("select ", columns!(), " from resets where id = $1");

/// A worker's claim of a queued reset: it moves to `pending` under the
/// worker's lease and comes back whole (no second read).
pub(super) const CLAIM_QUEUED: &str = concat!(
    "update resets set status = 'pending', lease_owner = $2, lease_expires_at = $3 \
     where id = $1 and status = 'queued' returning ",
    columns!()
);

/// Rows a request or worker was driving whose owner stopped renewing its
/// lease (it died, or lost the database): reconciliation's work. A row
/// without a lease was written by a version before leases.
pub(super) const SELECT_LEASE_EXPIRED: &str = concat!(
    "select ",
    columns!(),
    " from resets where status in ('pending', 'running') \
     and (lease_expires_at is null or lease_expires_at < $1) order by id limit $2"
);

pub(super) const SELECT_APPROVAL_EXPIRED: &str = concat!(
    "select ",
    columns!(),
    " from resets where status in ('awaiting_approval', 'queued') and approval_expires_at < $1 \
     order by approval_expires_at limit $2"
);

pub(super) const SELECT_UNKNOWN_DUE: &str = concat!(
    "select ",
    columns!(),
    " from resets where status = 'unknown' and settle_after is not null \
     and settle_after <= $1 order by settle_after limit $2"
);

const INSERT: &str = concat!(
    "insert into resets (",
    columns!(),
    ", lease_owner, lease_expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
     $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, \
     $42, $43, $44, $45, $46, $47, $48, $49, $50, \
     case when $2 in ('pending', 'running') then $51 end, \
     case when $2 in ('pending', 'running') then $52 end)"
);

/// Same binds as INSERT (the id, requester, tenant, job and creation time never change),
/// applied only to the row still in the state bound last: a compare-and-set.
const UPDATE_FROM: &str = "update resets set status = $2, dry_run = $3, requested_user = $4, target_id = $5, \
     target_upn = $6, target_previous_email = $7, target_user_type = $8, \
     target_external_user_state = $9, new_email = $10, other_mails_added = $11, \
     send_invitation_message = $12, redirect_url = $13, invitation_id = $14, \
     invitation_status = $15, graph_request_ids = $16, ticket = $20, reason = $21, \
     policy_allowed = $22, policy_rule = $23, policy_reasons = $24, \
     problem_type = $25, problem_title = $26, problem_status = $27, \
     problem_detail = $28, request_id = $29, completed_at = $31, \
     policy_version = $35, override_cooldown = $36, evidence = $37, target_external_user_state_changed_at = $39, \
     invite_attempted_at = $40, settle_after = $41, approval = $44, approval_expires_at = $45, \
     lease_owner = case when $2 in ('pending', 'running') then coalesce(lease_owner, $52) end, \
     lease_expires_at = case when $2 in ('pending', 'running') then coalesce(lease_expires_at, $53) end \
     where id = $1 and status = $51";

/// A new row; one the owner drives (pending, running) carries its lease.
pub(super) fn insert(r: &ResetRecord, lease: &Holder) -> Query {
    bind_all(sqlx::query(INSERT), r)
        .bind(lease.owner.clone())
        .bind(lease.expires_at())
}

/// Leaving pending/running drops the lease; entering it (a claimed queue
/// entry) takes one.
pub(super) fn update_from(r: &ResetRecord, from: Status, lease: &Holder) -> Query {
    bind_all(sqlx::query(UPDATE_FROM), r)
        .bind(from.as_str())
        .bind(lease.owner.clone())
        .bind(lease.expires_at())
}

/// Who this process is, for the leases on the rows it drives.
#[derive(Debug, Clone)]
pub(super) struct Holder {
    pub owner: String,
    pub ttl: std::time::Duration,
}

impl Holder {
    pub fn expires_at(&self) -> String {
        let ttl = time::Duration::try_from(self.ttl).unwrap_or(time::Duration::MINUTE);
        crate::record::format_timestamp(time::OffsetDateTime::now_utc() + ttl)
    }
}

/// Bind all 50 columns in `columns!()` order, so insert and update share one
/// numbering.
fn bind_all(q: Query, r: &ResetRecord) -> Query {
    let problem = r.problem.as_ref();
    let policy = r.policy.as_ref();
    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    q.bind(r.id.clone())
        .bind(r.status.as_str())
        .bind(i64::from(r.dry_run))
        .bind(r.user.clone())
        .bind(r.target.id.clone())
        .bind(r.target.user_principal_name.clone())
        .bind(r.target.previous_email.clone())
        .bind(r.target.user_type.clone())
        .bind(r.target.external_user_state.clone())
        .bind(r.new_email.clone())
        .bind(i64::from(r.other_mails_added))
        .bind(r.send_invitation_message.map(i64::from))
        .bind(r.redirect_url.clone())
        .bind(r.invitation.as_ref().map(|i| i.id.clone()))
        .bind(r.invitation.as_ref().map(|i| i.status.clone()))
        .bind(json(&r.graph_request_ids))
        .bind(r.requested_by.subject.clone())
        .bind(r.requested_by.app.clone())
        .bind(r.requested_by.name.clone())
        .bind(r.ticket.clone())
        .bind(r.reason.clone())
        .bind(policy.map(|p| i64::from(p.allowed)))
        .bind(policy.and_then(|p| p.rule.clone()))
        .bind(policy.map(|p| json(&p.reasons)))
        .bind(problem.map(|p| p.kind.clone()))
        .bind(problem.map(|p| p.title.clone()))
        .bind(problem.map(|p| i64::from(p.status)))
        .bind(problem.map(|p| p.detail.clone()))
        .bind(r.request_id.clone())
        .bind(r.created_at.clone())
        .bind(r.completed_at.clone())
        .bind(r.requested_by.issuer.clone())
        .bind(r.requested_by.object_id.clone())
        .bind(r.requested_by.tenant_id.clone())
        .bind(policy.and_then(|p| p.version.clone()))
        .bind(i64::from(r.override_cooldown))
        .bind(
            r.evidence
                .as_ref()
                .and_then(|e| serde_json::to_string(e).ok()),
        )
        .bind(r.retry_of.clone())
        .bind(r.target.external_user_state_change_date_time.clone())
        .bind(r.invite_attempted_at.clone())
        .bind(r.settle_after.clone())
        .bind(r.tenant.clone())
        .bind(r.tenant_id.clone())
        .bind(
            r.approval
                .as_ref()
                .and_then(|a| serde_json::to_string(a).ok()),
        )
        // When the approval ends: waiting, its expiry; approved, its run-by.
        .bind(
            r.approval
                .as_ref()
                .map(|a| a.run_by.clone().unwrap_or_else(|| a.expires_at.clone())),
        )
        .bind(r.requested_by.agent.as_ref().map(|a| a.id.clone()))
        .bind(r.requested_by.agent.as_ref().map(|a| a.via.as_str()))
        .bind(r.job.as_ref().map(|j| j.id.clone()))
        .bind(r.job.as_ref().map(|j| i64::from(j.item)))
        .bind(r.job.as_ref().map(|j| i64::from(j.total)))
}

pub(super) fn from_row(row: &AnyRow) -> Result<ResetRecord, StoreError> {
    let id: String = row.try_get("id")?;
    let corrupt = |what: &str| StoreError::Corrupt {
        id: id.clone(),
        what: what.to_owned(),
    };
    let status: String = row.try_get("status")?;
    let list = |col: &str| -> Result<Vec<String>, StoreError> {
        let raw: Option<String> = row.try_get(col)?;
        raw.map_or(Ok(Vec::new()), |s| {
            serde_json::from_str(&s).map_err(|_| corrupt(col))
        })
    };
    Ok(ResetRecord {
        status: Status::parse(&status).ok_or_else(|| corrupt("status"))?,
        dry_run: flag(row, "dry_run")?,
        user: row.try_get("requested_user")?,
        problem: problem(row)?,
        target: Target {
            id: row.try_get("target_id")?,
            user_principal_name: row.try_get("target_upn")?,
            previous_email: row.try_get("target_previous_email")?,
            user_type: row.try_get("target_user_type")?,
            external_user_state: row.try_get("target_external_user_state")?,
            external_user_state_change_date_time: row
                .try_get("target_external_user_state_changed_at")?,
        },
        new_email: row.try_get("new_email")?,
        other_mails_added: flag(row, "other_mails_added")?,
        send_invitation_message: row
            .try_get::<Option<i64>, _>("send_invitation_message")?
            .map(|v| v != 0),
        redirect_url: row.try_get("redirect_url")?,
        invitation: invitation(row)?,
        graph_request_ids: list("graph_request_ids")?,
        requested_by: Requester {
            issuer: row.try_get("requester_issuer")?,
            object_id: row.try_get("requester_object_id")?,
            tenant_id: row.try_get("requester_tenant_id")?,
            subject: row.try_get("requester_subject")?,
            app: row.try_get("requester_app")?,
            name: row.try_get("requester_name")?,
            agent: agent(row)?,
        },
        ticket: row.try_get("ticket")?,
        reason: row.try_get("reason")?,
        override_cooldown: flag(row, "override_cooldown")?,
        policy: policy(row, list("policy_reasons")?)?,
        request_id: row.try_get("request_id")?,
        evidence: json_column(row, "evidence").map_err(|_| corrupt("evidence"))?,
        invite_attempted_at: row.try_get("invite_attempted_at")?,
        settle_after: row.try_get("settle_after")?,
        retry_of: row.try_get("retry_of")?,
        approval: json_column(row, "approval").map_err(|_| corrupt("approval"))?,
        job: job(row)?,
        tenant: row.try_get("tenant")?,
        tenant_id: row.try_get("tenant_id")?,
        created_at: row.try_get("created_at")?,
        completed_at: row.try_get("completed_at")?,
        id,
    })
}

/// Flags are integers on both backends (0 or 1), so one SQL serves both.
fn flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// A nullable column holding JSON.
fn json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<Option<T>, ()> {
    let raw: Option<String> = row.try_get(column).map_err(drop)?;
    raw.map(|json| serde_json::from_str(&json).map_err(drop))
        .transpose()
}

fn problem(row: &AnyRow) -> Result<Option<ProblemRecord>, StoreError> {
    let kind: Option<String> = row.try_get("problem_type")?;
    let Some(kind) = kind else { return Ok(None) };
    let status: Option<i64> = row.try_get("problem_status")?;
    Ok(Some(ProblemRecord {
        kind,
        title: row
            .try_get::<Option<String>, _>("problem_title")?
            .unwrap_or_default(),
        status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(500),
        detail: row
            .try_get::<Option<String>, _>("problem_detail")?
            .unwrap_or_default(),
    }))
}

fn job(row: &AnyRow) -> Result<Option<crate::record::JobLink>, StoreError> {
    let id: Option<String> = row.try_get("job_id")?;
    let number = |col: &str| -> Result<u32, StoreError> {
        let n: Option<i64> = row.try_get(col)?;
        Ok(n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0))
    };
    Ok(match id {
        Some(id) => Some(crate::record::JobLink {
            id,
            item: number("job_item")?,
            total: number("job_total")?,
        }),
        None => None,
    })
}

fn agent(row: &AnyRow) -> Result<Option<crate::record::Agent>, StoreError> {
    let id: Option<String> = row.try_get("requester_agent")?;
    let via: Option<String> = row.try_get("requester_agent_via")?;
    Ok(id.map(|id| crate::record::Agent {
        id,
        via: crate::record::AgentVia::parse(via.as_deref().unwrap_or_default()),
    }))
}

fn invitation(row: &AnyRow) -> Result<Option<InvitationRecord>, StoreError> {
    let id: Option<String> = row.try_get("invitation_id")?;
    let status: Option<String> = row.try_get("invitation_status")?;
    Ok(id.map(|id| InvitationRecord {
        id,
        status: status.unwrap_or_default(),
    }))
}

fn policy(row: &AnyRow, reasons: Vec<String>) -> Result<Option<PolicyRecord>, StoreError> {
    let allowed: Option<bool> = row
        .try_get::<Option<i64>, _>("policy_allowed")?
        .map(|v| v != 0);
    Ok(match allowed {
        Some(allowed) => Some(PolicyRecord {
            allowed,
            rule: row.try_get("policy_rule")?,
            reasons,
            version: row.try_get("policy_version")?,
        }),
        None => None,
    })
}
