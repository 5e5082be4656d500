//! The directory's write quota for an application+tenant pair: 3,000 write requests per
//! 2 minutes and 30 seconds (throttling-limits.md, "Identity and access service limits",
//! the "Write quota" column). The page's model is a token bucket of request costs in
//! resource units; its cost table gives every POST, PATCH, PUT and DELETE on an identity
//! path a write cost of 1, so the write quota counts write requests, which is the form
//! emulated here. The resource-unit quota (3,500 to 8,000 per 10 s by tenant size), the
//! per-application and per-tenant quotas across the pair are not emulated.
//!
//! The writes it counts are the emulator's directory writes: `PATCH /users/{id}`. The
//! page's "applies to" list (includes/throttling-identity-and-access.md) names `user` but
//! not `invitation`, which has its own limit (`throttle.rs`). One emulator is one tenant,
//! so a bucket per application (the token's `appid`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::Emulator;
use super::throttle::SlidingWindow;

/// The documented write quota of an application+tenant pair.
const DEFAULT_WRITES: u32 = 3_000;
const DEFAULT_WINDOW: Duration = Duration::from_secs(150);
/// `x-ms-throttle-limit-percentage` is "returned only when the application consumed
/// more than 0.8 of its limit" (throttling-limits.md, "Regular responses requests").
const REPORTED_FROM: f64 = 0.8;

/// One bucket per application, all of the same size.
pub(super) struct WriteLimits {
    capacity: u32,
    window: Duration,
    /// By lower-case application id.
    buckets: HashMap<String, SlidingWindow>,
}

impl Default for WriteLimits {
    fn default() -> Self {
        WriteLimits::new(DEFAULT_WRITES, DEFAULT_WINDOW)
    }
}

impl WriteLimits {
    fn new(capacity: u32, window: Duration) -> WriteLimits {
        WriteLimits {
            capacity: capacity.max(1),
            window,
            buckets: HashMap::new(),
        }
    }

    /// Takes a write for `app`: the share of its quota now used when that is worth
    /// reporting (above 0.8), or the wait until a write is free again.
    fn take(&mut self, app: &str, now: Instant) -> Result<Option<f64>, Duration> {
        let (capacity, window) = (self.capacity, self.window);
        let bucket = (self.buckets)
            .entry(app.to_ascii_lowercase())
            .or_insert_with(|| SlidingWindow::new(capacity, window));
        bucket.take(now)?;
        let usage = bucket.usage(now);
        Ok((usage > REPORTED_FROM).then_some(usage))
    }
}

impl Emulator {
    /// The write quota of each application in this tenant: at most `requests` directory
    /// writes (`PATCH /users`) per `per` (default 3,000 per 150 s); beyond it, 429 with
    /// Retry-After in whole seconds, rounded up. Every application starts with a full
    /// bucket; `requests` of 0 counts as 1.
    pub fn set_write_rate(&self, requests: u32, per: Duration) {
        self.lock().write_limits = WriteLimits::new(requests, per);
    }

    /// The write quota in force: (requests, window).
    pub fn write_rate(&self) -> (u32, Duration) {
        let state = self.lock();
        (state.write_limits.capacity, state.write_limits.window)
    }

    /// A write for the application `app_id`: the usage to report, or the wait.
    pub(super) fn take_write_token(&self, app_id: &str) -> Result<Option<f64>, Duration> {
        self.lock().write_limits.take(app_id, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_application_has_its_own_quota_and_usage_is_reported_above_80_percent() {
        let start = Instant::now();
        let mut limits = WriteLimits::new(10, Duration::from_secs(1));
        let first_eight: Vec<_> = (0..8).map(|_| limits.take("app-a", start)).collect();
        assert!(
            first_eight.iter().all(|r| *r == Ok(None)),
            "{first_eight:?}"
        );
        assert_eq!(
            limits.take("APP-A", start),
            Ok(Some(0.9)),
            "ids ignore case"
        );
        assert_eq!(limits.take("app-a", start), Ok(Some(1.0)));
        assert!(limits.take("app-a", start).is_err());
        assert_eq!(limits.take("app-b", start), Ok(None), "another app");
    }
}
