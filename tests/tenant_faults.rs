//! One tenant's Graph failing or throttling must not slow the other: each
//! tenant has its own token cache, circuit breaker, concurrency limit and
//! invitation budget, and the queue keeps a paused tenant's work queued
//! while the other's runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{TestApp, guest_id, tenant};
use guest_reset::emulator::{Cloud, Emulator, Fault, FaultPlan, FaultRoute, FaultRule};
use serde_json::{Value, json};
use tenant::tailspin;

const POLICY: &str = r#"
[[grant]]
caller = { roles = ["GuestReset.Helpdesk"] }
permissions = ["resets:create", "resets:read:all"]

[[grant]]
caller = { roles = ["GuestReset.Auditor"] }
permissions = ["resets:read:all"]

[[rule]]
name = "partner-guests"
caller = { roles = ["GuestReset.Helpdesk"] }
target_domains = ["fabrikam.example", "litware.example"]
new_email_domains = ["northwind.example"]
"#;

/// Contoso with 40 extra guests, and Tailspin whose breaker opens after 3
/// failed calls and stays open for a minute.
async fn app() -> TestApp {
    let cloud = Cloud::new(vec![
        Emulator::demo_with_guests(40),
        Emulator::demo_tailspin(),
    ]);
    TestApp::spawn_cloud(cloud, |c| {
        std::fs::write(&c.policy_file, POLICY).unwrap();
        let tailspin = &mut c.tenants[1].graph.retry;
        tailspin.breaker.min_calls = 3;
        tailspin.breaker.cooldown = Duration::from_secs(60);
    })
    .await
}

fn tailspin_emulator(app: &TestApp) -> &Emulator {
    app.cloud
        .as_ref()
        .unwrap()
        .tenant(tailspin::TENANT_ID)
        .unwrap()
}

fn always(route: FaultRoute, fault: Fault) -> FaultPlan {
    let rule = FaultRule {
        route,
        fault,
        probability: 1.0,
        limit: None,
        skip: 0,
    };
    FaultPlan {
        seed: 7,
        rules: vec![rule],
    }
}

fn alex() -> Value {
    json!({ "tenant": "tailspin", "user": tailspin::ALEX_MAIL, "new_email": tailspin::ALEX_NEW_MAIL })
}

/// `n` Contoso resets at once (guests `from..from + n`); every status, and
/// how long they took together.
async fn contoso_burst(app: &TestApp, from: usize, n: usize) -> (Vec<u16>, Duration) {
    let started = Instant::now();
    let mut sends = tokio::task::JoinSet::new();
    for i in from..from + n {
        let body = json!({
            "tenant": "contoso", "user": guest_id(i), "new_email": format!("g{i}@northwind.example"),
            "ticket": "INC-5", "reason": "burst",
        });
        let request = app
            .client
            .post(format!("{}/v1/resets", app.base))
            .bearer_auth(app.token())
            .json(&body);
        sends.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    let statuses = sends.join_all().await;
    (statuses, started.elapsed())
}

fn gauge(metrics: &str, series: &str) -> String {
    let line = metrics
        .lines()
        .find(|l| l.starts_with(series))
        .unwrap_or_else(|| panic!("{series}"));
    line.rsplit(' ').next().unwrap().to_owned()
}

#[tokio::test]
async fn tailspin_down_leaves_contoso_at_full_speed() {
    let app = app().await;
    let (healthy, before) = contoso_burst(&app, 0, 20).await;
    assert!(healthy.iter().all(|s| *s == 201), "{healthy:?}");
    let down = Fault::Unavailable {
        status: 500,
        retry_after: None,
    };
    tailspin_emulator(&app).set_faults(always(FaultRoute::AnyGraph, down));
    // Tailspin fails while Contoso's next burst runs beside it.
    let failing = async {
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(app.post_reset(alex()).await.status().as_u16());
        }
        seen
    };
    let ((statuses, during), tailspin) = tokio::join!(contoso_burst(&app, 20, 20), failing);
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(tailspin[..3], [502, 502, 502], "{tailspin:?}");
    assert_eq!(tailspin[3], 503, "the fourth meets tailspin's open circuit");
    let metrics = app.metrics().await;
    assert_eq!(
        gauge(
            &metrics,
            "guest_reset_graph_circuit_open{tenant=\"tailspin\"}"
        ),
        "1"
    );
    assert_eq!(
        gauge(
            &metrics,
            "guest_reset_graph_circuit_open{tenant=\"contoso\"}"
        ),
        "0"
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["checks"]["tenants"]["tailspin"], "circuit_open");
    let applied = app.emulator.applied_resets().len();
    assert_eq!(applied, 40);
    assert!(tailspin_emulator(&app).applied_resets().is_empty());
    println!(
        "fault isolation: 20 contoso resets at once took {:.0} ms with both tenants healthy, \
         {:.0} ms while tailspin answered 500 to every Graph call (tailspin answers {tailspin:?}); \
         tailspin circuit open, contoso closed; readyz 200",
        before.as_secs_f64() * 1e3,
        during.as_secs_f64() * 1e3
    );
}

#[tokio::test]
async fn tailspin_throttled_answers_its_own_retry_after_and_contoso_goes_on() {
    let app = app().await;
    let throttle = Fault::Throttle {
        retry_after: Some("120".into()),
    };
    tailspin_emulator(&app).set_faults(always(FaultRoute::Invitations, throttle));
    let throttled = app.post_reset(alex()).await;
    assert_eq!(throttled.status(), 503);
    assert_eq!(throttled.headers()["retry-after"], "120");
    let body: Value = throttled.json().await.unwrap();
    assert_eq!(body["type"], "urn:guest-reset:problem:graph-throttled");
    let (statuses, took) = contoso_burst(&app, 0, 10).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    println!(
        "throttle isolation: tailspin 503 graph-throttled (Retry-After 120); 10 contoso resets 201 in {:.0} ms",
        took.as_secs_f64() * 1e3
    );
}

async fn queue(app: &TestApp, mut body: Value) -> String {
    body["ticket"] = json!("INC-7");
    body["reason"] = json!("moved");
    let response = app
        .client
        .post(format!("{}/v1/resets", app.base))
        .bearer_auth(app.token())
        .header("prefer", "respond-async")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let record: Value = response.json().await.unwrap();
    record["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn queued_work_of_a_paused_tenant_waits_while_the_others_runs() {
    let app = app().await;
    let down = Fault::Unavailable {
        status: 500,
        retry_after: None,
    };
    tailspin_emulator(&app).set_faults(always(FaultRoute::AnyGraph, down));
    for _ in 0..3 {
        assert_eq!(app.post_reset(alex()).await.status(), 502);
    }
    let waiting = queue(&app, alex()).await;
    let body =
        json!({ "tenant": "contoso", "user": guest_id(0), "new_email": "g0@northwind.example" });
    let runs = queue(&app, body).await;
    let mut status = Value::Null;
    for _ in 0..100 {
        status = app.reset_record(&runs).await["status"].clone();
        if !common::is_open(&status) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "succeeded");
    assert_eq!(app.reset_record(&waiting).await["status"], "queued");
    println!(
        "queue isolation: contoso's queued reset succeeded while tailspin's stays queued behind its open circuit"
    );
}
