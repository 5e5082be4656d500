//! `GUEST_RESET_DATABASE_URL`, its `_FILE` and `…_DATABASE_PATH`.

use super::tests::{load, minimal};
use super::*;
use std::path::Path;

fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut env = minimal();
    for (k, v) in vars {
        env.insert(format!("{PREFIX}{k}"), (*v).to_owned());
    }
    load(&env)
}

#[test]
fn the_database_comes_from_the_url_or_the_path() {
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[], "./data/guest-reset.db"),
        (
            &[("DATABASE_PATH", "/var/lib/gr/audit.db")],
            "/var/lib/gr/audit.db",
        ),
        (
            &[("DATABASE_URL", "sqlite:///var/lib/gr/a.db")],
            "/var/lib/gr/a.db",
        ),
        (
            &[("DATABASE_URL", "sqlite://rel/a.db?mode=rwc")],
            "rel/a.db",
        ),
        (
            &[("DATABASE_URL", "postgresql://u:hunter2@db:5432/gr")],
            "postgres://db:5432/gr",
        ),
    ];
    for (vars, shown) in cases {
        let config = with(vars).unwrap_or_else(|e| panic!("{vars:?}: {e}"));
        assert_eq!(config.database.describe(), shown, "{vars:?}");
        if let Database::Sqlite(path) = &config.database {
            assert_eq!(path, Path::new(shown));
        }
    }
}

#[test]
fn a_database_url_never_shows_its_password() {
    let config = with(&[("DATABASE_URL", "postgres://u:hunter2@db/gr")]).unwrap();
    assert!(!format!("{config:?}").contains("hunter2"));
    assert!(!config.database.describe().contains("hunter2"));
    let err = with(&[("DATABASE_URL", "mysql://u:hunter2@db/gr")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("GUEST_RESET_DATABASE_URL: must start with postgres://"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn a_bad_database_setting_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("url");
    std::fs::write(&file, "postgres://u:p@db/gr\n").unwrap();
    let file = file.display().to_string();
    let from_file = with(&[("DATABASE_URL_FILE", &file)]).unwrap();
    assert_eq!(from_file.database.describe(), "postgres://db/gr");
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[("DATABASE_URL", "sqlite://")],
            "DATABASE_URL: a sqlite: URL must name a file",
        ),
        (
            &[
                ("DATABASE_URL", "postgres://db/gr"),
                ("DATABASE_URL_FILE", &file),
            ],
            "DATABASE_URL: set either DATABASE_URL or DATABASE_URL_FILE",
        ),
        (
            &[("DATABASE_URL_FILE", "/nonexistent/url")],
            "DATABASE_URL_FILE: cannot read",
        ),
    ];
    for (vars, wanted) in cases {
        let err = with(vars).unwrap_err().to_string();
        assert!(err.contains(wanted), "{vars:?}: {err}");
    }
}

#[test]
fn the_lease_time_has_a_default_and_bounds() {
    assert_eq!(with(&[]).unwrap().lease_ttl, Duration::from_secs(30));
    assert_eq!(
        with(&[("LEASE_SECS", "0")]).unwrap().lease_ttl,
        Duration::from_secs(1)
    );
    assert!(
        with(&[("LEASE_SECS", "soon")])
            .unwrap_err()
            .to_string()
            .contains("LEASE_SECS")
    );
}
