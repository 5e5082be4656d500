//! Planning a job: its items (a domain move listed from Graph), each checked
//! as the reset it becomes; then either written whole (the job and its
//! queued items in one transaction) or, for a dry run, each run as a dry-run
//! reset: the same reads and policy, nothing recorded, nothing written.

use super::input::{ItemInput, JobInput, JobSubmission};
use super::view::Spec;
use super::{JobError, JobView};
use crate::auth::Identity;
use crate::policy::Permission;
use crate::record::{JobLink, Status};
use crate::reset::intent::{new_record, requester};
use crate::reset::{ResetError, ResetRequest, ResetService, Step};
use crate::store::{QueueEntry, StoredJob};

impl ResetService {
    /// Record the job and its items (queued); the job as it starts.
    pub async fn submit_job(
        &self,
        caller: &Identity,
        request_id: Option<String>,
        job: JobSubmission,
    ) -> Result<JobView, JobError> {
        let (kind, tenant) = (kind(&job.input), job.tenant.clone());
        let checked = self.expand(caller, &job, false).await?;
        let id = format!("job-{}", uuid::Uuid::now_v7().simple());
        let total = u32::try_from(checked.len()).unwrap_or(u32::MAX);
        let mut items = Vec::with_capacity(checked.len());
        for (
            n,
            Checked {
                request,
                mut record,
                ..
            },
        ) in checked.into_iter().enumerate()
        {
            record.request_id.clone_from(&request_id);
            record.status = Status::Queued;
            record.job = Some(JobLink {
                id: id.clone(),
                item: u32::try_from(n + 1).unwrap_or(u32::MAX),
                total,
            });
            let entry = QueueEntry {
                request: serde_json::to_string(&request).unwrap_or_default(),
                caller: serde_json::to_string(caller).unwrap_or_default(),
                source: None,
            };
            items.push((record, entry));
        }
        // With `[jobs] approval` in the policy the items wait for it.
        let approval = super::JobApprovalRecord::required(&self.policy());
        let state = match approval {
            Some(_) => "awaiting_approval",
            None => "running",
        };
        let stored = StoredJob {
            approval: approval.and_then(|a| serde_json::to_string(&a).ok()),
            id,
            kind: kind.into(),
            state: state.into(),
            created_at: crate::record::now_rfc3339(),
            finished_at: None,
            requested_by: caller.subject.clone(),
            caller: serde_json::to_string(caller).unwrap_or_default(),
            tenant,
            spec: serde_json::to_string(&spec(&job)).unwrap_or_default(),
            total,
        };
        self.store.create_job(stored.clone(), items).await?;
        crate::metrics::job_submitted(&stored.kind);
        tracing::info!(job_id = %stored.id, total, "job submitted");
        self.wake_jobs();
        self.view(stored).await
    }

    /// The job's items as reset requests, each checked once (tenant,
    /// permission, fields; a mistake names its line), with the record it
    /// starts as.
    pub(super) async fn expand(
        &self,
        caller: &Identity,
        job: &JobSubmission,
        dry_run: bool,
    ) -> Result<Vec<Checked>, JobError> {
        let items = match &job.input {
            JobInput::Items(items) => items.clone(),
            JobInput::DomainMove { from, to } => self.domain_move(caller, job, from, to).await?,
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let line = item.line;
            let request = request(job, item, dry_run);
            let checked = self
                .check_item(caller, request)
                .map_err(|e| at_line(job.unit, line, e))?;
            out.push(checked);
        }
        Ok(out)
    }

    fn check_item(&self, caller: &Identity, request: ResetRequest) -> Result<Checked, ResetError> {
        let mut record = new_record(requester(caller), None, Some(&request));
        let tenant = self.choose_tenant(caller, request.tenant.as_deref(), &mut record)?;
        self.permitted(caller, &tenant, Permission::JobsCreate)?;
        let valid = self.check_async(&request)?;
        record.redirect_url = Some(valid.redirect_url.clone());
        record.send_invitation_message = Some(valid.send_invitation_message);
        Ok(Checked {
            request,
            record,
            valid,
        })
    }

    /// Every guest of the job's tenant whose mail is at `from`, moving to
    /// the same local part at `to`; in mail order.
    async fn domain_move(
        &self,
        caller: &Identity,
        job: &JobSubmission,
        from: &str,
        to: &str,
    ) -> Result<Vec<ItemInput>, JobError> {
        let mut record = new_record(requester(caller), None, None);
        let tenant = self.choose_tenant(caller, job.tenant.as_deref(), &mut record)?;
        self.permitted(caller, &tenant, Permission::JobsCreate)?;
        let found = tenant.graph.guests_by_mail_domain(from).await;
        let mut guests = found
            .map_err(|error| ResetError::Graph {
                step: Step::ReadUser,
                error,
            })?
            .value;
        guests.sort_by(|a, b| a.mail.cmp(&b.mail));
        let items: Vec<ItemInput> = guests
            .into_iter()
            .filter_map(|g| {
                let local = g.mail.as_deref()?.rsplit_once('@')?.0.to_owned();
                Some((g.id, format!("{local}@{to}")))
            })
            .enumerate()
            .map(|(n, (id, new_email))| ItemInput {
                line: n + 1,
                user: id,
                new_email: Some(new_email),
                ticket: None,
                reason: None,
                tenant: Some(tenant.name.clone()),
            })
            .collect();
        if items.is_empty() {
            let detail = format!(
                "no guest of tenant {} has a mail address at {from}",
                tenant.name
            );
            return Err(JobError::Invalid { line: None, detail });
        }
        super::input::checked(items, self.defaults.job_max_items, "guest")
    }
}

/// An item that passed the checks: its request, the record it starts as,
/// and the request as the flow takes it.
pub(super) struct Checked {
    pub request: ResetRequest,
    pub record: crate::record::ResetRecord,
    pub valid: crate::reset::ValidRequest,
}

fn request(job: &JobSubmission, item: ItemInput, dry_run: bool) -> ResetRequest {
    ResetRequest {
        user: item.user,
        tenant: item.tenant.or_else(|| job.tenant.clone()),
        on_behalf_of: None,
        new_email: item.new_email,
        redirect_url: None,
        // A job never hands out redeem URLs: the guest gets the email.
        send_invitation_message: Some(true),
        message: None,
        ticket: item.ticket.or_else(|| job.ticket.clone()),
        reason: item.reason.or_else(|| job.reason.clone()),
        dry_run,
        override_cooldown: false,
    }
}

/// A field mistake names its line; other refusals (tenant, permission)
/// keep their own problem type.
fn at_line(unit: &str, line: usize, e: ResetError) -> JobError {
    match e {
        ResetError::Invalid(detail) => JobError::Invalid {
            line: Some(line),
            detail: format!("{unit} {line}: {detail}"),
        },
        other => JobError::Reset(other),
    }
}

fn kind(input: &JobInput) -> &'static str {
    match input {
        JobInput::Items(_) => "items",
        JobInput::DomainMove { .. } => "domain_move",
    }
}

fn spec(job: &JobSubmission) -> Spec {
    let (select, rewrite_domain) = match &job.input {
        JobInput::DomainMove { from, to } => (
            Some(serde_json::json!({ "mail_domain": from })),
            Some(to.clone()),
        ),
        JobInput::Items(_) => (None, None),
    };
    Spec {
        select,
        rewrite_domain,
        ticket: job.ticket.clone(),
        reason: job.reason.clone(),
    }
}

/// The request a stored job item runs with (what its queue entry held):
/// rebuilt from its row when reconciliation queues it again.
pub fn item_request(record: &crate::record::ResetRecord) -> String {
    let request = ResetRequest {
        user: record.user.clone().unwrap_or_default(),
        tenant: Some(record.tenant.clone()),
        on_behalf_of: None,
        new_email: record.new_email.clone(),
        redirect_url: None,
        send_invitation_message: Some(true),
        message: None,
        ticket: record.ticket.clone(),
        reason: record.reason.clone(),
        dry_run: false,
        override_cooldown: false,
    };
    serde_json::to_string(&request).unwrap_or_default()
}
