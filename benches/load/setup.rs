//! The service instances under load: one on SQLite under target/, or one or
//! more replicas (`app::run` each, in this process) on a PostgreSQL database
//! created for the run.

use guest_reset::config::{Config, Database, RateLimit};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Running {
    pub bases: Vec<String>,
    /// The run's own PostgreSQL database, when there is one.
    pub database_url: Option<String>,
    stops: Vec<oneshot::Sender<()>>,
    servers: Vec<JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    pub async fn stop(self) -> anyhow::Result<()> {
        for stop in self.stops {
            let _ = stop.send(());
        }
        for server in self.servers {
            server.await??;
        }
        Ok(())
    }
}

/// Start `replicas` instances of `config`, on a fresh database on `server`
/// (PostgreSQL) or on the config's SQLite file.
pub async fn start(
    mut config: Config,
    server: Option<&str>,
    replicas: usize,
) -> anyhow::Result<Running> {
    config.rate_limit = RateLimit {
        per_minute: u32::MAX / 2,
        burst: u32::MAX / 2,
    };
    // As many Graph calls in flight as the direct path has (the default, 16,
    // is a production guard, not part of the overhead being measured).
    config.graph.retry.max_concurrency = 256;
    // Graph's invitation budget (150 per 5 s per tenant) would cap both
    // paths' service side at 30 resets/s: lifted like the emulator's own
    // limit, so what is measured is the service, not the budget.
    config.graph.retry.invitations = guest_reset::graph::BudgetSettings {
        limit: u32::MAX / 2,
        window: std::time::Duration::from_secs(5),
    };
    let database_url = match server {
        Some(server) => Some(fresh_database(server).await?),
        None => None,
    };
    if let Some(url) = &database_url {
        config.database = Database::Postgres(url.clone().into());
    }
    let mut running = Running {
        bases: Vec::new(),
        database_url,
        stops: Vec::new(),
        servers: Vec::new(),
    };
    for _ in 0..replicas.max(1) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        running
            .bases
            .push(format!("http://{}", listener.local_addr()?));
        let (stop, stopped) = oneshot::channel::<()>();
        running.stops.push(stop);
        running.servers.push(tokio::spawn(guest_reset::app::run(
            config.clone(),
            listener,
            async {
                let _ = stopped.await;
            },
        )));
    }
    Ok(running)
}

/// A new database on `server` for this run; its URL.
async fn fresh_database(server: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(server).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut conn)
        .await?;
    let mut url = url::Url::parse(server)?;
    url.set_path(&name);
    Ok(url.to_string())
}
