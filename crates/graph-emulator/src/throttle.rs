//! The sliding-window bucket behind the emulator's service limits: the invitation
//! manager's (any operation on `/invitations`, 150 requests per 5 seconds per tenant, all
//! apps together; throttling-limits.md, "Invitation manager service limits"; graph.md §4)
//! and the directory's write quota per app and tenant (`write_limit.rs`). The emulator
//! serves one tenant, so one invitation bucket per emulator.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The documented invitation limit.
pub(super) const DEFAULT_INVITATIONS: u32 = 150;
pub(super) const DEFAULT_WINDOW: Duration = Duration::from_secs(5);

/// A token bucket of `capacity` tokens in which each token comes back `window` after it
/// was taken. Unlike a bucket that refills continuously, this never lets more than
/// `capacity` requests through in any `window`, which is how the limit is worded; a
/// refused request takes no token.
pub(super) struct SlidingWindow {
    capacity: u32,
    window: Duration,
    /// When each token in use was taken, oldest first.
    taken: VecDeque<Instant>,
}

/// The invitation limit's bucket, as documented.
impl Default for SlidingWindow {
    fn default() -> Self {
        SlidingWindow::new(DEFAULT_INVITATIONS, DEFAULT_WINDOW)
    }
}

impl SlidingWindow {
    pub(super) fn new(capacity: u32, window: Duration) -> SlidingWindow {
        SlidingWindow {
            capacity: capacity.max(1),
            window,
            taken: VecDeque::new(),
        }
    }

    pub(super) fn capacity(&self) -> u32 {
        self.capacity
    }

    pub(super) fn window(&self) -> Duration {
        self.window
    }

    /// The share of the capacity in use at `now` (0.0..=1.0).
    pub(super) fn usage(&mut self, now: Instant) -> f64 {
        self.expire(now);
        self.taken.len() as f64 / f64::from(self.capacity)
    }

    fn expire(&mut self, now: Instant) {
        while (self.taken.front()).is_some_and(|t| now.duration_since(*t) >= self.window) {
            self.taken.pop_front();
        }
    }

    /// Takes a token, or says how long until one comes back.
    pub(super) fn take(&mut self, now: Instant) -> Result<(), Duration> {
        self.expire(now);
        if self.taken.len() < self.capacity as usize {
            self.taken.push_back(now);
            return Ok(());
        }
        let oldest = self.taken.front().copied().unwrap_or(now);
        Err(self.window.saturating_sub(now.duration_since(oldest)))
    }
}

/// `Retry-After` for a wait: whole seconds rounded up and at least 1, the form Graph
/// sends (graph.md §4 shows `Retry-After: 10`).
pub(super) fn retry_after_seconds(wait: Duration) -> String {
    let mut seconds = wait.as_secs();
    if wait.subsec_nanos() > 0 {
        seconds += 1;
    }
    seconds.max(1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_back_one_window_after_they_were_taken() {
        let start = Instant::now();
        let window = Duration::from_millis(100);
        let mut bucket = SlidingWindow::new(2, window);
        assert_eq!(bucket.take(start), Ok(()));
        assert_eq!(bucket.take(start + Duration::from_millis(40)), Ok(()));
        let third = bucket.take(start + Duration::from_millis(50));
        assert_eq!(third, Err(Duration::from_millis(50)));
        assert_eq!(bucket.take(start + window), Ok(()), "the first came back");
        assert!(bucket.take(start + window).is_err(), "the second has not");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), "1");
        assert_eq!(retry_after_seconds(Duration::ZERO), "1");
        assert_eq!(retry_after_seconds(Duration::from_millis(4001)), "5");
        assert_eq!(retry_after_seconds(Duration::from_secs(5)), "5");
    }
}
