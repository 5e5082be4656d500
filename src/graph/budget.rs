//! A tenant's budgets for Graph's documented limits: 150 `POST
//! /invitations` per 5 s per tenant, shared by every app in it, and 3,000
//! user writes per 150 s per app and tenant (graph.md §5). Sending faster
//! only buys 429s, and a throttled write may still have taken effect, so
//! each attempt waits for a slot here instead.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::ledger::Shared;

/// How much later than its slot a request may reach Graph: the batch's
/// linger, the envelope's queueing and the network.
const IN_FLIGHT: Duration = Duration::from_millis(100);

/// How much longer than the cool-down a replica already keeps a new one
/// must be before it is shared with the others (one write at most per step).
const SHARE_STEP: Duration = Duration::from_millis(250);

/// Which of a tenant's documented limits a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// `POST /invitations`: 150 per 5 s per tenant, all apps.
    Invitations,
    /// `PATCH /users/{id}`: 3,000 per 150 s per app and tenant.
    UserWrites,
}

impl Limit {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Limit::Invitations => "invitations",
            Limit::UserWrites => "user_writes",
        }
    }
}

impl Priority {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Low => "low",
        }
    }
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

/// A sliding-window log of recent sends, and how long bulk work holds back.
#[derive(Debug)]
pub(crate) struct Budget {
    settings: BudgetSettings,
    sent: Mutex<VecDeque<Instant>>,
    /// Until then bulk work sends nothing: Graph throttled us or said we are
    /// near its limit (another app of the tenant, another replica).
    cool_until: std::sync::Mutex<Option<Instant>>,
    /// With several replicas, the ledger all of them count in; `sent` is
    /// then used only while the ledger is unreachable.
    shared: Option<Shared>,
}

/// Who asks for a slot: bulk work (job items) leaves the last slots of each
/// window to single resets, so a helpdesk reset during a 3,000-item job
/// finds one at once instead of queueing behind the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priority {
    High,
    Low,
}

impl Budget {
    pub(crate) fn new(settings: BudgetSettings) -> Budget {
        Budget {
            settings,
            sent: Mutex::new(VecDeque::new()),
            cool_until: std::sync::Mutex::new(None),
            shared: None,
        }
    }

    /// A budget counted in `shared` by every replica.
    pub(super) fn shared(settings: BudgetSettings, shared: Shared) -> Budget {
        Budget {
            shared: Some(shared),
            ..Budget::new(settings)
        }
    }

    /// The window as counted here: a slot is taken before the request
    /// leaves (and a batched one waits for its envelope), so Graph sees it
    /// up to this much later; counting the window longer by as much keeps
    /// two sends a window apart here from landing in one window there.
    fn window(&self) -> Duration {
        self.settings.window + IN_FLIGHT
    }

    /// The slots of a window bulk work may use: all but a twenty-fifth
    /// (6 of 150 invitations per 5 s), so bulk runs at 96% of the ceiling
    /// and single resets never wait for a window to age out.
    fn share(&self, priority: Priority) -> usize {
        let limit = self.settings.limit.max(1) as usize;
        match priority {
            Priority::High => limit,
            Priority::Low => (limit - (limit / 25).max(1)).max(1),
        }
    }

    /// Hold bulk work back until `until` (a 429's Retry-After, or Graph
    /// saying the app is near its limit).
    pub(crate) fn cool(&self, until: Instant) {
        let extended = {
            let mut slot = self.cool_until.lock().unwrap_or_else(|e| e.into_inner());
            let extended = slot.is_none_or(|t| until > t + SHARE_STEP);
            *slot = Some(slot.map_or(until, |t| t.max(until)));
            extended
        };
        // Past 80% of a limit Graph says so on every answer, each a moment
        // later than the last: only a cool-down that goes a step beyond the
        // one this replica keeps is worth a write every replica sees.
        if let (Some(shared), true) = (&self.shared, extended) {
            shared.cool(until.saturating_duration_since(Instant::now()));
        }
    }

    fn cooling(&self, now: Instant) -> Option<Instant> {
        let slot = self.cool_until.lock().unwrap_or_else(|e| e.into_inner());
        slot.filter(|t| *t > now)
    }

    /// Take a slot, waiting for one until `deadline`; `false`: none came
    /// in time (the request was not sent).
    pub(crate) async fn take(&self, deadline: Instant, priority: Priority) -> bool {
        if let Some(shared) = &self.shared {
            // This replica's own cool-down first: it may know of a 429 the
            // ledger has not recorded yet.
            if let Some(until) = self
                .cooling(Instant::now())
                .filter(|_| priority == Priority::Low)
            {
                if until > deadline {
                    return false;
                }
                tokio::time::sleep_until(until).await;
            }
            let (share, window) = (self.share(priority), self.window());
            let share = u32::try_from(share).unwrap_or(u32::MAX);
            let bulk = priority == Priority::Low;
            if let Some(taken) = shared.take(share, window, bulk, deadline).await {
                return taken;
            }
        }
        self.take_here(deadline, priority).await
    }

    /// A slot from this replica's own log (one replica, or the ledger is
    /// unreachable).
    async fn take_here(&self, deadline: Instant, priority: Priority) -> bool {
        loop {
            let wait = {
                let mut sent = self.sent.lock().await;
                let now = Instant::now();
                while sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window())
                {
                    sent.pop_front();
                }
                let cooling = self.cooling(now).filter(|_| priority == Priority::Low);
                if cooling.is_none() && sent.len() < self.share(priority) {
                    sent.push_back(now);
                    return true;
                }
                // Full: the slot opens when the send that keeps it full ages out.
                let share = self.share(priority);
                let aged = (sent.len() >= share)
                    .then(|| sent.get(sent.len() - share))
                    .flatten()
                    .map(|t| *t + self.window());
                cooling.max(aged)
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
            assert!(budget.take(far, Priority::High).await);
        }
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(
            !budget.take(soon, Priority::High).await,
            "no slot before this deadline"
        );
        assert!(
            budget.take(far, Priority::High).await,
            "a slot once the first send aged out"
        );
        assert!(Instant::now() - start >= window);
    }

    #[tokio::test]
    async fn bulk_leaves_the_last_slots_to_single_resets() {
        let window = Duration::from_secs(60);
        let budget = Budget::new(BudgetSettings { limit: 50, window });
        let now = Instant::now();
        let mut bulk = 0;
        while budget
            .take(now + Duration::from_millis(5), Priority::Low)
            .await
        {
            bulk += 1;
        }
        assert_eq!(bulk, 48, "a twenty-fifth of the window is kept back");
        let soon = Instant::now() + Duration::from_millis(5);
        assert!(budget.take(soon, Priority::High).await);
        assert!(budget.take(soon, Priority::High).await);
        assert!(
            !budget.take(soon, Priority::High).await,
            "the window is full"
        );
    }

    #[tokio::test]
    async fn a_cool_down_holds_bulk_back_but_not_single_resets() {
        let budget = Budget::new(BudgetSettings::default());
        budget.cool(Instant::now() + Duration::from_secs(60));
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(!budget.take(soon, Priority::Low).await);
        assert!(budget.take(soon, Priority::High).await);
    }
}
