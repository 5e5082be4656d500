//! Replication lag between the directory and the invitation service (graph.md §8.6,
//! §1.6 rule 3): an address added to a user's `mail` or `otherMails` reaches the
//! invitation service only after the lag, and a reset naming it before then fails with
//! the documented 400 "doesn't match any emails on the user object".
//!
//! Reads through the emulated directory (GET /users, `$filter`) show the write at once.
//! graph.md §8.6 says reads *can* be stale, but the reports behind §1.6 rule 3 are of
//! callers whose update had succeeded and who still got the 400, so the lag that matters
//! is the invitation service's. Keeping reads fresh also makes the emulator the harder
//! adversary: a client cannot read its way out of the race and must retry the reset.
//! Removing an address takes effect everywhere at once.

use std::time::{Duration, Instant};

/// An address the invitation service does not know yet.
struct Pending {
    user_id: String,
    /// Lower-case, as addresses are compared case-insensitively.
    address: String,
    visible_at: Instant,
}

#[derive(Default)]
pub(super) struct Replication {
    lag: Duration,
    pending: Vec<Pending>,
}

impl Replication {
    pub(super) fn lag(&self) -> Duration {
        self.lag
    }

    pub(super) fn set_lag(&mut self, lag: Duration) {
        self.lag = lag;
    }

    /// Records the addresses a write added to the user (`before` → `after`).
    pub(super) fn added<'a>(
        &mut self,
        user_id: &str,
        before: &[String],
        after: impl Iterator<Item = &'a str>,
        now: Instant,
    ) {
        self.pending.retain(|p| p.visible_at > now);
        if self.lag.is_zero() {
            return;
        }
        let visible_at = now + self.lag;
        for address in after.map(str::to_lowercase) {
            if !before.contains(&address) {
                let user_id = user_id.to_lowercase();
                self.pending.push(Pending {
                    user_id,
                    address,
                    visible_at,
                });
            }
        }
    }

    /// Whether the invitation service already sees `address` on the user.
    pub(super) fn visible(&self, user_id: &str, address: &str, now: Instant) -> bool {
        let (user_id, address) = (user_id.to_lowercase(), address.to_lowercase());
        !self
            .pending
            .iter()
            .any(|p| p.user_id == user_id && p.address == address && p.visible_at > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_added_address_becomes_visible_after_the_lag() {
        let now = Instant::now();
        let mut replication = Replication::default();
        replication.set_lag(Duration::from_millis(100));
        let before = vec!["old@example.com".to_owned()];
        let after = ["old@example.com", "New@Example.com"];
        replication.added("U1", &before, after.into_iter(), now);
        assert!(replication.visible("u1", "old@example.com", now));
        assert!(!replication.visible("u1", "new@example.com", now));
        assert!(replication.visible("u2", "new@example.com", now));
        let later = now + Duration::from_millis(100);
        assert!(replication.visible("u1", "new@example.com", later));
    }

    #[test]
    fn without_lag_nothing_is_pending() {
        let now = Instant::now();
        let mut replication = Replication::default();
        replication.added("u1", &[], ["a@example.com"].into_iter(), now);
        assert!(replication.visible("u1", "a@example.com", now));
    }
}
