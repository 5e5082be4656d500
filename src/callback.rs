//! Outgoing deliveries, signed with Standard Webhooks and retried with
//! doubling delays up to a bounded number of attempts; every attempt is
//! recorded and delivery survives a restart. Two kinds, one sender:
//!
//! - result callbacks: when a queued reset from a webhook source finishes,
//!   its final record goes to the source's callback URL (`webhook-id` is the
//!   reset id, the same on every attempt, so the receiver can dedupe);
//! - approval notifications: each approval event goes to
//!   `GUEST_RESET_NOTIFY_URL` (`webhook-id` is the event's own id).

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Notify;
use tracing::instrument;

use crate::config::{NotifyConfig, WebhookConfig, WebhookSource};
use crate::record::format_timestamp;
use crate::store::{Attempt, DueCallback, Next, Payload, Store};

/// Longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(3600);
/// The longest the sender sleeps without looking (a safety net: it is woken
/// when a delivery is scheduled and sleeps until the next retry is due).
const IDLE: Duration = Duration::from_secs(10);

/// The callbacks job's lease; renewed at least every [`IDLE`].
const JOB_TTL: Duration = Duration::from_secs(30);

/// The metrics' `source` of notifications: no webhook source can have this
/// name (source names have no `_`).
const NOTIFICATIONS_LABEL: &str = "approval_notifications";

pub struct Callbacks {
    store: Store,
    http: reqwest::Client,
    sources: Arc<Vec<WebhookSource>>,
    /// Approval notifications, when configured; shares the wake-up.
    notifier: Option<Notifier>,
    wake: Arc<Notify>,
    max_attempts: u32,
    first_retry: Duration,
}

/// Where approval notifications go, and the sender's wake-up: the reset
/// service schedules events through it from start-up on, before the sender
/// runs (a scheduled event waits in the store).
#[derive(Debug, Clone)]
pub struct Notifier {
    settings: Arc<NotifyConfig>,
    wake: Arc<Notify>,
}

impl Notifier {
    pub fn new(settings: NotifyConfig) -> Notifier {
        Notifier {
            settings: Arc::new(settings),
            wake: Arc::default(),
        }
    }

    pub fn url(&self) -> &reqwest::Url {
        &self.settings.url
    }

    /// The record of reset `id`: under the public URL, or the path alone.
    pub fn link(&self, id: &str) -> String {
        let base = self.settings.public_url.as_deref().unwrap_or_default();
        let base = base.trim_end_matches('/');
        format!("{base}/v1/resets/{id}")
    }

    /// The reset's page in the console, when the console is on.
    pub fn console_link(&self, id: &str) -> Option<String> {
        let base = self.settings.public_url.as_deref().unwrap_or_default();
        let base = base.trim_end_matches('/');
        self.settings
            .console_link
            .then(|| format!("{base}/console/resets/{id}"))
    }

    /// Tell the sender a notification is due.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

impl Callbacks {
    pub fn new(
        store: Store,
        config: &WebhookConfig,
        sources: Arc<Vec<WebhookSource>>,
        notifier: Option<Notifier>,
    ) -> anyhow::Result<Callbacks> {
        // No redirects: a callback goes to the configured URL or nowhere.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Callbacks {
            store,
            http,
            sources,
            wake: notifier
                .as_ref()
                .map(|n| Arc::clone(&n.wake))
                .unwrap_or_default(),
            notifier,
            max_attempts: config.callback_max_attempts.max(1),
            first_retry: config.callback_first_retry,
        })
    }

    /// Schedule the callback for a finished reset, if its source has one.
    pub async fn schedule(&self, reset_id: &str, source: &str) {
        let Some(url) = self.callback_of(source).map(|c| c.url.to_string()) else {
            return;
        };
        let now = crate::record::now_rfc3339();
        match self
            .store
            .schedule_callback(reset_id, source, &url, &now)
            .await
        {
            Ok(()) => self.wake.notify_one(),
            Err(e) => {
                tracing::error!(error = %e, reset_id, "could not schedule the result callback")
            }
        }
    }

    fn callback_of(&self, source: &str) -> Option<&crate::config::Callback> {
        self.sources
            .iter()
            .find(|s| s.name == source)?
            .callback
            .as_ref()
    }

    /// Deliver due callbacks until the task is aborted.
    pub async fn run(self: Arc<Self>) {
        loop {
            // One replica sends callbacks at a time (the `callbacks` job's
            // lease); the others look again when it may have run out.
            match self.store.hold_job("callbacks", JOB_TTL).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    tokio::time::sleep(JOB_TTL / 3).await;
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot hold the callbacks job");
                    tokio::time::sleep(JOB_TTL / 3).await;
                    continue;
                }
            }
            let now = crate::record::now_rfc3339();
            let due = match self.store.due_callbacks(&now, 32).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read due callbacks");
                    Vec::new()
                }
            };
            if due.is_empty() {
                let _ = tokio::time::timeout(self.until_next().await, self.wake.notified()).await;
            }
            for callback in due {
                self.attempt(callback).await;
            }
        }
    }

    /// How long until the earliest scheduled retry, at most [`IDLE`] (and
    /// well within the job's lease, so the holder renews it in time).
    async fn until_next(&self) -> Duration {
        let next = self.store.next_callback_at().await.ok().flatten();
        let at = next.and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok());
        at.map_or(IDLE, |at| {
            let wait = at - OffsetDateTime::now_utc();
            Duration::try_from(wait).unwrap_or_default().min(IDLE)
        })
    }

    /// Whether anything may be delivered (otherwise the sender need not run).
    pub fn any(&self) -> bool {
        self.notifier.is_some() || self.sources.iter().any(|s| s.callback.is_some())
    }

    #[instrument(skip_all, fields(id = %due.id, reset_id = %due.reset_id, attempt = due.attempts + 1))]
    async fn attempt(&self, due: DueCallback) {
        let number = due.attempts + 1;
        let (status, error) = match self.send(&due).await {
            Ok(status) if (200..300).contains(&status) => (Some(status), None),
            Ok(status) => (
                Some(status),
                Some(format!("the receiver answered {status}")),
            ),
            Err(e) => (None, Some(e)),
        };
        let now = OffsetDateTime::now_utc();
        let next = match (&error, number >= self.max_attempts) {
            (None, _) => Next::Delivered,
            (Some(_), true) => Next::GiveUp,
            (Some(_), false) => Next::RetryAt(format_timestamp(now + self.delay(number))),
        };
        report(&due, status, error.as_deref(), &next);
        let attempt = Attempt {
            at: format_timestamp(now),
            status,
            error,
            next,
        };
        if let Err(e) = self.store.record_attempt(&due, number, attempt).await {
            tracing::error!(error = %e, "could not record the delivery attempt");
        }
    }

    /// Doubling from the first retry's delay, at most [`MAX_DELAY`].
    fn delay(&self, attempts: u32) -> time::Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        let delay = self.first_retry.saturating_mul(factor).min(MAX_DELAY);
        time::Duration::try_from(delay).unwrap_or(time::Duration::HOUR)
    }

    /// POST the signed payload; the receiver's status, or why none came.
    async fn send(&self, due: &DueCallback) -> Result<u16, String> {
        let (url, secret, body) = self.payload(due).await?;
        let timestamp = OffsetDateTime::now_utc().unix_timestamp();
        let signature = crate::webhook::sign_standard(secret, &due.id, timestamp, &body)
            .map_err(|e| e.to_string())?;
        let sent = self
            .http
            .post(url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &due.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        // The error's text may contain the URL, never a secret.
        sent.map(|r| r.status().as_u16())
            .map_err(|e| e.without_url().to_string())
    }

    /// Where `due` goes, the secret that signs it, and its body: a result
    /// callback's record is read now, a notification's body was fixed when
    /// its event happened.
    async fn payload(
        &self,
        due: &DueCallback,
    ) -> Result<(&reqwest::Url, &SecretString, Vec<u8>), String> {
        let source = match &due.payload {
            Payload::Event { body } => {
                let notifier = self
                    .notifier
                    .as_ref()
                    .ok_or("approval notifications are no longer configured")?;
                let settings = &notifier.settings;
                return Ok((&settings.url, &settings.secret, body.clone().into_bytes()));
            }
            Payload::Record { source } => source,
        };
        let callback = self
            .callback_of(source)
            .ok_or("the source no longer has a callback")?;
        let record = match self.store.get(&due.reset_id).await {
            Ok(Some(record)) => record,
            Ok(None) => return Err("the reset is gone".into()),
            Err(e) => return Err(format!("audit store: {e}")),
        };
        let body = serde_json::to_vec(&record).map_err(|e| e.to_string())?;
        Ok((&callback.url, &callback.secret, body))
    }
}

/// Count and log an attempt's outcome.
fn report(due: &DueCallback, status: Option<u16>, error: Option<&str>, next: &Next) {
    let (label, what) = match &due.payload {
        Payload::Record { source } => (source.as_str(), "result callback"),
        Payload::Event { .. } => (NOTIFICATIONS_LABEL, "approval notification"),
    };
    let outcome = match next {
        Next::Delivered => "delivered",
        Next::GiveUp => "gave_up",
        Next::RetryAt(_) => "retry",
    };
    crate::metrics::callback_attempt(label, outcome);
    match next {
        Next::Delivered => tracing::info!(status, "{what} delivered"),
        Next::GiveUp => tracing::warn!(?error, "{what} given up"),
        Next::RetryAt(at) => tracing::info!(?error, next = %at, "{what} will be retried"),
    }
}
