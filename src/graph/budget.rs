//! A tenant's budgets for Graph's documented limits: 150 `POST
//! /invitations` per 5 s per tenant, shared by every app in it, and 3,000
//! user writes per 150 s per app and tenant (graph.md §5). Sending faster
//! only buys 429s, and a throttled write may still have taken effect, so
//! each attempt waits for a slot here instead.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Which of a tenant's documented limits a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// `POST /invitations`: 150 per 5 s per tenant, all apps.
    Invitations,
    /// `PATCH /users/{id}`: 3,000 per 150 s per app and tenant.
    UserWrites,
}

/// `limit` sends per sliding `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetSettings {
    pub limit: u32,
    pub window: Duration,
}

impl Default for BudgetSettings {
    fn default() -> BudgetSettings {
        BudgetSettings {
            limit: 150,
            window: Duration::from_secs(5),
        }
    }
}

impl BudgetSettings {
    /// Identity writes: 3,000 per 2 min 30 s per app and tenant (graph.md §5).
    pub fn user_writes() -> BudgetSettings {
        BudgetSettings {
            limit: 3000,
            window: Duration::from_secs(150),
        }
    }
}

/// A sliding-window log of recent sends.
#[derive(Debug)]
pub(crate) struct Budget {
    settings: BudgetSettings,
    sent: Mutex<VecDeque<Instant>>,
}

impl Budget {
    pub(crate) fn new(settings: BudgetSettings) -> Budget {
        Budget {
            settings,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// Take a slot, waiting for one until `deadline`; `false`: none came
    /// in time (the request was not sent).
    pub(crate) async fn take(&self, deadline: Instant) -> bool {
        loop {
            let wait = {
                let mut sent = self.sent.lock().await;
                let now = Instant::now();
                while sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.settings.window)
                {
                    sent.pop_front();
                }
                if sent.len() < self.settings.limit.max(1) as usize {
                    sent.push_back(now);
                    return true;
                }
                sent.front().map(|t| *t + self.settings.window)
            };
            match wait {
                Some(at) if at <= deadline => tokio::time::sleep_until(at).await,
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_window_admits_its_limit_then_waits_for_the_oldest_to_age_out() {
        let window = Duration::from_millis(300);
        let budget = Budget::new(BudgetSettings { limit: 3, window });
        let start = Instant::now();
        let far = start + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(budget.take(far).await);
        }
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(!budget.take(soon).await, "no slot before this deadline");
        assert!(
            budget.take(far).await,
            "a slot once the first send aged out"
        );
        assert!(Instant::now() - start >= window);
    }
}
