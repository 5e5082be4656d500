//! The checks that need no network: configuration, policy file, audit
//! database path.

use std::path::{Path, PathBuf};

use super::{Check, access, reads, token};
use crate::config::{Config, ConfigError};
use crate::policy::Policy;

const CONFIGURATION: &str = "configuration";
const POLICY: &str = "policy file";
pub(super) const DATABASE: &str = "audit database";

/// One failed line per configuration issue, naming its variable; everything
/// else is skipped because it needs the configuration.
pub(super) fn config_failed(error: &ConfigError) -> Vec<Check> {
    let issues = error.0.iter().map(|issue| {
        Check::failed(
            CONFIGURATION,
            format!("{} {}", issue.variable, issue.message),
            format!(
                "set {} correctly in the service's environment",
                issue.variable
            ),
        )
    });
    let skipped = [POLICY, DATABASE, token::TOKEN]
        .iter()
        .chain(access::CHECKS)
        .chain(reads::CHECKS)
        .map(|what| Check::skipped(what, "needs a valid configuration"));
    issues.chain(skipped).collect()
}

pub(super) fn config_ok(config: &Config) -> Check {
    if !config.tenants.is_empty() {
        let names: Vec<&str> = config.tenants.iter().map(|t| t.name.as_str()).collect();
        let detail = format!(
            "every GUEST_RESET_* variable is valid ({} tenant(s) in GUEST_RESET_TENANTS_FILE: {})",
            names.len(),
            names.join(", ")
        );
        return Check::ok(CONFIGURATION, detail);
    }
    let g = &config.graph;
    let credential = match g.certificate {
        Some(_) => "certificate",
        None => "client secret",
    };
    Check::ok(
        CONFIGURATION,
        format!(
            "every GUEST_RESET_* variable is valid (app {}, tenant {}, {credential}, Graph {})",
            g.client_id, g.tenant_id, g.graph_url
        ),
    )
}

pub(super) fn policy(path: &Path) -> Check {
    match Policy::load(path) {
        Ok(policy) => Check::ok(
            POLICY,
            format!(
                "{}: {} rule(s), version {}",
                path.display(),
                policy.rules.len(),
                policy.version
            ),
        ),
        Err(e) => Check::failed(
            POLICY,
            e.to_string(),
            format!(
                "correct the file (`guest-reset check-policy {}` shows the line) or point \
                 GUEST_RESET_POLICY_FILE at the right one",
                path.display()
            ),
        ),
    }
}

/// Whether `serve` will be able to open (or create) the SQLite file. Nothing
/// is created here: a doctor run as another user (root) would leave a file
/// the service cannot write.
pub(super) fn database(path: &Path) -> Check {
    let fix = |target: &Path| {
        format!(
            "give the service's user write access to {} or change GUEST_RESET_DATABASE_PATH",
            target.display()
        )
    };
    if path.is_dir() {
        let detail = format!("{} is a directory", path.display());
        return Check::failed(
            DATABASE,
            detail,
            "point GUEST_RESET_DATABASE_PATH at a file".into(),
        );
    }
    let exists = path.exists();
    if exists
        && let Err(e) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
    {
        let detail = format!("{} cannot be opened for writing: {e}", path.display());
        return Check::failed(DATABASE, detail, fix(path));
    }
    // SQLite also writes its journal files next to the database.
    let dir = existing_dir(path);
    if let Err(e) = probe_writable(&dir) {
        let detail = format!("cannot create files in {}: {e}", dir.display());
        return Check::failed(DATABASE, detail, fix(&dir));
    }
    let detail = match exists {
        true => format!("{} exists and is writable", path.display()),
        false => format!(
            "{} does not exist yet; `serve` or `migrate` will create it (checked that {} is writable)",
            path.display(),
            dir.display()
        ),
    };
    Check::ok(DATABASE, detail)
}

/// The nearest existing directory at or above the database's directory
/// (`serve` creates the missing ones).
fn existing_dir(path: &Path) -> PathBuf {
    let mut dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    while !dir.as_os_str().is_empty() && !dir.is_dir() {
        dir = dir.parent().map(Path::to_path_buf).unwrap_or_default();
    }
    if dir.as_os_str().is_empty() {
        dir = PathBuf::from(".");
    }
    dir
}

/// Create and remove an empty file: the only sure test of write access.
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".guest-reset-doctor-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    #[test]
    fn a_database_in_a_missing_writable_directory_is_fine_and_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dir/audit.db");
        let check = database(&path);
        assert_eq!(check.status, Status::Ok, "{check:?}");
        assert!(!path.exists() && !dir.path().join("sub").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_directory_is_not_a_database() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(database(dir.path()).status, Status::Failed);
    }

    #[test]
    fn an_unreadable_policy_names_the_variable_in_the_fix() {
        let check = policy(Path::new("/nonexistent/policy.toml"));
        assert_eq!(check.status, Status::Failed);
        assert!(check.fix.unwrap().contains("GUEST_RESET_POLICY_FILE"));
    }
}
