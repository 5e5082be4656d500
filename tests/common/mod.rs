//! Test harness: the real service on 127.0.0.1:0 against the in-process
//! Graph emulator, with its own temporary SQLite file, or, when
//! `GUEST_RESET_TEST_DATABASE_URL` names a PostgreSQL server
//! (.ci/postgres-tests), a database of its own on that server: the same
//! tests on both backends.
#![allow(dead_code)]

pub mod approvals;
pub mod audit;
#[cfg(unix)]
pub mod binary;
pub mod browser;
pub mod console;
pub mod idempotency;
pub mod jobs;
#[cfg(unix)]
pub mod replicas;
pub mod tenants;
pub mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;

use guest_reset::config::{Config, Database};
use guest_reset::demo;
use guest_reset::emulator::{Cloud, Emulator};
use serde_json::{Value, json};
use tokio::sync::oneshot;

#[allow(unused_imports)]
pub use guest_reset::emulator::demo as tenant;

pub struct TestApp {
    pub base: String,
    /// The home tenant's emulator (the only one, unless `cloud` is set).
    pub emulator: Emulator,
    /// Several tenants on one emulator address ([`TestApp::spawn_cloud`]).
    pub cloud: Option<Cloud>,
    pub db_path: PathBuf,
    pub client: reqwest::Client,
    pub config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Start with `policy` (TOML) instead of the demo policy.
    pub async fn spawn_with_policy(policy: &str) -> TestApp {
        let policy = policy.to_owned();
        Self::spawn_with(move |config| {
            std::fs::write(&config.policy_file, policy).unwrap();
        })
        .await
    }

    /// Start with the demo configuration, adjusted by `tweak`.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_on(Emulator::demo(), tweak).await
    }

    /// Start against `emulator` (e.g. a tenant with many guests, or faults).
    pub async fn spawn_on(emulator: Emulator, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let graph = emulator
            .spawn("127.0.0.1:0")
            .await
            .expect("emulator starts");
        let (config, dir) = Self::config_for(graph).await;
        let mut config = config;
        tweak(&mut config);
        Self::start(emulator, config, dir).await
    }

    /// Start against the demo's two tenants (`contoso`, `tailspin`), both
    /// reached with the shared multi-tenant app, adjusted by `tweak`.
    pub async fn spawn_cloud(cloud: Cloud, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let graph = cloud.spawn("127.0.0.1:0").await.expect("emulator starts");
        let (mut config, dir) = Self::config_for(graph).await;
        config.tenants = demo::tenants(&config.graph);
        tweak(&mut config);
        let home = cloud.tenants()[0].clone();
        let mut app = Self::start(home, config, dir).await;
        app.cloud = Some(cloud);
        app
    }

    /// The demo configuration against the emulator at `graph`, on a fresh
    /// database, with the demo policy in its own directory.
    async fn config_for(graph: SocketAddr) -> (Config, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let policy = dir.path().join("policy.toml");
        std::fs::write(&policy, demo::DEMO_POLICY).unwrap();
        let mut config = demo::config(([127, 0, 0, 1], 0).into(), dir.path(), policy, graph);
        // The demo's signing key (made in the directory) and checkpoint file.
        config.audit = demo::audit(dir.path());
        if let Ok(server) = std::env::var("GUEST_RESET_TEST_DATABASE_URL") {
            config.database = Database::Postgres(fresh_postgres(&server).await.into());
            // A restart on PostgreSQL leaves the earlier leases to run out.
            config.lease_ttl = std::time::Duration::from_secs(2);
        }
        // Tests fire many requests as one caller; tests/limits.rs sets its own.
        config.rate_limit = guest_reset::config::RateLimit {
            per_minute: 60_000,
            burst: 10_000,
        };
        (config, dir)
    }

    async fn start(emulator: Emulator, config: Config, dir: tempfile::TempDir) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(guest_reset::app::run(config.clone(), listener, async {
            let _ = rx.await;
        }));
        let app = TestApp {
            base: format!("http://{addr}"),
            emulator,
            cloud: None,
            db_path: match &config.database {
                guest_reset::config::Database::Sqlite(path) => path.clone(),
                guest_reset::config::Database::Postgres(_) => PathBuf::new(),
            },
            client: reqwest::Client::new(),
            config,
            shutdown: Some(tx),
            server: Some(server),
            _dir: dir,
        };
        app.wait_ready().await;
        app
    }

    async fn wait_ready(&self) {
        for _ in 0..200 {
            let probe = self
                .client
                .get(format!("{}/healthz", self.base))
                .send()
                .await;
            if probe.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("service did not start");
    }

    /// A second instance on the same database and emulator, with the same
    /// configuration: another replica (PostgreSQL).
    pub async fn replica(&self) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        Self::start(self.emulator.clone(), self.config.clone(), dir).await
    }

    /// Stop this instance and start a new one on the same database and
    /// emulator (what an operator's restart does).
    pub async fn restart(mut old: TestApp, config: Config) -> TestApp {
        old.stop().await;
        let dir = std::mem::replace(&mut old._dir, tempfile::tempdir().unwrap());
        let mut app = Self::start(old.emulator.clone(), config, dir).await;
        app.cloud = old.cloud.clone();
        app
    }

    /// Stop the service and wait until it has closed.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }

    /// A valid caller token (the demo issuer and audience).
    pub fn token(&self) -> String {
        self.token_with(json!({}))
    }

    /// A token with the standard claims overridden or extended by `extra`
    /// (a `null` value removes the claim).
    pub fn token_with(&self, extra: Value) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let mut claims = json!({
            "iss": demo::DEMO_ISSUER, "aud": demo::DEMO_AUDIENCE, "sub": "helpdesk-agent-1",
            "name": "Agent One", "azp": "portal-app", "iat": now, "nbf": now, "exp": now + 600,
            "roles": ["GuestReset.Helpdesk", "GuestReset.RedeemUrl"],
        });
        let obj = claims.as_object_mut().unwrap();
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            if v.is_null() {
                obj.remove(&k);
            } else {
                obj.insert(k, v);
            }
        }
        sign(&claims, demo::DEMO_TOKEN_SECRET)
    }

    pub async fn post_reset(&self, body: Value) -> reqwest::Response {
        self.post_reset_as(&self.token(), body).await
    }

    /// POST a reset; a `ticket` and `reason` the demo policy accepts are added
    /// unless the body has them (`null` sends the field as null).
    pub async fn post_reset_as(&self, token: &str, mut body: Value) -> reqwest::Response {
        if let Some(obj) = body.as_object_mut() {
            obj.entry("ticket").or_insert(json!("INC-1000"));
            obj.entry("reason")
                .or_insert(json!("guest asked for a new sign-in"));
        }
        self.client
            .post(format!("{}/v1/resets", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_as(&self.token(), path).await
    }

    /// A token with the demo auditor role (`resets:read:all`).
    pub fn auditor_token(&self) -> String {
        self.token_with(json!({ "sub": "auditor-1", "roles": ["GuestReset.Auditor"] }))
    }

    /// `GET /v1/resets/{id}` with the auditor token (reads every reset).
    pub async fn reset_record(&self, id: &str) -> Value {
        let path = format!("/v1/resets/{id}");
        let response = self.get_as(&self.auditor_token(), &path).await;
        response.json().await.unwrap()
    }

    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        let response = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await;
        response.unwrap().text().await.unwrap()
    }

    /// True when this instance runs on PostgreSQL (file checks do not apply).
    /// The instance's data directory (its SQLite file, the demo's audit
    /// signing key and checkpoint file).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The database as a `GUEST_RESET_DATABASE_URL`.
    pub fn database_url(&self) -> String {
        match &self.config.database {
            Database::Sqlite(path) => format!("sqlite://{}", path.display()),
            Database::Postgres(url) => secrecy::ExposeSecret::expose_secret(url).to_owned(),
        }
    }

    /// The emulator's origin (`http://127.0.0.1:PORT`): Graph, and the
    /// demo tenant's sign-in pages.
    pub fn graph_origin(&self) -> String {
        let url = reqwest::Url::parse(&self.config.graph.graph_url).unwrap();
        url.origin().ascii_serialization()
    }

    pub fn on_postgres(&self) -> bool {
        matches!(self.config.database, Database::Postgres(_))
    }

    /// The audit store this instance uses, opened beside it.
    pub async fn store(&self) -> guest_reset::store::Store {
        guest_reset::store::Store::connect(&self.config.database)
            .await
            .unwrap()
    }

    /// The store as a process that then died left it: the leases on the
    /// rows it writes have run out already (on SQLite a restart voids them
    /// anyway; on PostgreSQL another replica waits for them to run out).
    pub async fn dead_process_store(&self) -> guest_reset::store::Store {
        self.store()
            .await
            .with_lease_ttl(std::time::Duration::from_millis(1))
    }

    /// A connection straight to the database (not via the API).
    pub async fn database(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        let url = match &self.config.database {
            Database::Sqlite(path) => format!("sqlite://{}?mode=ro", path.display()),
            Database::Postgres(url) => secrecy::ExposeSecret::expose_secret(url).to_owned(),
        };
        <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap()
    }

    /// Everything the database holds, as text: the SQLite file and its WAL
    /// byte for byte, or every row of every PostgreSQL table (what a
    /// credential must never be found in).
    pub async fn database_text(&self) -> String {
        match &self.config.database {
            Database::Sqlite(path) => {
                let mut bytes = std::fs::read(path).unwrap_or_default();
                bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Database::Postgres(_) => {
                let mut conn = self.database().await;
                let mut text = String::new();
                let tables: Vec<String> = sqlx::query_scalar(
                    "select table_name::text from information_schema.tables where table_schema = 'public'",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap();
                for table in tables {
                    let sql =
                        format!("select coalesce(string_agg(t::text, ' '), '') from {table} t");
                    let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                        .fetch_one(&mut conn)
                        .await
                        .unwrap();
                    text.push_str(&rows);
                }
                text
            }
        }
    }

    /// Every audit row, read straight from the database (not via the API).
    pub async fn audit_rows(&self) -> Vec<Value> {
        use sqlx::{Column, Row};
        let mut conn = self.database().await;
        let rows = sqlx::query("select * from resets order by id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        rows.iter()
            .map(|row| {
                let mut obj = serde_json::Map::new();
                for (i, col) in row.columns().iter().enumerate() {
                    let v: Option<String> = row.try_get::<Option<String>, _>(i).ok().flatten();
                    let v = v.map(Value::String).unwrap_or_else(|| {
                        row.try_get::<Option<i64>, _>(i)
                            .ok()
                            .flatten()
                            .map_or(Value::Null, Value::from)
                    });
                    obj.insert(col.name().to_owned(), v);
                }
                Value::Object(obj)
            })
            .collect()
    }

    /// The requests the emulator received as "METHOD path" (token calls too).
    pub fn graph_calls(&self) -> Vec<String> {
        self.emulator
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// Only the calls that change state in Graph: a `$batch` envelope is
    /// none itself, its items are logged on their own.
    pub fn graph_writes(&self) -> Vec<String> {
        self.graph_calls()
            .into_iter()
            .filter(|c| c.starts_with("PATCH") || c.starts_with("POST /v1.0"))
            .filter(|c| !c.ends_with("/$batch"))
            .collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn sign(claims: &Value, secret: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).unwrap()
}

/// Assert a problem answer: status, `type` slug, content type, request id.
pub async fn expect_problem(response: reqwest::Response, status: u16, slug: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status for {slug}");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["type"],
        format!("urn:guest-reset:problem:{slug}"),
        "{body}"
    );
    assert_eq!(body["status"], status);
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert_eq!(body["request_id"].as_str(), request_id.as_deref(), "{body}");
    body
}

pub fn demo_issuer() -> &'static str {
    demo::DEMO_ISSUER
}

pub fn demo_audience() -> &'static str {
    demo::DEMO_AUDIENCE
}

/// The demo tenant plus `n` accepted Fabrikam guests `guest-<i>@fabrikam.example`
/// with ids [`guest_id`].
/// The demo tenant with one fault on `route`, always injected (`limit`
/// times at most).
pub fn demo_with_fault(
    route: guest_reset::emulator::FaultRoute,
    fault: guest_reset::emulator::Fault,
    limit: Option<u32>,
) -> Emulator {
    use guest_reset::emulator::{FaultPlan, FaultRule};
    let emulator = Emulator::demo();
    let rule = FaultRule {
        route,
        fault,
        probability: 1.0,
        limit,
        skip: 0,
    };
    emulator.set_faults(FaultPlan {
        seed: 3,
        rules: vec![rule],
    });
    emulator
}

pub fn tenant_with_guests(n: usize) -> Emulator {
    Emulator::demo_with_guests(n)
}

pub fn guest_id(i: usize) -> String {
    tenant::guest_id(i)
}

/// Whether a reset's `status` (as the API shows it) is not finished yet.
pub fn is_open(status: &Value) -> bool {
    status
        .as_str()
        .and_then(guest_reset::record::Status::parse)
        .is_some_and(guest_reset::record::Status::is_open)
}

/// A new, empty database on the PostgreSQL server at `server`; its URL.
pub async fn fresh_postgres(server: &str) -> String {
    use sqlx::Connection;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(server).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&name);
    url.to_string()
}
