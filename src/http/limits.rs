//! Per-caller rate limit: a token bucket per authenticated identity (issuer
//! and subject, never the IP, which a proxy or NAT shares). Over the limit:
//! 429 with `Retry-After`; every authenticated answer carries the IETF
//! `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::RateLimit;

/// Above this many callers, idle (full) buckets are forgotten.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// What a caller has left after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
}

/// The buckets of every caller.
#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    /// `RateLimit-Policy` never changes: computed once.
    policy: String,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Limiter {
        let burst = limit.burst.max(1);
        let rate = f64::from(limit.per_minute.max(1)) / 60.0;
        let window = (f64::from(burst) / rate).ceil() as u64;
        Limiter {
            limit,
            policy: format!("\"per-caller\";q={burst};w={window}"),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn rate(&self) -> f64 {
        f64::from(self.limit.per_minute.max(1)) / 60.0
    }

    /// Take one token for `key`: `Ok` with what is left, or `Err(wait)`.
    pub fn check(&self, key: &str, now: Instant) -> Result<Quota, Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > MAX_TRACKED {
            let (rate, burst) = (self.rate(), f64::from(self.limit.burst));
            buckets.retain(|_, b| b.tokens + rate * now.duration_since(b.at).as_secs_f64() < burst);
        }
        let burst = f64::from(self.limit.burst.max(1));
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refilled =
            (bucket.tokens + self.rate() * now.duration_since(bucket.at).as_secs_f64()).min(burst);
        *bucket = Bucket {
            tokens: refilled,
            at: now,
        };
        if refilled < 1.0 {
            return Err(Duration::from_secs_f64((1.0 - refilled) / self.rate()));
        }
        bucket.tokens -= 1.0;
        Ok(Quota {
            remaining: bucket.tokens.floor() as u32,
            reset_secs: ((burst - bucket.tokens) / self.rate()).ceil() as u64,
        })
    }

    /// `RateLimit-Policy`: the quota and its window (seconds to refill a burst).
    pub fn policy_header(&self) -> &str {
        &self.policy
    }
}

/// `RateLimit`: what is left and when it is back.
pub fn state_header(remaining: u32, reset_secs: u64) -> String {
    format!("\"per-caller\";r={remaining};t={reset_secs}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let limiter = Limiter::new(RateLimit {
            per_minute: 60,
            burst: 3,
        });
        let t0 = Instant::now();
        for left in [2, 1, 0] {
            assert_eq!(limiter.check("a", t0).unwrap().remaining, left);
        }
        let wait = limiter.check("a", t0).unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::from_millis(900),
            "{wait:?}"
        );
        assert!(
            limiter.check("b", t0).is_ok(),
            "callers have their own buckets"
        );
        assert!(
            limiter.check("a", t0 + Duration::from_secs(1)).is_ok(),
            "one token back after a second"
        );
        assert_eq!(limiter.policy_header(), "\"per-caller\";q=3;w=3");
    }
}
