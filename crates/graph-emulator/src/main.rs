//! `graph-emulator [--listen ADDR] [--seed tenant.json]`: the emulator alone,
//! the way Azurite serves Azure Storage users. Faults, the invitation limit,
//! replication lag and the directory clock come from `GUEST_RESET_EMULATOR_*`.

use std::net::SocketAddr;
use std::path::PathBuf;

use graph_emulator::Emulator;

const USAGE: &str = "usage: graph-emulator [--listen 127.0.0.1:9090] [--seed tenant.json]";

struct Args {
    listen: SocketAddr,
    seed: Option<PathBuf>,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
        seed: None,
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
            "--seed" => args.seed = Some(PathBuf::from(value()?)),
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
    let emulator = match &args.seed {
        Some(path) => Emulator::from_seed_file(path)?,
        None => Emulator::demo(),
    };
    let emulator = emulator.from_env_overrides()?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    eprintln!("Graph emulator on http://{}", listener.local_addr()?);
    graph_emulator::run_standalone(emulator, listener, shutdown()).await?;
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
