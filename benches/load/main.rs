//! Load benchmark: the service against the in-process Graph emulator (zero
//! added latency), the same Graph calls sent to the emulator directly, and
//! the durable-commit floor of the disk the audit file is on, in one run.
//!
//!   cargo bench --bench load -- [--requests N] [--concurrency 1,16,64] [--graph-latency-ms N]
//!
//! Prints a Markdown table for BENCHMARKS.md. Not a CI gate.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod drive;
mod floor;
mod paths;

use std::time::Duration;

use guest_reset::config::RateLimit;

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
    let mut config = guest_reset::demo::config(listen, dir.path(), policy, graph);
    config.rate_limit = RateLimit {
        per_minute: u32::MAX / 2,
        burst: u32::MAX / 2,
    };
    // As many Graph calls in flight as the direct path has (the default, 16,
    // is a production guard, not part of the overhead being measured).
    config.graph.retry.max_concurrency = 256;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let service = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(guest_reset::app::run(config, listener, async {
        let _ = stopped.await;
    }));

    let floor = floor::measure(dir.path(), 300).await?;
    let direct = paths::Direct::connect(&format!("http://{graph}")).await?;
    let caller = paths::Service::new(&service)?;
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
        let per_commit = (after.1 - before.1) / (after.0 - before.0).max(1.0);
        println!(
            "{}",
            drive::row(c, &graph_direct, &through, &floor, per_commit)
        );
        eprintln!(
            "c={c}: Graph requests: direct {sent_direct}, through the service {sent_service}"
        );
    }
    let _ = stop.send(());
    server.await??;
    Ok(())
}
