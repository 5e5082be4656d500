//! The emulator as an adversary: the in-process API to inject faults, tighten the
//! invitation limit, delay replication, and see which resets really happened; and the
//! same settings (and the write quota of `write_limit.rs`) from environment variables
//! for the `emulator` subcommand and the demo.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::Emulator;
use super::fault_plan::{ActiveFaults, FaultPlan, FaultPlanError, FaultRoute};
use super::throttle::SlidingWindow;

/// A fault plan as JSON (see [`FaultPlan`]).
pub const FAULTS_VAR: &str = "GUEST_RESET_EMULATOR_FAULTS";
/// The invitation limit as `requests/window`, e.g. `150/5s` or `10/200ms`.
pub const INVITATION_RATE_VAR: &str = "GUEST_RESET_EMULATOR_INVITATION_RATE";
/// The directory write quota of each application, e.g. `3000/150s` or `5/1s`.
pub const WRITE_RATE_VAR: &str = "GUEST_RESET_EMULATOR_WRITE_RATE";
/// Replication lag in milliseconds.
pub const REPLICATION_LAG_VAR: &str = "GUEST_RESET_EMULATOR_REPLICATION_LAG_MS";
/// The directory clock's offset from the real one, in milliseconds (negative: behind).
pub const CLOCK_OFFSET_VAR: &str = "GUEST_RESET_EMULATOR_CLOCK_OFFSET_MS";

/// A reset the emulator applied: the user was sent back to PendingAcceptance and a new
/// redeem URL was issued, whatever the client saw (a dropped connection, a broken body).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AppliedReset {
    pub user_id: String,
    pub invitation_id: String,
    pub email: String,
    /// As the client sent it; None when it sent none.
    pub client_request_id: Option<String>,
    /// RFC 3339.
    pub at: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OverrideError {
    #[error("{FAULTS_VAR}: {0}")]
    Faults(#[from] FaultPlanError),
    #[error("{INVITATION_RATE_VAR}: {0:?} is not like 150/5s (requests ≥ 1 per ms, s or m)")]
    InvitationRate(String),
    #[error("{WRITE_RATE_VAR}: {0:?} is not like 3000/150s (requests ≥ 1 per ms, s or m)")]
    WriteRate(String),
    #[error("{REPLICATION_LAG_VAR}: {0:?} is not a number of milliseconds")]
    ReplicationLag(String),
    #[error("{CLOCK_OFFSET_VAR}: {0:?} is not a number of milliseconds within a day either way")]
    ClockOffset(String),
}

impl Emulator {
    /// Replaces the fault plan; its random stream starts afresh from `plan.seed`.
    pub fn set_faults(&self, plan: FaultPlan) {
        self.lock().faults = Some(ActiveFaults::new(plan));
    }

    pub fn clear_faults(&self) {
        self.lock().faults = None;
    }

    /// The active plan, if any.
    pub fn faults(&self) -> Option<FaultPlan> {
        self.lock().faults.as_ref().map(|f| f.plan().clone())
    }

    /// The invitation limit: at most `requests` per `per` on `/invitations` (default
    /// 150 per 5 s, graph.md §4); beyond it, 429 with Retry-After in whole seconds,
    /// rounded up. The new bucket is full; `requests` of 0 counts as 1.
    pub fn set_invitation_rate(&self, requests: u32, per: Duration) {
        self.lock().invitation_bucket = SlidingWindow::new(requests, per);
    }

    /// The invitation limit in force: (requests, window).
    pub fn invitation_rate(&self) -> (u32, Duration) {
        let state = self.lock();
        let bucket = &state.invitation_bucket;
        (bucket.capacity(), bucket.window())
    }

    /// How long an address PATCHed into `mail` or `otherMails` stays unknown to POST
    /// /invitations (default zero). GET /users shows it at once; see `replication.rs`
    /// for why.
    pub fn set_replication_lag(&self, lag: Duration) {
        self.lock().replication.set_lag(lag);
    }

    pub fn replication_lag(&self) -> Duration {
        self.lock().replication.lag()
    }

    /// Puts the directory's clock `offset_ms` ahead of the real one (behind when
    /// negative): `externalUserStateChangeDateTime` of a reset is written on it, as a
    /// Graph whose servers disagree with the client's clock would.
    pub fn set_clock_offset_ms(&self, offset_ms: i64) {
        self.lock().clock_offset_ms = offset_ms;
    }

    pub fn clock_offset_ms(&self) -> i64 {
        self.lock().clock_offset_ms
    }

    /// Every reset the emulator actually applied, in order.
    pub fn applied_resets(&self) -> Vec<AppliedReset> {
        self.lock().applied_resets.clone()
    }

    /// Applies [`FAULTS_VAR`], [`INVITATION_RATE_VAR`], [`WRITE_RATE_VAR`],
    /// [`REPLICATION_LAG_VAR`] and [`CLOCK_OFFSET_VAR`] when set; unset or empty
    /// variables leave the defaults.
    pub fn from_env_overrides(self) -> Result<Emulator, OverrideError> {
        self.with_overrides(|name| std::env::var(name).ok())
    }

    /// [`Emulator::from_env_overrides`] with the variables read through `var`, so tests
    /// need not change the process environment.
    pub fn with_overrides(
        self,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Emulator, OverrideError> {
        let read = |name| var(name).filter(|v: &String| !v.trim().is_empty());
        if let Some(text) = read(FAULTS_VAR) {
            self.set_faults(FaultPlan::from_json(&text)?);
        }
        if let Some(text) = read(INVITATION_RATE_VAR) {
            let (requests, per) = parse_rate(&text).ok_or(OverrideError::InvitationRate(text))?;
            self.set_invitation_rate(requests, per);
        }
        if let Some(text) = read(WRITE_RATE_VAR) {
            let (requests, per) = parse_rate(&text).ok_or(OverrideError::WriteRate(text))?;
            self.set_write_rate(requests, per);
        }
        if let Some(text) = read(REPLICATION_LAG_VAR) {
            let millis = text.trim().parse().ok();
            let millis = millis.ok_or(OverrideError::ReplicationLag(text))?;
            self.set_replication_lag(Duration::from_millis(millis));
        }
        if let Some(text) = read(CLOCK_OFFSET_VAR) {
            self.set_clock_offset_ms(parse_clock_offset(&text)?);
        }
        Ok(self)
    }

    /// The fault for a request on `route`, if the plan says so.
    pub(super) fn pick_fault(&self, route: FaultRoute) -> Option<super::Fault> {
        self.lock().faults.as_mut()?.pick(route)
    }

    /// A token from the invitation bucket, or the wait until one is free.
    pub(super) fn take_invitation_token(&self) -> Result<(), Duration> {
        self.lock().invitation_bucket.take(Instant::now())
    }
}

/// Milliseconds within a day either way.
fn parse_clock_offset(text: &str) -> Result<i64, OverrideError> {
    (text.trim().parse().ok())
        .filter(|m: &i64| m.unsigned_abs() <= 86_400_000)
        .ok_or_else(|| OverrideError::ClockOffset(text.to_owned()))
}

/// `150/5s`, `10/200ms`, `300/1m`; a bare window is seconds (`150/5`).
fn parse_rate(text: &str) -> Option<(u32, Duration)> {
    let (requests, window) = text.trim().split_once('/')?;
    let requests: u32 = requests.trim().parse().ok().filter(|r| *r >= 1)?;
    let window = window.trim();
    let digits = window.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let amount: u64 = digits.trim().parse().ok()?;
    let window = match &window[digits.len()..] {
        "ms" => Duration::from_millis(amount),
        "" | "s" => Duration::from_secs(amount),
        "m" => Duration::from_secs(amount.checked_mul(60)?),
        _ => return None,
    };
    (!window.is_zero()).then_some((requests, window))
}

#[cfg(test)]
mod tests {
    use super::parse_rate;
    use std::time::Duration;

    #[test]
    fn rates_parse_in_the_documented_forms() {
        let secs = Duration::from_secs;
        assert_eq!(parse_rate("150/5s"), Some((150, secs(5))));
        assert_eq!(
            parse_rate(" 10 / 200ms "),
            Some((10, Duration::from_millis(200)))
        );
        assert_eq!(parse_rate("300/1m"), Some((300, secs(60))));
        assert_eq!(parse_rate("150/5"), Some((150, secs(5))));
        for bad in ["150", "0/5s", "150/0s", "150/5h", "x/5s", "150/s", "-1/5s"] {
            assert_eq!(parse_rate(bad), None, "{bad}");
        }
    }
}
