//! Bulk work (job items) and Graph: a lower priority in Graph's eyes
//! (`x-ms-throttle-priority: Low`), a share of the tenant's budgets and
//! concurrency that leaves room for single resets, patience for a budget
//! slot, and backing off when Graph says the limit is near.

use reqwest::StatusCode;
use tokio::sync::SemaphorePermit;
use tokio::time::Instant;

use super::budget::{Limit, Priority};
use super::{GraphClient, GraphError};

tokio::task_local! {
    /// Set for bulk work (job items): its calls say
    /// `x-ms-throttle-priority: Low` and take budget slots after single resets.
    static BULK: bool;
}

/// Run `work` as bulk work: Graph may throttle it first
/// (`x-ms-throttle-priority: Low`), and the tenant's budgets keep slots
/// back from it for single resets.
pub async fn in_bulk<F: std::future::Future>(work: F) -> F::Output {
    BULK.scope(true, work).await
}

pub(super) fn priority() -> Priority {
    match BULK.try_with(|b| *b).unwrap_or(false) {
        true => Priority::Low,
        false => Priority::High,
    }
}

/// How long bulk work waits for a budget slot at most: beyond the longest
/// window (150 s for user writes) and a 429's Retry-After.
const BULK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(600);

impl GraphClient {
    /// Bulk work waits for its first budget slot as long as the window
    /// takes, before its deadline starts: a job item must not fail because
    /// the job itself used the window up. True when the slot is taken.
    pub(super) async fn prepay(&self, limit: Option<Limit>) -> Result<bool, GraphError> {
        match (limit, priority()) {
            (Some(limit), Priority::Low) => {
                self.take_slot(limit, Instant::now() + BULK_PATIENCE)
                    .await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// A concurrency slot, waited for no longer than the deadline; bulk
    /// work first takes one of its share.
    pub(super) async fn slot(
        &self,
        deadline: Instant,
    ) -> Result<(Option<SemaphorePermit<'_>>, SemaphorePermit<'_>), GraphError> {
        let bulk = match priority() {
            Priority::Low => Some(permit(&self.bulk_limiter, deadline).await?),
            Priority::High => None,
        };
        Ok((bulk, permit(&self.limiter, deadline).await?))
    }

    /// Bulk work slows down when Graph says so: a 429 holds it back for the
    /// Retry-After; `x-ms-throttle-limit-percentage` (sent past 80% of the
    /// limit, up to 1.8) holds it back a moment, longer the nearer the limit,
    /// so other apps and replicas sharing the limit are not pushed into 429s.
    /// `percentage`: the `x-ms-throttle-limit-percentage` header's value.
    pub(super) fn throttle_feedback(
        &self,
        limit: Limit,
        status: u16,
        retry_after: Option<std::time::Duration>,
        percentage: Option<&str>,
    ) {
        let budget = match limit {
            Limit::Invitations => &self.invitations,
            Limit::UserWrites => &self.user_writes,
        };
        let percentage = percentage
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|p| p.is_finite() && *p >= 0.8);
        let hold = match (status == StatusCode::TOO_MANY_REQUESTS.as_u16(), percentage) {
            (true, _) => retry_after.unwrap_or(std::time::Duration::from_secs(1)),
            (false, Some(p)) => std::time::Duration::from_secs_f64(((p - 0.8) * 2.0).min(2.0)),
            (false, None) => return,
        };
        budget.cool(Instant::now() + hold.min(std::time::Duration::from_secs(60)));
    }
}

async fn permit(
    limiter: &tokio::sync::Semaphore,
    deadline: Instant,
) -> Result<SemaphorePermit<'_>, GraphError> {
    match tokio::time::timeout_at(deadline, limiter.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(GraphError::not_sent(
            "deadline passed waiting for a Graph slot",
        )),
    }
}

/// A response header's value, when it is text.
pub(super) fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
