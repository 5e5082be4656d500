//! `guest-reset doctor`: answers "which permission am I missing?". It checks
//! the configuration, the policy file and the audit database path, gets a
//! Graph token, reads the application permissions the token carries, makes one
//! harmless read per Graph read call the service uses, and reports each step as
//! a checklist line with the exact fix. The Graph checks run for every tenant
//! in force (side by side), or for the one `--tenant` names. It never writes
//! to Graph and never prints a secret or a token.

mod access;
mod local;
mod reads;
mod report;
mod target;
mod tenants;
mod token;

use serde::Serialize;

use crate::config::{Config, ConfigError};

pub use report::Report;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Something the operator has to add: a permission.
    Missing,
    /// Something wrong or unreachable: a variable, a file, an endpoint.
    Failed,
    /// Not checked: it depends on a failed check, or the service does not use it.
    Skipped,
}

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub status: Status,
    /// The tenant a Graph check ran in; unset for the local checks, and for
    /// the one `default` tenant without a tenants file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// What was checked, e.g. "token endpoint".
    pub what: String,
    /// What was found.
    pub detail: String,
    /// The exact fix, for a line that is not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn new(status: Status, what: &str, detail: String, fix: Option<String>) -> Check {
        Check {
            status,
            tenant: None,
            what: what.to_owned(),
            detail,
            fix,
        }
    }

    fn ok(what: &str, detail: String) -> Check {
        Check::new(Status::Ok, what, detail, None)
    }

    fn missing(what: &str, detail: String, fix: String) -> Check {
        Check::new(Status::Missing, what, detail, Some(fix))
    }

    fn failed(what: &str, detail: String, fix: String) -> Check {
        Check::new(Status::Failed, what, detail, Some(fix))
    }

    fn skipped(what: &str, detail: &str) -> Check {
        Check::new(Status::Skipped, what, detail.to_owned(), None)
    }
}

/// Every check against `config`, the outcome of loading the environment.
pub async fn run(config: Result<Config, ConfigError>) -> Report {
    run_for(config, None).await
}

/// Like [`run`], with the Graph checks for the tenant named `only` alone
/// (the local checks still run); an unknown name is a failed check.
pub async fn run_for(config: Result<Config, ConfigError>, only: Option<&str>) -> Report {
    let config = match config {
        Ok(config) => config,
        Err(error) => return Report::new(local::config_failed(&error)),
    };
    let mut checks = vec![
        local::config_ok(&config),
        local::policy(&config.policy_file),
        database(&config.database).await,
    ];
    let targets = match tenants::select(&config, only) {
        Ok(targets) => targets,
        Err(unknown) => {
            checks.push(unknown);
            return Report::new(checks);
        }
    };
    let (graph, headings) = tenants::check_all(targets, config.reset.allow_other_mails_write).await;
    checks.extend(graph);
    Report::with_headings(checks, headings)
}

async fn database(database: &crate::config::Database) -> Check {
    match database {
        crate::config::Database::Sqlite(path) => local::database(path),
        crate::config::Database::Postgres(_) => match crate::store::probe(database).await {
            Ok(detail) => Check::ok(local::DATABASE, detail),
            Err(e) => Check::failed(
                local::DATABASE,
                format!("cannot reach {}: {e}", database.describe()),
                "check GUEST_RESET_DATABASE_URL (host, port, user, password, database) and that the server accepts this host".into(),
            ),
        },
    }
}

/// The fix for a missing application permission.
fn grant(permission: &str, client_id: &str) -> String {
    format!(
        "grant {permission} (application permission) to app {client_id} and grant admin consent"
    )
}
