//! The reset use case: validate, record the intent, ask Graph and the policy,
//! apply, and record the outcome. The only module that knows the Graph
//! client, the policy and the audit store together.

mod approvals;
mod decide;
mod error;
mod evidence;
mod flow;
pub mod guests;
mod intent;
pub mod jobs;
mod lifecycle;
mod notify;
mod queries;
mod queue;
mod reconcile;
mod request;
mod retry;
mod ruling;
mod settle;
pub mod sign_ins;
mod sponsors;
mod tenant;
pub mod trail;
pub mod verify_trail;

use std::sync::{Arc, RwLock};

use secrecy::SecretString;
use tracing::instrument;

use crate::auth::Identity;
use crate::config::ResetDefaults;
use crate::policy::{Policy, PolicyError};
use crate::record::{ResetRecord, Status};
use crate::store::{KeyClaim, ListFilter, QueueEntry, Store, StoreError};
use crate::tenants::Tenants;

pub use approvals::Ruling;
pub use error::{ResetError, Step};
use intent::{new_record, requester};
pub use queries::TenantHealth;
pub use queue::Accepted;
pub use reconcile::Reconciled;
pub use request::{MessageRequest, ResetRequest, UserRef, ValidRequest};
pub use settle::Settled;

/// A Graph write a dry run would make.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedCall {
    pub method: &'static str,
    pub path: String,
    pub body: serde_json::Value,
}

/// Who asks, and how the request arrived.
pub struct Context<'a> {
    pub caller: &'a Identity,
    /// The caller holds `resets:redeem-url`.
    pub may_receive_redeem_url: bool,
    pub request_id: Option<String>,
    /// The caller's `Idempotency-Key`, claimed with the pending row.
    pub key: Option<KeyClaim>,
    /// The `unknown` reset this request re-drives.
    pub retry_of: Option<String>,
}

/// Versions before and after a policy reload.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reloaded {
    pub previous: String,
    pub current: String,
}

/// A reset that went through (or a dry run that would).
#[derive(Debug)]
pub struct Outcome {
    pub record: ResetRecord,
    /// Only when no invitation email is sent: the caller must hand the link
    /// over. Never stored.
    pub redeem_url: Option<SecretString>,
    /// For dry runs: what would be written to Graph.
    pub plan: Option<Vec<PlannedCall>>,
}

/// A reset that did not go through, with its audit record when one exists.
#[derive(Debug)]
pub struct Failure {
    pub record: Option<ResetRecord>,
    pub error: ResetError,
}

/// The reset service shared by all requests.
pub struct ResetService {
    /// One Graph client per tenant.
    tenants: Tenants,
    store: Store,
    /// Swapped whole on reload; a request keeps the policy it started with.
    policy: RwLock<Arc<Policy>>,
    /// Where the policy is reloaded from (SIGHUP, admin route).
    policy_file: Option<std::path::PathBuf>,
    defaults: ResetDefaults,
    /// Where approval events go (`notify.rs`); `None`: only logged.
    notifier: Option<crate::callback::Notifier>,
    /// Wakes the job workers whenever job items become runnable: a job
    /// submitted, approved or resumed, or items put back in the queue.
    job_wake: Arc<tokio::sync::Notify>,
    /// Checkpoint signing, copies and retention of the audit trail.
    audit: crate::config::AuditConfig,
    /// What sends checkpoints to `audit.publish_url` (set with it).
    audit_http: Option<reqwest::Client>,
}

impl ResetService {
    pub fn new(
        tenants: Tenants,
        store: Store,
        policy: Policy,
        defaults: ResetDefaults,
    ) -> ResetService {
        let service = ResetService {
            tenants,
            store,
            policy: RwLock::new(Arc::new(policy)),
            policy_file: None,
            defaults,
            notifier: None,
            job_wake: Arc::default(),
            audit: crate::config::AuditConfig::unsigned(),
            audit_http: None,
        };
        service.check_policy_tenants(&service.policy());
        service
    }

    /// What the job workers wait on between looks at the queue.
    pub fn job_wake(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.job_wake)
    }

    /// Job items became runnable: the job workers look now.
    pub(crate) fn wake_jobs(&self) {
        self.job_wake.notify_waiters();
    }

    pub fn with_audit(
        mut self,
        audit: crate::config::AuditConfig,
    ) -> Result<ResetService, reqwest::Error> {
        self.audit_http = Some(trail::checkpoint_client()?);
        self.audit = audit;
        Ok(self)
    }

    pub fn with_policy_file(mut self, path: std::path::PathBuf) -> ResetService {
        self.policy_file = Some(path);
        self
    }

    /// Read the policy file again and put it in force; when it is invalid the
    /// policy in force stays, and the error says why (with the line).
    pub fn reload_policy(&self) -> Result<Reloaded, PolicyError> {
        let path = self
            .policy_file
            .as_deref()
            .ok_or_else(|| PolicyError::Invalid {
                path: "(none)".into(),
                line: None,
                message: "this service was started without a policy file".into(),
            })?;
        match Policy::load(path) {
            Ok(policy) => {
                let current = policy.version.clone();
                let previous = self.replace_policy(policy).version.clone();
                tracing::info!(%previous, %current, "policy reloaded");
                Ok(Reloaded { previous, current })
            }
            Err(e) => {
                tracing::error!(error = %e, kept = %self.policy().version, "policy reload failed; keeping the policy in force");
                Err(e)
            }
        }
    }

    /// The policy in force now.
    pub fn policy(&self) -> Arc<Policy> {
        Arc::clone(&self.policy.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Put a new policy in force; returns the one it replaces.
    pub fn replace_policy(&self, policy: Policy) -> Arc<Policy> {
        self.check_policy_tenants(&policy);
        let mut slot = self.policy.write().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *slot, Arc::new(policy))
    }

    /// Handle one reset request. `input` is the parsed body, or why it could
    /// not be parsed: invalid requests are recorded too.
    #[instrument(skip_all, fields(reset_id, requester = %ctx.caller.subject))]
    pub async fn create(
        &self,
        ctx: Context<'_>,
        input: Result<ResetRequest, ResetError>,
    ) -> Result<Outcome, Failure> {
        let mut record = new_record(requester(ctx.caller), ctx.request_id, input.as_ref().ok());
        record.retry_of = ctx.retry_of.clone();
        tracing::Span::current().record("reset_id", record.id.as_str());
        let request_json = input
            .as_ref()
            .ok()
            .and_then(|r| serde_json::to_string(r).ok())
            .unwrap_or_default();
        let valid = match self.admit(ctx.caller, ctx.may_receive_redeem_url, input, &mut record) {
            Ok(v) => v,
            Err(error) => return Err(self.finish_failed(record, error, None).await),
        };
        record.redirect_url = Some(valid.redirect_url.clone());
        record.send_invitation_message = Some(valid.send_invitation_message);
        // The intent (and the idempotency key, if any) is durable before Graph hears anything.
        if let Err(error) = self.record_intent(&record, ctx.key.as_ref()).await {
            return match error {
                ResetError::IdempotencyKeyInFlight => {
                    Err(self.finish_failed(record, error, None).await)
                }
                error => Err(Failure {
                    record: None,
                    error,
                }),
            };
        }
        let origin = QueueEntry {
            request: request_json,
            caller: serde_json::to_string(ctx.caller).unwrap_or_default(),
            source: None,
        };
        self.drive(ctx.caller, &valid, record, &origin).await
    }

    /// From the recorded intent to the recorded outcome.
    /// `origin` is the request as the queue would run it: kept with a reset
    /// that waits for approval.
    async fn drive(
        &self,
        caller: &Identity,
        valid: &ValidRequest,
        mut record: ResetRecord,
        origin: &QueueEntry,
    ) -> Result<Outcome, Failure> {
        let outcome = match self.run(caller, valid, &mut record, origin).await {
            Ok(flow::Applied::Awaiting) => {
                self.notify(&record, notify::Event::Requested).await;
                return Ok(Outcome {
                    record,
                    redeem_url: None,
                    plan: None,
                });
            }
            Ok(applied) => self.finish_ok(record, valid, applied).await,
            Err(error) if error.status() == Status::Unknown => {
                self.settle_unknown(record, error).await
            }
            Err(error) => {
                let from = Some(record.status);
                Err(self.finish_failed(record, error, from).await)
            }
        };
        let finished = match &outcome {
            Ok(o) => Some(&o.record),
            Err(f) => f.record.as_ref(),
        };
        // An approved reset that ran: its approvers hear how it ended.
        if let Some(r) = finished.filter(|r| r.approval.is_some() && !r.status.is_open()) {
            self.notify(r, notify::Event::Executed).await;
        }
        outcome
    }

    async fn record_intent(
        &self,
        record: &ResetRecord,
        key: Option<&KeyClaim>,
    ) -> Result<(), ResetError> {
        match key {
            None => self.advance(record, None).await,
            Some(key) => match self.store.insert_claiming(record, key).await? {
                true => Ok(()),
                // Another request with this key won the race to claim it.
                false => Err(ResetError::IdempotencyKeyInFlight),
            },
        }
    }

    async fn finish_ok(
        &self,
        mut record: ResetRecord,
        valid: &ValidRequest,
        applied: flow::Applied,
    ) -> Result<Outcome, Failure> {
        let from = Some(record.status);
        crate::store::finalise(&mut record, Status::Succeeded, None);
        crate::metrics::reset_succeeded(record.dry_run, record.tenant_label());
        if let Err(error) = self.advance(&record, from).await {
            tracing::error!(%error, reset_id = %record.id, "reset applied but not recorded; start-up reconciliation will flag it");
            return Err(Failure {
                record: Some(record),
                error,
            });
        }
        let (redeem_url, plan) = match applied {
            flow::Applied::Reset(url) => (url.filter(|_| !valid.send_invitation_message), None),
            flow::Applied::Plan(plan) => (None, Some(plan)),
            // drive() answers an awaiting reset before it gets here.
            flow::Applied::Awaiting => (None, None),
        };
        Ok(Outcome {
            record,
            redeem_url,
            plan,
        })
    }

    /// Finalise (or, `from` = `None`, first record) a request that failed,
    /// keeping the error.
    async fn finish_failed(
        &self,
        mut record: ResetRecord,
        error: ResetError,
        from: Option<Status>,
    ) -> Failure {
        let kind = error.problem_type();
        let problem = settle::problem(kind, error.detail());
        crate::store::finalise(&mut record, error.status(), Some(problem));
        crate::metrics::reset_finished(record.status.as_str(), kind.slug(), record.tenant_label());
        if let Err(e) = self.advance(&record, from).await {
            tracing::error!(error = %e, reset_id = %record.id, "could not record the failed reset");
        }
        Failure {
            record: Some(record),
            error,
        }
    }

    pub async fn get(&self, id: &str) -> Result<Option<ResetRecord>, StoreError> {
        self.store.get(id).await
    }

    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<ResetRecord>, StoreError> {
        self.store.list(filter).await
    }
}
