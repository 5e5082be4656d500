//! Bulk benchmark: a job of N guests (each moving to a new domain, so each
//! needs a `PATCH` and an invitation) against the emulator enforcing Graph's
//! documented limits (150 invitations per 5 s per tenant, 3,000 user writes
//! per 150 s per app), with single helpdesk resets sent while it runs.
//!
//!   cargo bench --bench bulk -- [--guests 10000] [--singles 20] [--graph-latency-ms N]
//!       [--database-url postgres://…]
//!
//! Reports, from one run: the job's wall time against the floor the limits
//! allow, the share of Graph calls answered 429, duplicate invitations, the
//! p50 of single resets during the job against the same without a job, and
//! the wall time of a dry run of the domain move. Not a CI gate.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails by panicking

use std::time::{Duration, Instant};

use guest_reset::emulator::Emulator;
use serde_json::{Value, json};

const POLICY: &str = r#"
[[grant]]
caller = { roles = ["GuestReset.BulkOperator"] }
permissions = ["jobs:create", "resets:create", "resets:read:own"]
[[grant]]
caller = { roles = ["GuestReset.Helpdesk"] }
permissions = ["resets:create", "resets:read:own"]

[[rule]]
name = "bulk"
caller = { roles = ["GuestReset.BulkOperator"] }
target_domains = ["fabrikam.example"]
new_email_domains = ["fabrikam.net"]
allow_email_change = true
max_job_items = 20000

[[rule]]
name = "singles"
caller = { roles = ["GuestReset.Helpdesk"] }
target_domains = ["fabrikam.example"]
new_email_domains = ["northwind.example"]
allow_email_change = true
"#;

const INVITATIONS: (u32, u64) = (150, 5);
const USER_WRITES: (u32, u64) = (3000, 150);

struct Args {
    guests: usize,
    singles: usize,
    /// Every Graph call takes this much longer (0: loopback speed).
    graph_latency_ms: u64,
    /// A `postgres://` database (empty) instead of SQLite: the budgets are
    /// then counted in it, as replicas share them.
    database_url: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        guests: 10_000,
        singles: 20,
        graph_latency_ms: 0,
        database_url: None,
    };
    let argv: Vec<String> = std::env::args().collect();
    for pair in argv.windows(2) {
        match pair[0].as_str() {
            "--guests" => a.guests = pair[1].parse().expect("--guests N"),
            "--singles" => a.singles = pair[1].parse().expect("--singles N"),
            "--graph-latency-ms" => {
                a.graph_latency_ms = pair[1].parse().expect("--graph-latency-ms N")
            }
            "--database-url" => a.database_url = Some(pair[1].clone()),
            _ => {}
        }
    }
    a
}

/// The earliest the last of `n` items can be invited: every limit is a
/// sliding window, so a limit of L per W sends its k-th burst of L at
/// (k-1)·W; the last burst of PATCHes must then be invited at 150 per 5 s.
fn floor(n: usize) -> Duration {
    let (lw, ww) = (USER_WRITES.0 as usize, USER_WRITES.1);
    let (li, wi) = (INVITATIONS.0 as usize, INVITATIONS.1);
    let bursts = n.div_ceil(lw);
    let last = n - (bursts - 1) * lw;
    let patch_done = (bursts as u64 - 1) * ww;
    let invites_after = (last.div_ceil(li) as u64 - 1) * wi;
    let invites_alone = (n.div_ceil(li) as u64 - 1) * wi;
    Duration::from_secs((patch_done + invites_after).max(invites_alone))
}

struct Bench {
    base: String,
    client: reqwest::Client,
    bulk: String,
    helpdesk: String,
}

impl Bench {
    async fn single(&self, i: usize) -> Duration {
        let body = json!({ "user": guest_reset::emulator::demo::guest_id(i),
            "new_email": format!("guest-{i}@northwind.example") });
        let started = Instant::now();
        let answer = self
            .client
            .post(format!("{}/v1/resets", self.base))
            .bearer_auth(&self.helpdesk)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
        started.elapsed()
    }

    async fn post_job(&self, query: &str, content_type: &str, body: String) -> Value {
        let answer = self
            .client
            .post(format!("{}/v1/jobs{query}", self.base))
            .bearer_auth(&self.bulk)
            .header("content-type", content_type)
            .body(body)
            .timeout(Duration::from_secs(900))
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        assert!(status.is_success(), "{status} {body}");
        body
    }

    async fn job(&self, id: &str) -> Value {
        let url = format!("{}/v1/jobs/{id}", self.base);
        let answer = self
            .client
            .get(url)
            .bearer_auth(&self.bulk)
            .send()
            .await
            .unwrap();
        answer.json().await.unwrap()
    }
}

fn p50(mut v: Vec<Duration>) -> f64 {
    v.sort_unstable();
    v.get(v.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

async fn start(emulator: &Emulator, database_url: Option<&str>) -> String {
    let graph = emulator.spawn("127.0.0.1:0").await.unwrap();
    let dir = Box::leak(Box::new(
        tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap(),
    ));
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let mut config =
        guest_reset::demo::config(([127, 0, 0, 1], 0).into(), dir.path(), policy, graph);
    // The dry run lists every Fabrikam guest: the job's, the singles' and the demo's.
    config.reset.job_max_items = 20_000;
    if let Some(url) = database_url {
        config.database = guest_reset::config::Database::Postgres(url.to_owned().into());
    }
    config.rate_limit = guest_reset::config::RateLimit {
        per_minute: u32::MAX / 2,
        burst: u32::MAX / 2,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(guest_reset::app::run(
        config,
        listener,
        std::future::pending(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    base
}

#[tokio::main]
async fn main() {
    let a = args();
    let emulator = Emulator::demo_with_guests(a.guests + 2 * a.singles);
    emulator.set_invitation_rate(INVITATIONS.0, Duration::from_secs(INVITATIONS.1));
    emulator.set_write_rate(USER_WRITES.0, Duration::from_secs(USER_WRITES.1));
    if a.graph_latency_ms > 0 {
        use guest_reset::emulator::{Fault, FaultPlan, FaultRoute, FaultRule};
        // Every request Graph serves takes that long, batched or not; the
        // `$batch` envelope adds nothing of its own (its items run at once).
        let routes = [
            FaultRoute::GetUser,
            FaultRoute::ListUsers,
            FaultRoute::MemberOf,
            FaultRoute::PatchUser,
            FaultRoute::Invitations,
        ];
        let rules = (routes.into_iter())
            .map(|route| FaultRule {
                route,
                fault: Fault::Latency {
                    millis: a.graph_latency_ms,
                },
                probability: 1.0,
                limit: None,
                skip: 0,
            })
            .collect();
        emulator.set_faults(FaultPlan { seed: 1, rules });
    }
    let base = start(&emulator, a.database_url.as_deref()).await;
    let token = |roles: &[&str]| guest_reset::demo::mint_token_with_roles(7200, roles).unwrap();
    let b = Bench {
        base,
        client: reqwest::Client::new(),
        bulk: token(&["GuestReset.BulkOperator"]),
        helpdesk: token(&["GuestReset.Helpdesk"]),
    };
    // Singles alone, on guests the job does not touch.
    let mut alone = Vec::new();
    for i in 0..a.singles {
        alone.push(b.single(a.guests + i).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let move_all = json!({ "select": { "mail_domain": "fabrikam.example" },
        "rewrite_domain": "fabrikam.net", "ticket": "CHG-1", "reason": "bench" });
    let started = Instant::now();
    let dry = b
        .post_job("?dry_run=true", "application/json", move_all.to_string())
        .await;
    let dry_wall = started.elapsed();
    eprintln!(
        "dry run of {} guests: {:.1} s",
        dry["total"],
        dry_wall.as_secs_f64()
    );
    emulator.clear_requests();
    let mut csv = String::from("user,new_email\n");
    for i in 0..a.guests {
        csv.push_str(&format!(
            "guest-{i}@fabrikam.example,guest-{i}@fabrikam.net\n"
        ));
    }
    let started = Instant::now();
    let job = b.post_job("", "text/csv", csv).await;
    let id = job["id"].as_str().unwrap().to_owned();
    eprintln!(
        "job {id} accepted after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (mut during, mut sent, mut last_print) = (Vec::new(), 0, Instant::now());
    let finished = loop {
        let job = b.job(&id).await;
        // An invitation throttled inside a batch is `unknown` until its
        // read-back after the grace period puts it back in the queue.
        if job["state"] == "finished" && job["counts"]["unknown"].as_u64().unwrap_or(0) == 0 {
            break job;
        }
        if sent < a.singles && started.elapsed() > Duration::from_secs(2 + 3 * sent as u64) {
            during.push(b.single(a.guests + a.singles + sent).await);
            sent += 1;
        }
        if last_print.elapsed() > Duration::from_secs(30) {
            eprintln!(
                "{:>5.0} s: {} of {} done",
                started.elapsed().as_secs_f64(),
                job["done"],
                job["total"]
            );
            last_print = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let wall = started.elapsed();
    report(&a, &emulator, &finished, wall, dry_wall, alone, during);
}

fn report(
    a: &Args,
    emulator: &Emulator,
    job: &Value,
    wall: Duration,
    dry_wall: Duration,
    alone: Vec<Duration>,
    during: Vec<Duration>,
) {
    let all: Vec<_> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1.0/"))
        .collect();
    let throttled = all.iter().filter(|r| r.status == 429).count();
    // Graph counts each request inside a batch; the envelopes apart.
    let (envelopes, graph): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|r| r.path == "/v1.0/$batch");
    let mut per_guest = std::collections::HashMap::new();
    for r in graph
        .iter()
        .filter(|r| r.path.ends_with("/invitations") && r.status == 201)
    {
        let id = r
            .body
            .as_ref()
            .and_then(|b| b["invitedUser"]["id"].as_str())
            .unwrap_or("");
        *per_guest.entry(id.to_owned()).or_insert(0usize) += 1;
    }
    let duplicates: usize = per_guest.values().map(|n| n.saturating_sub(1)).sum();
    let floor = floor(a.guests);
    let (p_alone, p_during) = (p50(alone), p50(during));
    println!("Graph latency added: {} ms per call", a.graph_latency_ms);
    let store = match a.database_url {
        Some(_) => "PostgreSQL (budgets counted in the database)",
        None => "SQLite (budgets in memory)",
    };
    println!("Store: {store}");
    println!(
        "| guests | succeeded | wall s | floor s | wall / floor | Graph calls | $batch envelopes | 429s | 429 share | duplicates | single p50 alone ms | single p50 during job ms | ratio | dry run s |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {:.1} | {} | {:.3} | {} | {} | {} | {:.2}% | {} | {:.1} | {:.1} | {:.2} | {:.1} |",
        a.guests,
        job["counts"]["succeeded"],
        wall.as_secs_f64(),
        floor.as_secs(),
        wall.as_secs_f64() / floor.as_secs_f64().max(1.0),
        graph.len(),
        envelopes.len(),
        throttled,
        100.0 * throttled as f64 / graph.len().max(1) as f64,
        duplicates,
        p_alone,
        p_during,
        p_during / p_alone.max(f64::MIN_POSITIVE),
        dry_wall.as_secs_f64(),
    );
}
