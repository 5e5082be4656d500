//! The audit trail as the use case serves it: the export for SIEMs, the
//! latest signed checkpoint, signing and publishing new ones, pruning behind
//! them, and the admin actions that are events of their own.

use serde_json::{Value, json};
use tracing::instrument;

use super::ResetService;
use crate::audit::{Checkpoint, Draft, Event};
use crate::auth::Identity;
use crate::config::AuditConfig;
use crate::policy::{Permission, Scope};
use crate::store::{Store, StoreError, StoredCheckpoint};

/// At most this many events per page of the export.
pub const MAX_EVENTS: u32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum TrailError {
    #[error(
        "reading the audit trail needs audit:read from a grant without `tenants` (the trail holds every tenant)"
    )]
    NotPermitted,
    #[error("no checkpoint has been signed yet{0}")]
    NoCheckpoint(&'static str),
    #[error("signing the checkpoint failed: {0}")]
    Sign(#[from] crate::audit::NoteError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ResetService {
    /// Events after `after` (a page of at most `limit`), for `who`.
    #[instrument(skip_all, fields(after, limit))]
    pub async fn audit_events(
        &self,
        who: &Identity,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Event>, TrailError> {
        self.may_read_trail(who)?;
        Ok(self
            .store
            .events_after(after, limit.clamp(1, MAX_EVENTS))
            .await?)
    }

    /// The newest signed checkpoint, for `who`.
    pub async fn latest_checkpoint(&self, who: &Identity) -> Result<StoredCheckpoint, TrailError> {
        self.may_read_trail(who)?;
        let latest = self.store.newest_checkpoint().await?;
        latest.ok_or(TrailError::NoCheckpoint(match self.audit.signer {
            Some(_) => "",
            None => " (no GUEST_RESET_AUDIT_SIGNING_KEY is configured)",
        }))
    }

    fn may_read_trail(&self, who: &Identity) -> Result<(), TrailError> {
        match self
            .policy()
            .scope(&who.policy_caller(), Permission::AuditRead)
        {
            Scope::All => Ok(()),
            Scope::Only(_) => Err(TrailError::NotPermitted),
        }
    }

    /// Sign the head unless the newest checkpoint already covers it, keep
    /// it, and send a copy where configured. `None`: no key configured.
    pub async fn sign_checkpoint(&self) -> Result<Option<StoredCheckpoint>, TrailError> {
        sign_checkpoint(&self.store, &self.audit, self.audit_http.as_ref()).await
    }

    /// Delete events past the retention that lie behind the newest signed
    /// checkpoint; the number deleted.
    pub async fn prune_audit(&self) -> Result<u64, TrailError> {
        let Some(retention) = self.audit.retention else {
            return Ok(0);
        };
        let Some(newest) = self.store.newest_checkpoint().await? else {
            return Ok(0);
        };
        let age = time::Duration::try_from(retention).unwrap_or(time::Duration::MAX);
        let before = crate::record::format_timestamp(time::OffsetDateTime::now_utc() - age);
        let actor = crate::store::service_actor(self.store.owner());
        Ok(self.store.prune_events(newest.size, &before, actor).await?)
    }

    /// Record an admin action: a policy reload, a start with its tenants.
    pub async fn record_admin(&self, kind: &str, actor: Value, data: Value) {
        let draft = Draft {
            kind: kind.to_owned(),
            subject: String::new(),
            actor,
            data,
        };
        if let Err(e) = self.store.append_event(draft).await {
            tracing::error!(error = %e, kind, "cannot record an admin action in the audit trail");
        }
    }

    /// How often the head is signed.
    pub fn checkpoint_every(&self) -> std::time::Duration {
        self.audit.every
    }

    /// The start of this replica: rows from before the chain adopted into
    /// it, then its tenants and the policy in force recorded.
    pub async fn record_start(&self) {
        match self.store.adopt_unchained().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                rows = n,
                "reset rows written before the audit chain were adopted into it"
            ),
            Err(e) => {
                tracing::error!(error = %e, "cannot adopt earlier reset rows into the audit chain")
            }
        }
        let tenants: Vec<Value> = self
            .tenants
            .iter()
            .map(|t| json!({"name": t.name, "id": t.id}))
            .collect();
        let data = json!({
            "version": env!("CARGO_PKG_VERSION"),
            "tenants": tenants,
            "policy_version": self.policy().version,
        });
        self.record_admin(
            "service.started",
            crate::store::service_actor(self.store.owner()),
            data,
        )
        .await;
    }

    /// Reload the policy as `who` (`None`: SIGHUP) and record the attempt,
    /// with the versions before and after, or why the old one stays.
    pub async fn reload_policy_as(
        &self,
        who: Option<&Identity>,
    ) -> Result<super::Reloaded, crate::policy::PolicyError> {
        let reloaded = self.reload_policy();
        let (kind, data) = match &reloaded {
            Ok(r) => (
                "policy.reloaded",
                json!({"previous": r.previous, "current": r.current}),
            ),
            Err(e) => (
                "policy.reload_failed",
                json!({"kept": self.policy().version, "error": e.to_string()}),
            ),
        };
        self.record_admin(kind, ResetService::actor(who), data)
            .await;
        reloaded
    }

    /// `who` as an event's actor (`None`: a signal, SIGHUP).
    pub fn actor(who: Option<&Identity>) -> Value {
        match who {
            Some(who) => super::intent::actor(who),
            None => json!({"type": "signal", "signal": "SIGHUP"}),
        }
    }
}

/// Sign the head unless the newest checkpoint already covers it, keep it,
/// and send a copy where configured. `None`: no key configured. (Also the
/// on-demand `guest-reset audit checkpoint`, which has no service.)
#[instrument(skip_all)]
pub async fn sign_checkpoint(
    store: &Store,
    audit: &AuditConfig,
    http: Option<&reqwest::Client>,
) -> Result<Option<StoredCheckpoint>, TrailError> {
    let Some(signer) = &audit.signer else {
        return Ok(None);
    };
    let (size, hash) = store.audit_head().await?;
    let newest = store.newest_checkpoint().await?;
    if let Some(newest) = newest.filter(|c| c.size == size) {
        return Ok(Some(newest));
    }
    let time = crate::record::now_rfc3339();
    let checkpoint = Checkpoint {
        origin: audit.origin.clone(),
        size,
        hash: hash.clone(),
        time: time.clone(),
    };
    let note = signer.sign(&checkpoint)?;
    let stored = StoredCheckpoint {
        size,
        hash,
        signed_at: time,
        note,
    };
    store.save_checkpoint(stored.clone()).await?;
    tracing::info!(size, "audit checkpoint signed");
    crate::metrics::audit_checkpoint("signed");
    publish(audit, http, &stored).await;
    Ok(Some(stored))
}

/// A copy off the box: failures are logged and counted, and the next
/// checkpoint is sent anyway (it covers this one).
async fn publish(
    audit: &AuditConfig,
    http: Option<&reqwest::Client>,
    checkpoint: &StoredCheckpoint,
) {
    if let Some(path) = &audit.publish_file {
        let tmp = path.with_extension("tmp");
        let written =
            std::fs::write(&tmp, &checkpoint.note).and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            tracing::error!(error = %e, path = %path.display(), "cannot write the audit checkpoint file");
            crate::metrics::audit_checkpoint("publish_failed");
        }
    }
    if let (Some(url), Some(http)) = (&audit.publish_url, http) {
        let sent = http
            .post(url.clone())
            .header("content-type", "text/plain; charset=utf-8")
            .body(checkpoint.note.clone())
            .send()
            .await
            .and_then(reqwest::Response::error_for_status);
        if let Err(e) = sent {
            tracing::error!(error = %e.without_url(), "cannot send the audit checkpoint");
            crate::metrics::audit_checkpoint("publish_failed");
        }
    }
}

/// The client checkpoints are POSTed with: a timeout, and no redirects (as
/// result callbacks): a copy goes to the configured URL or nowhere.
pub fn checkpoint_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}
