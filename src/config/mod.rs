//! Configuration from the environment. Every setting has one variable; secrets
//! also accept a `*_FILE` variant (container secrets). Loading collects *all*
//! problems so `check-config` can list them at once and `serve` can fail with
//! one message naming every variable to fix.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

mod audit;
mod auth;
mod console;
mod database;
mod graph;
mod notify;
mod tenants;
mod webhooks;

/// Prefix of every variable the service reads.
pub const PREFIX: &str = "GUEST_RESET_";

/// The whole runtime configuration of `guest-reset serve`.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// The audit store: a SQLite file (default) or a PostgreSQL server.
    pub database: Database,
    /// How long a replica's lease on a reset it drives lasts unrenewed.
    pub lease_ttl: Duration,
    pub policy_file: PathBuf,
    pub auth: crate::auth::AuthSettings,
    /// The GRAPH_* settings: the one tenant without a tenants file, else
    /// the defaults every tenant in it starts from.
    pub graph: GraphConfig,
    /// The tenants of `GUEST_RESET_TENANTS_FILE`; empty without the file.
    pub tenants: Vec<TenantConfig>,
    pub reset: ResetDefaults,
    /// How long `Idempotency-Key`s and their answers are kept.
    pub idempotency_retention: Duration,
    /// Per-caller request rate.
    pub rate_limit: RateLimit,
    /// An answer not ready by then is a 504 (a reset still runs to its end).
    pub request_timeout: Duration,
    /// Serve `/metrics` here instead of on the API listener.
    pub metrics_addr: Option<SocketAddr>,
    /// Webhook sources, queue workers and result callbacks.
    pub webhooks: WebhookConfig,
    /// Approval notifications (`NOTIFY_*`); `None`: not sent.
    pub notify: Option<NotifyConfig>,
    /// Signed checkpoints of the audit trail and its retention (`AUDIT_*`).
    pub audit: AuditConfig,
    /// The operator console's sign-in (`CONSOLE_*`); `None`: no console.
    pub console: Option<ConsoleConfig>,
}

pub use audit::AuditConfig;
pub use console::ConsoleConfig;
pub use database::Database;
pub use graph::{CertificateConfig, GraphConfig};
pub use notify::NotifyConfig;
pub use tenants::{DEFAULT_TENANT, TenantConfig, valid_name as valid_tenant_name};
pub use webhooks::{Callback, FieldMap, WebhookConfig, WebhookSource};

/// Per-caller request rate (`RATE_LIMIT_*`): `burst` requests at once,
/// refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

/// Defaults applied to a reset request that does not say otherwise.
#[derive(Debug, Clone)]
pub struct ResetDefaults {
    pub redirect_url: String,
    pub send_invitation_message: bool,
    /// When false, a new email that is not yet on the user is refused
    /// (`email-not-on-user`) instead of being added to `otherMails`.
    pub allow_other_mails_write: bool,
    /// How long an `unknown` reset waits before it is read back again
    /// (Graph is consistent again by then).
    pub unknown_grace: Duration,
    /// How far Graph's clock may be from ours: a change Graph dates this
    /// close before a reset's first attempt cannot be credited to it.
    pub clock_skew: time::Duration,
    /// The most items one bulk job may have (`GUEST_RESET_JOB_MAX_ITEMS`).
    pub job_max_items: usize,
    /// Job items run at most this many at a time per replica, apart from
    /// the workers of single queued resets (`GUEST_RESET_JOB_WORKERS`).
    pub job_workers: usize,
}

/// One problem found while loading: the variable and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub variable: String,
    pub message: String,
}

impl std::fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

/// All problems found; `Display` prints one line per variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .0.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError(pub Vec<ConfigIssue>);

impl Config {
    /// Load from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Only the database settings (for `guest-reset migrate`).
    pub fn database_from_env() -> Result<Database, ConfigError> {
        let lookup = |k: &str| std::env::var(k).ok();
        let mut env = Env {
            lookup: &lookup,
            issues: Vec::new(),
        };
        let database = env.database();
        match env.issues.is_empty() {
            true => Ok(database),
            false => Err(ConfigError(env.issues)),
        }
    }

    /// Only the database and the audit trail's settings (`guest-reset audit`).
    pub fn audit_from_env() -> Result<(Database, AuditConfig), ConfigError> {
        let lookup = |k: &str| std::env::var(k).ok();
        let mut env = Env {
            lookup: &lookup,
            issues: Vec::new(),
        };
        let found = (env.database(), env.audit());
        match env.issues.is_empty() {
            true => Ok(found),
            false => Err(ConfigError(env.issues)),
        }
    }

    /// Load through `lookup` (tests pass a map instead of the process env).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut env = Env {
            lookup: &lookup,
            issues: Vec::new(),
        };
        let tenants_file = env.get("TENANTS_FILE").is_some();
        let graph = env.graph(!tenants_file);
        let tenants = env.tenants(&graph).unwrap_or_default();
        let auth = env.auth();
        let console = env.console(&auth);
        let with_console = console.is_some();
        let config = Config {
            listen: env
                .parsed("LISTEN_ADDR", Some("127.0.0.1:8080"))
                .unwrap_or_else(|| ([127, 0, 0, 1], 8080).into()),
            database: env.database(),
            lease_ttl: Duration::from_secs(
                env.parsed("LEASE_SECS", Some("30"))
                    .unwrap_or(30u64)
                    .clamp(1, 3600),
            ),
            policy_file: env.parsed("POLICY_FILE", None).unwrap_or_default(),
            auth,
            console,
            graph,
            tenants,
            rate_limit: RateLimit {
                per_minute: env
                    .parsed("RATE_LIMIT_PER_MINUTE", Some("120"))
                    .unwrap_or(120),
                burst: env.parsed("RATE_LIMIT_BURST", Some("30")).unwrap_or(30),
            },
            metrics_addr: env.optional("METRICS_ADDR"),
            webhooks: env.webhooks(),
            notify: env.notify().map(|n| NotifyConfig {
                console_link: with_console,
                ..n
            }),
            audit: env.audit(),
            request_timeout: Duration::from_secs(
                env.parsed("REQUEST_TIMEOUT_SECS", Some("30")).unwrap_or(30),
            ),
            idempotency_retention: Duration::from_secs(
                3600 * env
                    .parsed::<u64>("IDEMPOTENCY_RETENTION_HOURS", Some("24"))
                    .unwrap_or(24),
            ),
            reset: ResetDefaults {
                redirect_url: env.url("DEFAULT_REDIRECT_URL", Some("https://myapps.microsoft.com")),
                send_invitation_message: env
                    .parsed("SEND_INVITATION_MESSAGE", Some("true"))
                    .unwrap_or_default(),
                allow_other_mails_write: env
                    .parsed("ALLOW_OTHER_MAILS_WRITE", Some("true"))
                    .unwrap_or_default(),
                unknown_grace: Duration::from_secs(
                    env.parsed("UNKNOWN_GRACE_SECS", Some("120")).unwrap_or(120),
                ),
                clock_skew: time::Duration::seconds(
                    env.parsed("GRAPH_CLOCK_SKEW_SECS", Some("5")).unwrap_or(5),
                ),
                job_max_items: env.parsed("JOB_MAX_ITEMS", Some("10000")).unwrap_or(10_000),
                job_workers: env.parsed("JOB_WORKERS", Some("32")).unwrap_or(32),
            },
        };
        match env.issues.is_empty() {
            true => Ok(config),
            false => Err(ConfigError(env.issues)),
        }
    }
}

/// An absolute http(s) URL without a trailing slash, or `None`.
fn absolute_url(value: &str) -> Option<String> {
    let ok = reqwest::Url::parse(value)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .unwrap_or(false);
    ok.then(|| value.trim_end_matches('/').to_owned())
}

/// Reads prefixed variables and remembers every problem instead of stopping
/// at the first one.
struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    issues: Vec<ConfigIssue>,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(&format!("{PREFIX}{name}")).filter(|v| !v.trim().is_empty())
    }

    fn issue(&mut self, name: &str, message: impl Into<String>) {
        self.issues.push(ConfigIssue {
            variable: format!("{PREFIX}{name}"),
            message: message.into(),
        });
    }

    fn required(&mut self, name: &str) -> String {
        self.get(name).unwrap_or_else(|| {
            self.issue(name, "is required but not set");
            String::new()
        })
    }

    /// The parsed value; `None` (with an issue recorded) when unset or invalid.
    fn parsed<T: std::str::FromStr>(&mut self, name: &str, default: Option<&str>) -> Option<T>
    where
        T::Err: std::fmt::Display,
    {
        let Some(raw) = self.get(name).or(default.map(str::to_owned)) else {
            self.issue(name, "is required but not set");
            return None;
        };
        match raw.trim().parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.issue(name, format!("cannot parse {raw:?}: {e}"));
                None
            }
        }
    }

    /// Like [`Self::parsed`], but unset is fine.
    fn optional<T: std::str::FromStr>(&mut self, name: &str) -> Option<T>
    where
        T::Err: std::fmt::Display,
    {
        self.get(name)?;
        self.parsed(name, None)
    }

    fn url(&mut self, name: &str, default: Option<&str>) -> String {
        let value: String = self.parsed(name, default).unwrap_or_default();
        if !value.is_empty() && absolute_url(&value).is_none() {
            self.issue(name, format!("{value:?} is not an absolute http(s) URL"));
        }
        value.trim_end_matches('/').to_owned()
    }

    /// A secret from `NAME` or from the file named by `NAME_FILE` (not both).
    fn secret(&mut self, name: &str, min_len: usize) -> SecretString {
        self.optional_secret(name, min_len).unwrap_or_else(|| {
            if !self
                .issues
                .iter()
                .any(|i| i.variable.starts_with(&format!("{PREFIX}{name}")))
            {
                self.issue(name, format!("is required (or {PREFIX}{name}_FILE)"));
            }
            SecretString::from(String::new())
        })
    }

    /// Like [`Env::secret`], but unset is fine (`None`).
    fn optional_secret(&mut self, name: &str, min_len: usize) -> Option<SecretString> {
        let file_var = format!("{name}_FILE");
        let value = match (self.get(name), self.get(&file_var)) {
            (Some(_), Some(_)) => {
                self.issue(name, format!("set either {name} or {file_var}, not both"));
                return None;
            }
            (Some(v), None) => v,
            (None, Some(path)) => match std::fs::read_to_string(&path) {
                Ok(v) => v.trim_end_matches(['\r', '\n']).to_owned(),
                Err(e) => {
                    self.issue(&file_var, format!("cannot read {path:?}: {e}"));
                    return None;
                }
            },
            (None, None) => return None,
        };
        if value.len() < min_len {
            self.issue(name, format!("must be at least {min_len} bytes long"));
        }
        Some(SecretString::from(value))
    }

    /// A comma-separated list; empty entries dropped.
    fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_database;
#[cfg(test)]
mod tests_tenants;
#[cfg(test)]
mod tests_webhooks;
