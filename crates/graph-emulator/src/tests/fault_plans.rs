//! Fault plans as a whole: seeded probabilities, limits, rule order, the control routes,
//! the environment variables and the request log's marker.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::super::{
    Emulator, Fault, FaultPlan, FaultPlanError, FaultRoute, FaultRule, OverrideError,
};
use super::{Harness, always, send};

fn throttle_rule(route: FaultRoute, probability: f64, limit: Option<u32>) -> FaultRule {
    let fault = Fault::Throttle { retry_after: None };
    FaultRule {
        route,
        fault,
        probability,
        limit,
        skip: 0,
    }
}

/// For each of `calls` unauthenticated GETs of a user: whether it was throttled (the
/// others are answered 401 by bearer validation, which comes after the faults).
async fn throttled_pattern(harness: &Harness, calls: usize) -> Vec<bool> {
    let url = harness.url("/v1.0/users/anyone");
    let mut pattern = Vec::with_capacity(calls);
    for _ in 0..calls {
        let response = harness.http.get(&url).send().await.expect("answer");
        pattern.push(response.status() == StatusCode::TOO_MANY_REQUESTS);
    }
    pattern
}

#[tokio::test]
async fn probability_is_honoured_and_the_same_seed_repeats_the_same_faults() {
    let harness = Harness::start().await;
    let plan = |seed| FaultPlan {
        seed,
        rules: vec![throttle_rule(FaultRoute::GetUser, 0.3, None)],
    };
    harness.emulator.set_faults(plan(42));
    let first = throttled_pattern(&harness, 1000).await;
    let hits = first.iter().filter(|t| **t).count();
    // Mean 300, standard deviation about 14.5: ±60 is more than four of them.
    assert!((240..=360).contains(&hits), "{hits} of 1000");

    harness.emulator.set_faults(plan(42));
    assert_eq!(throttled_pattern(&harness, 1000).await, first);
    harness.emulator.set_faults(plan(43));
    assert_ne!(throttled_pattern(&harness, 1000).await, first);
}

#[tokio::test]
async fn limit_stops_a_rule_and_the_first_firing_rule_wins() {
    let harness = Harness::start().await;
    let plan = FaultPlan {
        seed: 9,
        rules: vec![
            throttle_rule(FaultRoute::GetUser, 1.0, Some(3)),
            throttle_rule(FaultRoute::ListUsers, 1.0, None),
            FaultRule {
                fault: Fault::Unavailable {
                    status: 503,
                    retry_after: None,
                },
                ..throttle_rule(FaultRoute::AnyGraph, 1.0, Some(1))
            },
        ],
    };
    harness.emulator.set_faults(plan);
    let url = harness.url("/v1.0/users/anyone");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(send(harness.http.get(&url)).await.status.as_u16());
    }
    assert_eq!(statuses, [429, 429, 429, 503, 401, 401]);
    harness.emulator.clear_faults();
    assert_eq!(send(harness.http.get(&url)).await.status, 401);
}

#[tokio::test]
async fn the_request_log_marks_injected_requests_only() {
    let harness = Harness::start().await;
    let fault = Fault::Latency { millis: 1 };
    harness
        .emulator
        .set_faults(always(FaultRoute::ListUsers, fault));
    send(harness.http.get(harness.url("/v1.0/users"))).await;
    send(harness.http.get(harness.url("/v1.0/users/anyone"))).await;
    let log = harness.emulator.requests();
    let marks: Vec<_> = log.iter().map(|r| r.injected.as_deref()).collect();
    assert_eq!(marks, [Some("latency"), None]);
    let json = serde_json::to_value(&log).unwrap_or_default();
    assert_eq!(json[0]["injected"], "latency");
    assert!(
        json[1].get("injected").is_none(),
        "absent, not null: {json}"
    );
}

#[tokio::test]
async fn fault_control_routes_round_trip() {
    let harness = Harness::start().await;
    let faults = harness.url("/_emulator/faults");
    let plan = json!({
        "seed": 5,
        "rules": [
            { "route": "get_user", "fault": { "kind": "throttle", "retry_after": "2.128" },
              "probability": 1.0 },
            { "route": "invitations", "fault": { "kind": "unavailable", "status": 503,
              "retry_after": null }, "probability": 0.5, "limit": 2 },
            { "route": "token", "fault": { "kind": "drop_after_apply" }, "probability": 0.0 },
        ],
    });
    let put = harness.http.put(&faults).json(&plan).send().await;
    assert_eq!(put.expect("answer").status(), StatusCode::NO_CONTENT);
    let stored = send(harness.http.get(&faults)).await;
    assert_eq!(stored.body["rules"][2]["limit"], Value::Null);
    let parsed: FaultPlan = serde_json::from_value(stored.body).expect("a plan");
    assert_eq!(Some(parsed.clone()), harness.emulator.faults());
    assert_eq!(
        parsed.rules[0].fault,
        Fault::Throttle {
            retry_after: Some("2.128".into())
        }
    );
    let user = send(harness.http.get(harness.url("/v1.0/users/x"))).await;
    assert_eq!(user.header("retry-after"), "2.128");

    let bad = json!({ "seed": 1, "rules": [{ "route": "get_user",
        "fault": { "kind": "unavailable", "status": 404, "retry_after": null },
        "probability": 1.0 }] });
    let refused = send(harness.http.put(&faults).json(&bad)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body["error"]
            .as_str()
            .is_some_and(|e| e.contains("404"))
    );
    let garbage = send(harness.http.put(&faults).body("{")).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert!(
        harness.emulator.faults().is_some(),
        "a refused PUT changes nothing"
    );

    let deleted = harness.http.delete(&faults).send().await.expect("answer");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(send(harness.http.get(&faults)).await.body, Value::Null);
    let user = send(harness.http.get(harness.url("/v1.0/users/x"))).await;
    assert_eq!(user.status, StatusCode::UNAUTHORIZED);
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn environment_overrides_apply_and_name_the_bad_variable() {
    let plan = r#"{"seed":3,"rules":[{"route":"any_graph","fault":{"kind":"malformed_json"},"probability":0.25}]}"#;
    let emulator = Emulator::demo()
        .with_overrides(env(&[
            ("GUEST_RESET_EMULATOR_FAULTS", plan),
            ("GUEST_RESET_EMULATOR_INVITATION_RATE", "10/200ms"),
            ("GUEST_RESET_EMULATOR_REPLICATION_LAG_MS", "1500"),
        ]))
        .expect("valid overrides");
    let active = emulator.faults().expect("a plan");
    assert_eq!((active.seed, active.rules[0].probability), (3, 0.25));
    assert_eq!(active.rules[0].fault, Fault::MalformedJson);
    let rate = (10, Duration::from_millis(200));
    assert_eq!(emulator.invitation_rate(), rate);
    assert_eq!(emulator.replication_lag(), Duration::from_millis(1500));

    let defaults = Emulator::demo().with_overrides(env(&[("GUEST_RESET_EMULATOR_FAULTS", " ")]));
    let defaults = defaults.expect("blank means unset");
    assert!(defaults.faults().is_none());
    let documented = (150, Duration::from_secs(5));
    assert_eq!(defaults.invitation_rate(), documented);
    assert_eq!(defaults.replication_lag(), Duration::ZERO);

    let error = |pairs: &[(&str, &str)]| Emulator::demo().with_overrides(env(pairs)).err();
    let bad_plan = error(&[("GUEST_RESET_EMULATOR_FAULTS", "{\"seed\":1}")]);
    assert!(matches!(
        bad_plan,
        Some(OverrideError::Faults(FaultPlanError::Json(_)))
    ));
    let bad_rate = error(&[("GUEST_RESET_EMULATOR_INVITATION_RATE", "fast")]);
    assert_eq!(bad_rate, Some(OverrideError::InvitationRate("fast".into())));
    let bad_lag = error(&[("GUEST_RESET_EMULATOR_REPLICATION_LAG_MS", "1s")]);
    let message = bad_lag.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.starts_with("GUEST_RESET_EMULATOR_REPLICATION_LAG_MS"),
        "{message}"
    );
}
