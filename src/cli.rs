//! The command line: `serve`, `demo`, `emulator`, `migrate`, `check-config`,
//! `check-policy`, `doctor`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, PREFIX};

#[derive(Parser)]
#[command(
    name = "guest-reset",
    version,
    about = "Reset the redemption status of Entra ID B2B guests, safely and audited"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service; configuration from GUEST_RESET_* environment variables.
    Serve,
    /// Run the Graph emulator and the service in one process, with a demo
    /// tenant, a demo policy and a SQLite file under --data-dir.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
    },
    /// Run the Graph emulator alone (token endpoint + the Graph calls used).
    Emulator {
        #[arg(long, default_value = "127.0.0.1:9090")]
        listen: SocketAddr,
        /// Tenant seed (JSON); the built-in demo tenant when absent.
        #[arg(long)]
        seed: Option<PathBuf>,
    },
    /// Create the database if needed, apply migrations, and exit.
    Migrate,
    /// Validate the environment and the policy file; list every problem.
    CheckConfig,
    /// Validate a policy file and print a readable summary of it (exit 1,
    /// with the line, when it is invalid).
    CheckPolicy {
        /// The policy file (TOML).
        file: PathBuf,
    },
    /// Check the configuration, the Graph credentials and the application
    /// permissions with harmless reads; print a checklist with the fix for
    /// each problem (exit 1 when anything is missing or failed).
    Doctor {
        /// Print the checklist as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The doctor's findings are its output; the Graph client's warnings about
    // the same failures would only repeat them (RUST_LOG still overrides).
    let default_level = match cli.command {
        Command::Doctor { .. } => "error",
        _ => "info",
    };
    crate::telemetry::init_with_default(default_level);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&anyhow::anyhow!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve => serve().await,
            Command::Demo { listen, data_dir } => crate::demo::run(listen, data_dir).await,
            Command::Emulator { listen, seed } => emulator(listen, seed).await,
            Command::Migrate => migrate().await,
            Command::CheckConfig => return Ok(check_config()),
            Command::CheckPolicy { file } => return Ok(check_policy(&file)),
            Command::Doctor { json } => return Ok(doctor(json).await),
        }
        .map(|()| ExitCode::SUCCESS)
    });
    result.unwrap_or_else(|e| fail(&e))
}

fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {e:#}");
    ExitCode::FAILURE
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {} ({PREFIX}LISTEN_ADDR): {e}",
                config.listen
            )
        })?;
    crate::app::run(config, listener, crate::app::shutdown_signal()).await
}

async fn emulator(listen: SocketAddr, seed: Option<PathBuf>) -> anyhow::Result<()> {
    let emulator = match seed {
        Some(path) => crate::emulator::Emulator::from_seed_file(&path)?,
        None => crate::emulator::Emulator::demo(),
    };
    // Fault plan, invitation limit and replication lag from GUEST_RESET_EMULATOR_*.
    let emulator = emulator.from_env_overrides()?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("Graph emulator on http://{}", listener.local_addr()?);
    crate::emulator::run_standalone(emulator, listener, crate::app::shutdown_signal()).await?;
    Ok(())
}

async fn migrate() -> anyhow::Result<()> {
    let path = std::env::var(format!("{PREFIX}DATABASE_PATH"))
        .unwrap_or_else(|_| "./data/guest-reset.db".into());
    crate::store::Store::open(std::path::Path::new(&path)).await?;
    eprintln!("database {path} is migrated");
    Ok(())
}

fn check_policy(file: &std::path::Path) -> ExitCode {
    match crate::policy::Policy::load(file) {
        Ok(p) => {
            print!("{}", p.summary());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn doctor(json: bool) -> ExitCode {
    let report = crate::doctor::run(Config::from_env()).await;
    match json {
        true => println!("{}", report.to_json()),
        false => print!("{}", report.to_text()),
    }
    match report.passed {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    }
}

fn check_config() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match crate::policy::Policy::load(&config.policy_file) {
        Ok(p) => {
            println!(
                "configuration OK: listen {}, database {}, Graph {} (tenant {}), {} policy rule(s)",
                config.listen,
                config.database_path.display(),
                config.graph.graph_url,
                config.graph.tenant_id,
                p.rules.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("invalid configuration:\n  - {PREFIX}POLICY_FILE: {e}");
            ExitCode::FAILURE
        }
    }
}
