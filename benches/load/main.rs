//! Load benchmark: the service against the in-process Graph emulator (zero
//! added latency), the same Graph calls sent to the emulator directly, and
//! the durable-commit floor of the disk the audit file is on, in one run.
//!
//!   cargo bench --bench load -- [--requests N] [--concurrency 1,16,64] [--graph-latency-ms N]
//!                              [--database postgres://…] [--replicas N]
//!
//! With `--database` the service runs on a PostgreSQL database created on
//! that server for the run; `--replicas 2` starts two instances on it and
//! spreads the requests over both.
//!
//! Prints a Markdown table for BENCHMARKS.md. Not a CI gate.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod drive;
mod floor;
mod paths;
mod setup;

use std::time::Duration;

const POLICY: &str = r#"
[[grant]]
caller = { roles = ["GuestReset.Helpdesk"] }
permissions = ["resets:create", "resets:read:own"]

[[rule]]
name = "bench"
target_domains = ["fabrikam.example"]
new_email_domains = ["fabrikam.example"]
allow_email_change = true
"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = drive::Args::parse();
    let emulator = paths::tenant();
    emulator.set_invitation_rate(u32::MAX, Duration::from_secs(1));
    if args.graph_latency_ms > 0 {
        use guest_reset::emulator::{Fault, FaultPlan, FaultRoute, FaultRule};
        let millis = args.graph_latency_ms;
        let rules = vec![FaultRule {
            route: FaultRoute::AnyGraph,
            fault: Fault::Latency { millis },
            probability: 1.0,
            limit: None,
            skip: 0,
        }];
        emulator.set_faults(FaultPlan { seed: 1, rules });
        eprintln!("every Graph call takes {millis} ms longer");
    }
    let graph = emulator.spawn("127.0.0.1:0").await?;
    // On the disk the audit file would be on (under target/), not a tmpfs.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))?;
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY)?;
    let listen = ([127, 0, 0, 1], 0).into();
    let config = guest_reset::demo::config(listen, dir.path(), policy, graph);
    let running = setup::start(config, args.database.as_deref(), args.replicas).await?;
    let floor = floor::measure(dir.path(), running.database_url.as_deref(), 300).await?;
    eprintln!(
        "{} on {}",
        match running.bases.len() {
            1 => "one instance".to_owned(),
            n => format!("{n} replicas"),
        },
        floor.what
    );
    let direct = paths::Direct::connect(&format!("http://{graph}")).await?;
    let caller = paths::Service::new(&running.bases)?;
    println!("{}", drive::header(&floor, args.requests));
    for &c in &args.concurrency {
        // Warm both paths (connections, token, SQLite pages) before timing.
        drive::run(c, c * 4, |i| direct.reset(i)).await;
        drive::run(c, c * 4, |i| caller.reset(i)).await;
        emulator.clear_requests();
        let graph_direct = drive::run(c, args.requests, |i| direct.reset(i)).await;
        let sent_direct = emulator.requests().len();
        emulator.clear_requests();
        let before = caller.commits().await;
        let through = drive::run(c, args.requests, |i| caller.reset(i)).await;
        let after = caller.commits().await;
        let sent_service = emulator.requests().len();
        let commits = after.0 - before.0;
        let per_commit = (commits > 0.0).then(|| (after.1 - before.1) / commits);
        println!(
            "{}",
            drive::row(c, &graph_direct, &through, &floor, per_commit)
        );
        eprintln!(
            "c={c}: Graph requests: direct {sent_direct}, through the service {sent_service}"
        );
    }
    running.stop().await
}
