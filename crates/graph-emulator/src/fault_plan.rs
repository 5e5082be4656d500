//! The fault plan: which faults the emulator injects on which routes, how often, and the
//! seeded draws that make a run repeatable. A test that failed once under a plan fails
//! the same way again with the same seed and the same order of calls.

use serde::{Deserialize, Serialize};

/// What to inject: rules in order; the first rule whose route matches, whose `limit` is
/// not used up and whose draw succeeds decides the request's fault.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultPlan {
    pub seed: u64,
    pub rules: Vec<FaultRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultRule {
    pub route: FaultRoute,
    pub fault: Fault,
    /// 0.0..=1.0; 1.0 always fires, 0.0 never.
    pub probability: f64,
    /// Fire at most this many times, then the rule is inert.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Let the first `skip` requests on the route pass untouched (they take no
    /// draw): with probability 1 and limit 1, a fault on exactly the n-th call.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skip: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The emulated routes a rule can target. `Token` is the authority's token endpoint and
/// answers faults in the token service's error shape; `Batch` is the `$batch` envelope
/// itself (its items are classified by their own routes); `AnyGraph` covers every Graph
/// request (not `Token`), including ones no other variant names, envelopes and items.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FaultRoute {
    Token,
    GetUser,
    ListUsers,
    MemberOf,
    PatchUser,
    Invitations,
    Batch,
    AnyGraph,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// 429 with the documented body; `Retry-After` verbatim ("10", "2.128") or absent.
    /// Nothing is applied.
    Throttle { retry_after: Option<String> },
    /// A 5xx with the documented error body; nothing is applied.
    Unavailable {
        status: u16,
        retry_after: Option<String>,
    },
    /// Wait, then handle normally (like a stall, the request completes even if the client
    /// has gone meanwhile).
    Latency { millis: u64 },
    /// Hold the request, then handle normally. The change is applied when the stall ends
    /// even if the client has given up by then: the gateway had already forwarded it.
    Stall { millis: u64 },
    /// The real status (204 becomes 200) with a body that is not JSON; writes applied.
    /// An error answer from the real handler passes unchanged.
    MalformedJson,
    /// The real body cut in half, with a matching Content-Length; writes applied. Error
    /// answers and empty bodies (a PATCH's 204) pass unchanged.
    TruncatedJson,
    /// Apply the change, then close the connection without any response.
    DropAfterApply,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FaultPlanError {
    #[error("rule {rule}: probability {value} is not within 0.0..=1.0")]
    Probability { rule: usize, value: f64 },
    #[error("rule {rule}: status {status} is not a server error (500..=599)")]
    Status { rule: usize, status: u16 },
    #[error("rule {rule}: Retry-After {value:?} is not a valid header value")]
    RetryAfter { rule: usize, value: String },
    #[error("not a fault plan: {0}")]
    Json(String),
}

impl FaultPlan {
    /// Parses and validates a plan in its JSON form (control route, environment).
    pub fn from_json(text: &str) -> Result<FaultPlan, FaultPlanError> {
        let plan: FaultPlan =
            serde_json::from_str(text).map_err(|e| FaultPlanError::Json(e.to_string()))?;
        plan.validate()?;
        Ok(plan)
    }

    /// Values serde accepts but no request could be answered with.
    pub fn validate(&self) -> Result<(), FaultPlanError> {
        for (rule, r) in self.rules.iter().enumerate() {
            if !(0.0..=1.0).contains(&r.probability) {
                let value = r.probability;
                return Err(FaultPlanError::Probability { rule, value });
            }
            let retry_after = match &r.fault {
                Fault::Unavailable { status, .. } if !(500..=599).contains(status) => {
                    let status = *status;
                    return Err(FaultPlanError::Status { rule, status });
                }
                Fault::Throttle { retry_after } | Fault::Unavailable { retry_after, .. } => {
                    retry_after.as_deref()
                }
                _ => None,
            };
            if let Some(value) = retry_after.filter(|v| !valid_header(v)) {
                let value = value.to_owned();
                return Err(FaultPlanError::RetryAfter { rule, value });
            }
        }
        Ok(())
    }
}

fn valid_header(value: &str) -> bool {
    axum::http::HeaderValue::from_str(value).is_ok()
}

impl FaultRoute {
    /// Whether a rule for `self` applies to a request classified as `request`.
    fn covers(self, request: FaultRoute) -> bool {
        self == request || (self == FaultRoute::AnyGraph && request != FaultRoute::Token)
    }
}

impl Fault {
    /// The name recorded in the request log (`RecordedRequest::injected`).
    pub(super) fn name(&self) -> &'static str {
        match self {
            Fault::Throttle { .. } => "throttle",
            Fault::Unavailable { .. } => "unavailable",
            Fault::Latency { .. } => "latency",
            Fault::Stall { .. } => "stall",
            Fault::MalformedJson => "malformed_json",
            Fault::TruncatedJson => "truncated_json",
            Fault::DropAfterApply => "drop_after_apply",
        }
    }
}

/// The active plan with its random stream and how often each rule fired.
pub(super) struct ActiveFaults {
    plan: FaultPlan,
    rng: SplitMix64,
    fired: Vec<u32>,
    /// Requests each rule let pass because of its `skip`.
    skipped: Vec<u32>,
}

impl ActiveFaults {
    pub(super) fn new(plan: FaultPlan) -> ActiveFaults {
        ActiveFaults {
            rng: SplitMix64(plan.seed),
            fired: vec![0; plan.rules.len()],
            skipped: vec![0; plan.rules.len()],
            plan,
        }
    }

    pub(super) fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// The fault for the next request on `route`, if any. Each eligible rule consumes one
    /// draw, so the outcome depends only on the seed and the sequence of routes.
    pub(super) fn pick(&mut self, route: FaultRoute) -> Option<Fault> {
        for (index, rule) in self.plan.rules.iter().enumerate() {
            let fired = self.fired.get(index).copied().unwrap_or_default();
            if !rule.route.covers(route) || rule.limit.is_some_and(|l| fired >= l) {
                continue;
            }
            if let Some(skipped) = self.skipped.get_mut(index).filter(|n| **n < rule.skip) {
                *skipped += 1;
                continue;
            }
            if self.rng.next_unit() < rule.probability {
                if let Some(count) = self.fired.get_mut(index) {
                    *count += 1;
                }
                return Some(rule.fault.clone());
            }
        }
        None
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, good enough for coin flips, and any seed,
/// zero included, gives a full-quality stream. `rand` is not in the dependency tree.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1): the top 53 bits, exactly representable in an f64.
    fn next_unit(&mut self) -> f64 {
        const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
        (self.next_u64() >> 11) as f64 * SCALE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(probability: f64, limit: Option<u32>) -> FaultPlan {
        let fault = Fault::Latency { millis: 1 };
        let route = FaultRoute::GetUser;
        let rules = vec![FaultRule {
            route,
            fault,
            probability,
            limit,
            skip: 0,
        }];
        FaultPlan { seed: 7, rules }
    }

    #[test]
    fn splitmix_matches_the_reference_stream() {
        // First outputs of the reference implementation for seed 1234567.
        let mut rng = SplitMix64(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn any_graph_covers_graph_routes_but_not_the_token_endpoint() {
        assert!(FaultRoute::AnyGraph.covers(FaultRoute::PatchUser));
        assert!(FaultRoute::AnyGraph.covers(FaultRoute::AnyGraph));
        assert!(!FaultRoute::AnyGraph.covers(FaultRoute::Token));
        assert!(!FaultRoute::GetUser.covers(FaultRoute::ListUsers));
    }

    #[test]
    fn limit_stops_a_rule_and_other_routes_never_fire() {
        let mut active = ActiveFaults::new(plan(1.0, Some(2)));
        assert!(active.pick(FaultRoute::ListUsers).is_none());
        let fired = (0..5).filter_map(|_| active.pick(FaultRoute::GetUser));
        assert_eq!(fired.count(), 2);
    }

    #[test]
    fn skip_names_the_nth_call_of_a_route() {
        let mut one = plan(1.0, Some(1));
        one.rules[0].skip = 2;
        let mut active = ActiveFaults::new(one);
        let fired: Vec<bool> = (0..5)
            .map(|_| active.pick(FaultRoute::GetUser).is_some())
            .collect();
        assert_eq!(fired, [false, false, true, false, false]);
    }

    #[test]
    fn validation_rejects_what_cannot_be_served() {
        assert!(matches!(
            plan(1.5, None).validate(),
            Err(FaultPlanError::Probability { rule: 0, .. })
        ));
        let mut bad = plan(1.0, None);
        bad.rules[0].fault = Fault::Unavailable {
            status: 429,
            retry_after: None,
        };
        assert_eq!(
            bad.validate(),
            Err(FaultPlanError::Status {
                rule: 0,
                status: 429
            })
        );
        bad.rules[0].fault = Fault::Throttle {
            retry_after: Some("1\n".into()),
        };
        assert!(matches!(
            bad.validate(),
            Err(FaultPlanError::RetryAfter { .. })
        ));
        assert!(plan(0.0, None).validate().is_ok());
    }
}
