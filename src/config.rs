//! Configuration from the environment. Every setting has one variable; secrets
//! also accept a `*_FILE` variant (container secrets). Loading collects *all*
//! problems so `check-config` can list them at once and `serve` can fail with
//! one message naming every variable to fix.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

/// Prefix of every variable the service reads.
pub const PREFIX: &str = "GUEST_RESET_";

/// The whole runtime configuration of `guest-reset serve`.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_path: PathBuf,
    pub policy_file: PathBuf,
    pub auth: AuthConfig,
    pub graph: GraphConfig,
    pub reset: ResetDefaults,
}

/// How inbound bearer tokens are validated (HS256 for now).
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    pub hs256_secret: SecretString,
    pub leeway_secs: u64,
}

/// Where and as whom the service talks to Microsoft Graph.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// Token authority, e.g. `https://login.microsoftonline.com`.
    pub authority_url: String,
    /// Graph root, e.g. `https://graph.microsoft.com`.
    pub graph_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub timeout: Duration,
}

/// Defaults applied to a reset request that does not say otherwise.
#[derive(Debug, Clone)]
pub struct ResetDefaults {
    pub redirect_url: String,
    pub send_invitation_message: bool,
    /// When false, a new email that is not yet on the user is refused
    /// (`email-not-on-user`) instead of being added to `otherMails`.
    pub allow_other_mails_write: bool,
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

    /// Load through `lookup` (tests pass a map instead of the process env).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut env = Env {
            lookup: &lookup,
            issues: Vec::new(),
        };
        let config = Config {
            listen: env
                .parsed("LISTEN_ADDR", Some("127.0.0.1:8080"))
                .unwrap_or_else(|| ([127, 0, 0, 1], 8080).into()),
            database_path: env
                .parsed("DATABASE_PATH", Some("./data/guest-reset.db"))
                .unwrap_or_default(),
            policy_file: env.parsed("POLICY_FILE", None).unwrap_or_default(),
            auth: AuthConfig {
                issuer: env.required("AUTH_ISSUER"),
                audience: env.required("AUTH_AUDIENCE"),
                hs256_secret: env.secret("AUTH_HS256_SECRET", 32),
                leeway_secs: env
                    .parsed("AUTH_LEEWAY_SECS", Some("60"))
                    .unwrap_or_default(),
            },
            graph: env.graph(),
            reset: ResetDefaults {
                redirect_url: env.url("DEFAULT_REDIRECT_URL", Some("https://myapps.microsoft.com")),
                send_invitation_message: env
                    .parsed("SEND_INVITATION_MESSAGE", Some("true"))
                    .unwrap_or_default(),
                allow_other_mails_write: env
                    .parsed("ALLOW_OTHER_MAILS_WRITE", Some("true"))
                    .unwrap_or_default(),
            },
        };
        match env.issues.is_empty() {
            true => Ok(config),
            false => Err(ConfigError(env.issues)),
        }
    }
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

    fn url(&mut self, name: &str, default: Option<&str>) -> String {
        let value: String = self.parsed(name, default).unwrap_or_default();
        let ok = reqwest::Url::parse(&value)
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .unwrap_or(false);
        if !value.is_empty() && !ok {
            self.issue(name, format!("{value:?} is not an absolute http(s) URL"));
        }
        value.trim_end_matches('/').to_owned()
    }

    /// A secret from `NAME` or from the file named by `NAME_FILE` (not both).
    fn secret(&mut self, name: &str, min_len: usize) -> SecretString {
        let file_var = format!("{name}_FILE");
        let value = match (self.get(name), self.get(&file_var)) {
            (Some(_), Some(_)) => {
                self.issue(name, format!("set either {name} or {file_var}, not both"));
                return SecretString::from(String::new());
            }
            (Some(v), None) => v,
            (None, Some(path)) => match std::fs::read_to_string(&path) {
                Ok(v) => v.trim_end_matches(['\r', '\n']).to_owned(),
                Err(e) => {
                    self.issue(&file_var, format!("cannot read {path:?}: {e}"));
                    return SecretString::from(String::new());
                }
            },
            (None, None) => {
                self.issue(name, format!("is required (or {PREFIX}{file_var})"));
                return SecretString::from(String::new());
            }
        };
        if value.len() < min_len {
            self.issue(name, format!("must be at least {min_len} bytes long"));
        }
        SecretString::from(value)
    }

    fn graph(&mut self) -> GraphConfig {
        GraphConfig {
            authority_url: self.url(
                "GRAPH_AUTHORITY_URL",
                Some("https://login.microsoftonline.com"),
            ),
            graph_url: self.url("GRAPH_URL", Some("https://graph.microsoft.com")),
            tenant_id: self.required("GRAPH_TENANT_ID"),
            client_id: self.required("GRAPH_CLIENT_ID"),
            client_secret: self.secret("GRAPH_CLIENT_SECRET", 1),
            timeout: Duration::from_secs(
                self.parsed("GRAPH_TIMEOUT_SECS", Some("30")).unwrap_or(30),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn minimal() -> HashMap<String, String> {
        [
            ("POLICY_FILE", "policy.toml"),
            ("AUTH_ISSUER", "https://issuer.example"),
            ("AUTH_AUDIENCE", "api://guest-reset"),
            ("AUTH_HS256_SECRET", "0123456789abcdef0123456789abcdef"),
            ("GRAPH_TENANT_ID", "t"),
            ("GRAPH_CLIENT_ID", "c"),
            ("GRAPH_CLIENT_SECRET", "s"),
        ]
        .into_iter()
        .map(|(k, v)| (format!("{PREFIX}{k}"), v.to_owned()))
        .collect()
    }

    fn load(env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn minimal_environment_loads_with_defaults() {
        let config = load(&minimal()).expect("valid");
        assert_eq!(config.listen.port(), 8080);
        assert_eq!(config.graph.graph_url, "https://graph.microsoft.com");
        assert!(config.reset.send_invitation_message);
    }

    #[test]
    fn every_missing_variable_is_named() {
        let err = load(&HashMap::new()).unwrap_err();
        let names: Vec<_> = err.0.iter().map(|i| i.variable.as_str()).collect();
        for wanted in [
            "POLICY_FILE",
            "AUTH_ISSUER",
            "GRAPH_CLIENT_SECRET",
            "AUTH_HS256_SECRET",
        ] {
            assert!(
                names.contains(&format!("{PREFIX}{wanted}").as_str()),
                "{wanted} missing from {names:?}"
            );
        }
    }

    #[test]
    fn short_hmac_secret_and_bad_url_are_refused() {
        let mut env = minimal();
        env.insert(format!("{PREFIX}AUTH_HS256_SECRET"), "short".into());
        env.insert(format!("{PREFIX}GRAPH_URL"), "graph.microsoft.com".into());
        let err = load(&env).unwrap_err().to_string();
        assert!(
            err.contains("AUTH_HS256_SECRET: must be at least 32 bytes"),
            "{err}"
        );
        assert!(err.contains("GRAPH_URL"), "{err}");
    }

    #[test]
    fn secret_comes_from_file_and_never_from_both() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "from-file\n").unwrap();
        let mut env = minimal();
        env.remove(&format!("{PREFIX}GRAPH_CLIENT_SECRET"));
        env.insert(
            format!("{PREFIX}GRAPH_CLIENT_SECRET_FILE"),
            path.display().to_string(),
        );
        let config = load(&env).expect("valid");
        assert_eq!(config.graph.client_secret.expose_secret(), "from-file");
        assert!(
            !format!("{config:?}").contains("from-file"),
            "Debug leaks the secret"
        );
        env.insert(format!("{PREFIX}GRAPH_CLIENT_SECRET"), "x".into());
        assert!(load(&env).unwrap_err().to_string().contains("not both"));
    }
}
