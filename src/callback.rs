//! Result callbacks: when a queued reset from a webhook source finishes, its
//! final record is POSTed to the source's callback URL, signed with Standard
//! Webhooks (`webhook-id` is the reset id, the same on every attempt, so the
//! receiver can dedupe), retried with doubling delays up to a bounded number
//! of attempts. Every attempt is recorded; delivery survives a restart.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Notify;
use tracing::instrument;

use crate::config::{WebhookConfig, WebhookSource};
use crate::record::format_timestamp;
use crate::store::{Attempt, DueCallback, Next, Store};

/// Longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(3600);
/// The longest the sender sleeps without looking (a safety net: it is woken
/// when a callback is scheduled and sleeps until the next retry is due).
const IDLE: Duration = Duration::from_secs(10);

/// The callbacks job's lease; renewed at least every [`IDLE`].
const JOB_TTL: Duration = Duration::from_secs(30);

pub struct Callbacks {
    store: Store,
    http: reqwest::Client,
    sources: Arc<Vec<WebhookSource>>,
    wake: Notify,
    max_attempts: u32,
    first_retry: Duration,
}

impl Callbacks {
    pub fn new(
        store: Store,
        config: &WebhookConfig,
        sources: Arc<Vec<WebhookSource>>,
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
            wake: Notify::new(),
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

    /// Whether any source has a callback (otherwise the sender need not run).
    pub fn any(&self) -> bool {
        self.sources.iter().any(|s| s.callback.is_some())
    }

    #[instrument(skip_all, fields(reset_id = %due.reset_id, attempt = due.attempts + 1))]
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
        let outcome = match &next {
            Next::Delivered => "delivered",
            Next::GiveUp => "gave_up",
            Next::RetryAt(_) => "retry",
        };
        crate::metrics::callback_attempt(&due.source, outcome);
        match &next {
            Next::Delivered => tracing::info!(status, "result callback delivered"),
            Next::GiveUp => tracing::warn!(?error, "result callback given up"),
            Next::RetryAt(at) => {
                tracing::info!(?error, next = %at, "result callback will be retried")
            }
        }
        let attempt = Attempt {
            at: format_timestamp(now),
            status,
            error,
            next,
        };
        if let Err(e) = self
            .store
            .record_attempt(&due.reset_id, number, attempt)
            .await
        {
            tracing::error!(error = %e, "could not record the callback attempt");
        }
    }

    /// Doubling from the first retry's delay, at most [`MAX_DELAY`].
    fn delay(&self, attempts: u32) -> time::Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        let delay = self.first_retry.saturating_mul(factor).min(MAX_DELAY);
        time::Duration::try_from(delay).unwrap_or(time::Duration::HOUR)
    }

    /// POST the signed record; the receiver's status, or why none came.
    async fn send(&self, due: &DueCallback) -> Result<u16, String> {
        let callback = self
            .callback_of(&due.source)
            .ok_or("the source no longer has a callback")?;
        let record = match self.store.get(&due.reset_id).await {
            Ok(Some(record)) => record,
            Ok(None) => return Err("the reset is gone".into()),
            Err(e) => return Err(format!("audit store: {e}")),
        };
        let body = serde_json::to_vec(&record).map_err(|e| e.to_string())?;
        let timestamp = OffsetDateTime::now_utc().unix_timestamp();
        let signature =
            crate::webhook::sign_standard(&callback.secret, &due.reset_id, timestamp, &body)
                .map_err(|e| e.to_string())?;
        let sent = self
            .http
            .post(callback.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &due.reset_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        // The error's text may contain the URL, never a secret.
        sent.map(|r| r.status().as_u16())
            .map_err(|e| e.without_url().to_string())
    }
}
