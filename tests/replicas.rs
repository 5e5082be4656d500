//! Two `guest-reset serve` processes on one PostgreSQL database (the issue's
//! five scenarios). Needs `GUEST_RESET_TEST_DATABASE_URL` (a server where a
//! database can be created); `.ci/postgres-tests` starts one and sets
//! `GUEST_RESET_REQUIRE_POSTGRES=1`, so in CI a missing server fails.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking
#![cfg(unix)]

mod common;

use std::time::Duration;

use common::binary::{ISSUER, SECRET, Server, serve_logged};
use common::{guest_id, sign, tenant_with_guests};
use guest_reset::emulator::{Emulator, Fault, FaultPlan, FaultRoute, FaultRule};
use serde_json::{Value, json};

const POLICY: &str = "[[grant]]\ncaller = { subjects = ['portal', 'tickets'] }\npermissions = ['resets:create', 'resets:read:all']\n\
    [[rule]]\nname = 'all'\ntarget_domains = ['fabrikam.example']\nnew_email_domains = ['northwind.example']\n";
const WHSEC: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A fresh database on the test server, or `None` (skipped) outside CI.
async fn database() -> Option<String> {
    let Ok(server) = std::env::var("GUEST_RESET_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("GUEST_RESET_REQUIRE_POSTGRES").is_none(),
            "GUEST_RESET_REQUIRE_POSTGRES is set but GUEST_RESET_TEST_DATABASE_URL is not"
        );
        eprintln!("skipped: no PostgreSQL (run .ci/postgres-tests)");
        return None;
    };
    Some(common::fresh_postgres(&server).await)
}

struct Pair {
    servers: Vec<Server>,
    bases: Vec<String>,
    emulator: Emulator,
    _dir: tempfile::TempDir,
}

/// Two replicas on `url`, with `policy`, against one emulator.
async fn pair(url: &str, emulator: Emulator, policy: &str) -> Pair {
    let graph = emulator.spawn("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), policy).unwrap();
    let hooks = dir.path().join("webhooks.toml");
    std::fs::write(
        &hooks,
        "[[source]]\nname = 'tickets'\nscheme = 'standard-webhooks'\nsecret_vars = ['HOOK_SECRET']\n\
         roles = ['GuestReset.Helpdesk']\nfields = { user = '/ticket/guest', new_email = '/ticket/new_email', ticket = '/ticket/key' }\n",
    )
    .unwrap();
    let hooks = hooks.display().to_string();
    let env = [
        ("GUEST_RESET_DATABASE_URL", url),
        ("GUEST_RESET_LEASE_SECS", "2"),
        ("GUEST_RESET_UNKNOWN_GRACE_SECS", "1"),
        ("GUEST_RESET_WEBHOOKS_FILE", hooks.as_str()),
        ("GUEST_RESET_HOOK_SECRET", WHSEC),
    ];
    let (mut servers, mut bases) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let (server, base, _) = serve_logged(dir.path(), graph, &env);
        servers.push(server);
        bases.push(base);
    }
    Pair {
        servers,
        bases,
        emulator,
        _dir: dir,
    }
}

fn token() -> String {
    let now = jsonwebtoken::get_current_timestamp();
    sign(
        &json!({ "iss": ISSUER, "aud": "api://guest-reset", "sub": "portal", "exp": now + 600 }),
        SECRET,
    )
}

fn reset(base: &str, i: usize, key: Option<&str>) -> reqwest::RequestBuilder {
    let body = json!({ "user": guest_id(i), "new_email": format!("guest-{i}@northwind.example") });
    let mut r = reqwest::Client::new()
        .post(format!("{base}/v1/resets"))
        .bearer_auth(token())
        .json(&body);
    if let Some(key) = key {
        r = r.header("idempotency-key", key);
    }
    r
}

async fn statuses(base: &str) -> Vec<String> {
    rows(base)
        .await
        .into_iter()
        .map(|(_, status)| status)
        .collect()
}

async fn both<F: Fn(&str) -> reqwest::RequestBuilder>(p: &Pair, make: F) -> Vec<reqwest::Response> {
    let (a, b) = (make(&p.bases[0]).send(), make(&p.bases[1]).send());
    let (a, b) = tokio::join!(a, b);
    vec![a.unwrap(), b.unwrap()]
}

async fn problem_type(r: reqwest::Response) -> String {
    let body: Value = r.json().await.unwrap();
    body["type"]
        .as_str()
        .unwrap_or_default()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_sent_to_both_replicas_at_once_resets_once() {
    let Some(url) = database().await else { return };
    let p = pair(&url, tenant_with_guests(5), POLICY).await;
    for i in 0..5 {
        let key = format!("key-{i}");
        let answers = both(&p, |base| reset(base, i, Some(&key))).await;
        let codes: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
        assert!(codes.contains(&201), "{codes:?}");
        for r in answers.into_iter().filter(|r| r.status() != 201) {
            assert_eq!(r.status(), 409);
            assert_eq!(problem_type(r).await, "idempotency-key-in-flight");
        }
    }
    assert_eq!(p.emulator.applied_resets().len(), 5, "one reset per key");
    println!("idempotency: 5 keys, each sent to both replicas at once: 5 resets applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_webhook_delivery_sent_to_both_replicas_resets_once() {
    let Some(url) = database().await else { return };
    let p = pair(&url, tenant_with_guests(3), POLICY).await;
    for i in 0..3 {
        let body = serde_json::to_vec(&json!({ "ticket": { "key": format!("INC-{i}"),
            "guest": guest_id(i), "new_email": format!("guest-{i}@northwind.example") } }))
        .unwrap();
        let ts = common::webhooks::now();
        let headers = common::webhooks::standard(&format!("msg_{i}"), ts, &body, WHSEC);
        let answers = both(&p, |base| {
            let mut r = reqwest::Client::new()
                .post(format!("{base}/v1/webhooks/tickets"))
                .header("content-type", "application/json")
                .body(body.clone());
            for (k, v) in &headers {
                r = r.header(k, v);
            }
            r
        })
        .await;
        let codes: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
        assert!(codes.contains(&202), "{codes:?}");
        assert!(codes.iter().all(|c| *c == 202 || *c == 200), "{codes:?}");
    }
    let finished = wait(|| async {
        let s = statuses(&p.bases[0]).await;
        (s.len() == 3 && s.iter().all(|s| s == "succeeded")).then_some(s)
    })
    .await;
    assert_eq!(finished.len(), 3);
    assert_eq!(
        p.emulator.applied_resets().len(),
        3,
        "one reset per delivery"
    );
    println!("webhooks: 3 deliveries, each sent to both replicas: 3 rows, 3 resets applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_resets_of_one_guest_through_both_apply_once() {
    let Some(url) = database().await else { return };
    let emulator = tenant_with_guests(1);
    emulator.set_faults(slow_invitations(800));
    let p = pair(&url, emulator, POLICY).await;
    let answers = both(&p, |base| reset(base, 0, None)).await;
    let mut codes: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    codes.sort_unstable();
    assert_eq!(codes, [201, 409]);
    for r in answers.into_iter().filter(|r| r.status() == 409) {
        assert_eq!(problem_type(r).await, "reset-in-progress");
    }
    assert_eq!(p.emulator.applied_resets().len(), 1);
    println!("one guest through both replicas at once: answers {codes:?}, 1 reset applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_of_n_holds_across_both_replicas() {
    let Some(url) = database().await else { return };
    const N: usize = 4;
    let policy = format!("{POLICY}max_resets_per_hour = {N}\n");
    let p = pair(&url, tenant_with_guests(3 * N), &policy).await;
    let requests = (0..3 * N).map(|i| reset(&p.bases[i % 2], i, None).send());
    let answers = futures_join(requests).await;
    let allowed = answers.iter().filter(|c| **c == 201).count();
    let refused = answers.iter().filter(|c| **c == 429).count();
    assert_eq!((allowed, refused), (N, 2 * N), "{answers:?}");
    assert_eq!(p.emulator.applied_resets().len(), N);
    println!(
        "quota {N}/h, {} requests over both replicas: {allowed} allowed, {refused} refused 429",
        3 * N
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_one_replica_leaves_the_other_to_finish_everything() {
    let Some(url) = database().await else { return };
    const RUNNING: usize = 4;
    const QUEUED: usize = 4;
    let emulator = tenant_with_guests(RUNNING + QUEUED);
    emulator.set_faults(slow_invitations(1500));
    let mut p = pair(&url, emulator, POLICY).await;
    let victim = p.bases[0].clone();
    for i in 0..RUNNING {
        let request = reset(&victim, i, None);
        tokio::spawn(async move { drop(request.send().await) });
    }
    for i in RUNNING..RUNNING + QUEUED {
        let r = reset(&victim, i, None)
            .header("prefer", "respond-async")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    // Kill while Graph holds the running resets' invitations.
    wait(|| async {
        let n = p
            .emulator
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/invitations"))
            .count();
        (n >= RUNNING).then_some(())
    })
    .await;
    let mut victim = p.servers.remove(0);
    victim.0.kill().unwrap(); // SIGKILL: no shutdown, no finalisation
    victim.0.wait().unwrap();
    let started = std::time::Instant::now();
    let survivor = p.bases[1].clone();
    // Settled: nothing open, and no `unknown` left waiting (grace 1 s).
    let end = wait(|| async {
        let rows = rows(&survivor).await;
        let settled = rows
            .iter()
            .all(|(_, s)| !common::is_open(&Value::from(s.as_str())) && s != "unknown");
        (rows.len() == RUNNING + QUEUED && settled).then_some(rows)
    })
    .await;
    let took = started.elapsed();
    // Each guest applied at most once, and every status true to Graph: a
    // `succeeded` reset was applied, a `failed` one was not. (Which resets
    // the victim had sent when it died depends on timing; truth does not.)
    let applied: Vec<String> = p
        .emulator
        .applied_resets()
        .into_iter()
        .map(|a| a.user_id)
        .collect();
    let mut unique = applied.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        applied.len(),
        "nothing applied twice: {applied:?}"
    );
    for (guest, status) in &end {
        let was_applied = applied.contains(guest);
        assert_eq!(
            status == "succeeded",
            was_applied,
            "{guest}: {status}, applied {was_applied}"
        );
    }
    let succeeded = end.iter().filter(|(_, s)| s == "succeeded").count();
    println!(
        "kill -9 with {RUNNING} running and {QUEUED} queued: the survivor settled all {} in {took:?} (lease 2 s, grace 1 s): {succeeded} succeeded, the rest failed; {} applied, none twice",
        end.len(),
        applied.len()
    );
}

/// (guest id, status) of every reset, read through `base`.
async fn rows(base: &str) -> Vec<(String, String)> {
    let field = |i: &Value, k: &str| i[k].as_str().unwrap_or_default().to_owned();
    let items = common::binary::list(base, &token()).await;
    items
        .iter()
        .map(|i| (field(&i["target"], "id"), field(i, "status")))
        .collect()
}

fn slow_invitations(millis: u64) -> FaultPlan {
    FaultPlan {
        seed: 1,
        rules: vec![FaultRule {
            route: FaultRoute::Invitations,
            fault: Fault::Latency { millis },
            probability: 1.0,
            limit: None,
            skip: 0,
        }],
    }
}

async fn futures_join(
    requests: impl Iterator<
        Item = impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static,
    >,
) -> Vec<u16> {
    let handles: Vec<_> = requests.map(tokio::spawn).collect();
    let mut codes = Vec::new();
    for h in handles {
        codes.push(h.await.unwrap().unwrap().status().as_u16());
    }
    codes
}

/// Poll `check` for up to 30 s.
async fn wait<T, F, Fut>(check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..300 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not reached within 30 s");
}
