//! Which database the service uses: `GUEST_RESET_DATABASE_URL` (or its
//! `_FILE`, for a URL holding a password) names a PostgreSQL server or a
//! SQLite file; without it, `GUEST_RESET_DATABASE_PATH` names the SQLite
//! file (the default, `./data/guest-reset.db`).

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use super::Env;

/// Which database, from `GUEST_RESET_DATABASE_URL` or `…_DATABASE_PATH`.
#[derive(Clone)]
pub enum Database {
    /// The embedded default: one file, one process.
    Sqlite(PathBuf),
    /// A `postgres://` URL; it may hold a password.
    Postgres(SecretString),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
            Database::Postgres(_) => f.write_str("Postgres([REDACTED])"),
        }
    }
}

impl Database {
    /// What to show an operator: the file, or the server without credentials.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => match url::Url::parse(url.expose_secret()) {
                Ok(u) => format!(
                    "postgres://{}{}{}",
                    u.host_str().unwrap_or("localhost"),
                    u.port().map(|p| format!(":{p}")).unwrap_or_default(),
                    u.path()
                ),
                Err(_) => "postgres (unparsable URL)".into(),
            },
        }
    }
}

impl Env<'_> {
    pub(super) fn database(&mut self) -> Database {
        let path: PathBuf = self
            .parsed("DATABASE_PATH", Some("./data/guest-reset.db"))
            .unwrap_or_default();
        let Some(url) = self.optional_secret("DATABASE_URL", 1) else {
            return Database::Sqlite(path);
        };
        let raw = url.expose_secret();
        if let Some(file) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            let file = file.split('?').next().unwrap_or_default();
            if file.is_empty() {
                self.issue(
                    "DATABASE_URL",
                    "a sqlite: URL must name a file (sqlite://path/to/file.db)",
                );
            }
            return Database::Sqlite(PathBuf::from(file));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Database::Postgres(url);
        }
        self.issue(
            "DATABASE_URL",
            "must start with postgres://, postgresql:// or sqlite:// (the value is not shown: it may hold a password)",
        );
        Database::Sqlite(path)
    }
}
