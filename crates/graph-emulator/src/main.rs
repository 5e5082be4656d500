//! `graph-emulator [--listen ADDR] [--seed tenant.json]...`: the emulator alone,
//! the way Azurite serves Azure Storage users. Each `--seed` is one tenant on the same
//! port (the first is the home tenant); without one it serves the demo cloud (Contoso
//! and Tailspin Toys). Faults, the invitation and write limits, replication lag and the
//! directory clock come from `GUEST_RESET_EMULATOR_*` and apply to every tenant.

use std::net::SocketAddr;
use std::path::PathBuf;

use graph_emulator::Cloud;

const USAGE: &str = "usage: graph-emulator [--listen 127.0.0.1:9090] [--seed tenant.json]...
  --seed may be repeated: one tenant each, the first is the home tenant;
  without --seed: the demo tenants Contoso (home) and Tailspin Toys";

struct Args {
    listen: SocketAddr,
    seeds: Vec<PathBuf>,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
        seeds: Vec::new(),
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || {
            given
                .next()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--listen" => args.listen = value()?.parse()?,
            "--seed" => args.seeds.push(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let cloud = if args.seeds.is_empty() {
        Cloud::demo()
    } else {
        Cloud::from_seed_files(&args.seeds)?
    };
    let cloud = cloud.from_env_overrides()?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let mut banner = format!("Graph emulator on http://{}\n", listener.local_addr()?);
    for (i, tenant) in cloud.tenants().iter().enumerate() {
        let (id, domain) = (tenant.tenant_id(), tenant.tenant_domain());
        let home = if i == 0 { ", home" } else { "" };
        banner.push_str(&format!("  tenant {id} ({domain}{home})\n"));
    }
    // One write: a reader that stops after the first line must not make a later
    // write fail.
    eprint!("{banner}");
    cloud.run(listener, shutdown()).await?;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
}
