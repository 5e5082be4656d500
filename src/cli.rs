//! The command line: `serve`, `demo`, `emulator`, `migrate`, `check-config`,
//! `check-policy`, `doctor`, `demo-token`, `healthcheck`.

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
        /// Tenant seed (JSON), once per tenant (the first is the home
        /// tenant); the demo's two tenants when absent.
        #[arg(long)]
        seed: Vec<PathBuf>,
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
    /// Print a demo caller token (HS256, signed with the demo-only secret the
    /// demo and docker-compose.yml trust; never accepted by a real setup).
    DemoToken {
        /// Lifetime in hours.
        #[arg(long, default_value_t = 8)]
        hours: u64,
        /// App roles (repeat; the demo policy knows GuestReset.Helpdesk,
        /// .RedeemUrl, .Auditor and .Admin).
        #[arg(long = "role", default_values_t = ["GuestReset.Helpdesk".to_owned(), "GuestReset.RedeemUrl".to_owned()])]
        roles: Vec<String>,
        /// A demo person's own (delegated) token instead: agent (Miriam,
        /// helpdesk), sponsor (Megan) or approver (Patti); --role is ignored.
        #[arg(long)]
        person: Option<String>,
    },
    /// Probe a running service (for a container HEALTHCHECK; no curl needed):
    /// exit 0 when it answers 2xx. Default: /healthz on GUEST_RESET_LISTEN_ADDR.
    Healthcheck {
        /// Probe /readyz (database, Graph token, auth keys) instead of /healthz.
        #[arg(long)]
        ready: bool,
        /// The URL to probe, instead of one built from GUEST_RESET_LISTEN_ADDR.
        #[arg(long)]
        url: Option<String>,
    },
    /// Check the configuration, then the Graph credentials and the application
    /// permissions with harmless reads in every tenant; print a checklist with
    /// the fix for each problem (exit 1 when anything is missing or failed).
    Doctor {
        /// Print the checklist as JSON.
        #[arg(long)]
        json: bool,
        /// Check Graph in this tenant only (a name from GUEST_RESET_TENANTS_FILE,
        /// or `default` without one); the local checks still run.
        #[arg(long, value_name = "NAME")]
        tenant: Option<String>,
    },
    /// Bulk jobs on a running service: submit, watch, results, pause, resume,
    /// cancel (exit 2 when some item of a watched job failed).
    Jobs {
        #[command(subcommand)]
        command: crate::operator::JobsCommand,
    },
    /// The audit trail: verify it (exit 1 naming what was tampered with),
    /// sign a checkpoint now, make a signing key.
    Audit {
        #[command(subcommand)]
        command: crate::audit_command::AuditCommand,
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
            Command::DemoToken {
                hours,
                roles,
                person,
            } => demo_token(hours, &roles, person.as_deref()),
            Command::Healthcheck { ready, url } => return Ok(healthcheck(ready, url).await),
            Command::Doctor { json, tenant } => return Ok(doctor(json, tenant.as_deref()).await),
            Command::Jobs { command } => return Ok(crate::operator::run(command).await),
            Command::Audit { command } => return crate::audit_command::run(command).await,
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

async fn emulator(listen: SocketAddr, seeds: Vec<PathBuf>) -> anyhow::Result<()> {
    let cloud = match seeds.is_empty() {
        false => crate::emulator::Cloud::from_seed_files(&seeds)?,
        true => crate::emulator::Cloud::demo(),
    };
    // Fault plan, invitation limit and replication lag from GUEST_RESET_EMULATOR_*.
    let cloud = cloud.from_env_overrides()?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("Graph emulator on http://{}", listener.local_addr()?);
    for tenant in cloud.tenants() {
        eprintln!(
            "  tenant {} ({})",
            tenant.tenant_id(),
            tenant.tenant_domain()
        );
    }
    cloud.run(listener, crate::app::shutdown_signal()).await?;
    Ok(())
}

fn demo_token(hours: u64, roles: &[String], person: Option<&str>) -> anyhow::Result<()> {
    let secs = hours.clamp(1, 24) * 3600;
    let token = match person {
        Some(name) => {
            let p = crate::demo::person(name).ok_or_else(|| {
                anyhow::anyhow!("--person {name:?}: one of agent, sponsor, approver")
            })?;
            crate::demo::mint_person_token(secs, &p)?
        }
        None => {
            let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
            crate::demo::mint_token_with_roles(secs, &roles)?
        }
    };
    println!("{token}");
    Ok(())
}

async fn migrate() -> anyhow::Result<()> {
    let database = crate::config::Config::database_from_env()?;
    crate::store::Store::connect(&database).await?;
    eprintln!("database {} is migrated", database.describe());
    Ok(())
}

/// One GET with a short timeout; the answer's status decides the exit code.
async fn healthcheck(ready: bool, url: Option<String>) -> ExitCode {
    let url = url.unwrap_or_else(|| {
        let listen = std::env::var(format!("{PREFIX}LISTEN_ADDR")).ok();
        let mut addr: SocketAddr = listen
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| ([127, 0, 0, 1], 8080).into());
        // A service bound to every interface is probed on loopback.
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}/{}", if ready { "readyz" } else { "healthz" })
    });
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build();
    let answer = match client {
        Ok(client) => client.get(&url).send().await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(r) if r.status().is_success() => {
            println!("{url}: {}", r.status());
            ExitCode::SUCCESS
        }
        Ok(r) => {
            eprintln!("{url}: {}", r.status());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{url}: {e}");
            ExitCode::FAILURE
        }
    }
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

async fn doctor(json: bool, tenant: Option<&str>) -> ExitCode {
    let report = crate::doctor::run_for(Config::from_env(), tenant).await;
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
            let tenants: Vec<String> = config
                .tenant_configs()
                .iter()
                .map(|t| format!("{} {} at {}", t.name, t.graph.tenant_id, t.graph.graph_url))
                .collect();
            println!(
                "configuration OK: listen {}, database {}, tenant(s) {}, {} policy rule(s)",
                config.listen,
                config.database.describe(),
                tenants.join("; "),
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
