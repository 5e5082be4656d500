//! Where and as whom the service talks to Microsoft Graph, and how hard it
//! tries: a client secret or a certificate (exactly one), timeouts, retries.

use std::time::Duration;

use secrecy::SecretString;

use super::Env;
use crate::graph::{AssertionAlg, BreakerSettings, RetrySettings};

/// Where and as whom the service talks to Microsoft Graph.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// Token authority, e.g. `https://login.microsoftonline.com`.
    pub authority_url: String,
    /// Graph root, e.g. `https://graph.microsoft.com`.
    pub graph_url: String,
    pub tenant_id: String,
    pub client_id: String,
    /// Empty when `certificate` is set (exactly one of the two is used).
    pub client_secret: SecretString,
    pub certificate: Option<CertificateConfig>,
    /// Per attempt (`GRAPH_TIMEOUT_SECS`).
    pub timeout: Duration,
    pub retry: RetrySettings,
}

/// Certificate credentials: the key signs a client assertion per token.
#[derive(Debug, Clone)]
pub struct CertificateConfig {
    pub private_key_pem: SecretString,
    pub certificate_der: Vec<u8>,
    pub algorithm: AssertionAlg,
}

impl Env<'_> {
    /// The GRAPH_* settings. With a tenants file (`with_credentials` false)
    /// they are only the defaults every tenant starts from, so the tenant id
    /// and credential are not required here.
    pub(super) fn graph(&mut self, with_credentials: bool) -> GraphConfig {
        let (client_secret, certificate) = match with_credentials {
            true => self.credential_vars(),
            false => (SecretString::from(String::new()), None),
        };
        let id = |env: &mut Self, name: &str| match with_credentials {
            true => env.required(name),
            false => String::new(),
        };
        GraphConfig {
            authority_url: self.url(
                "GRAPH_AUTHORITY_URL",
                Some("https://login.microsoftonline.com"),
            ),
            graph_url: self.url("GRAPH_URL", Some("https://graph.microsoft.com")),
            tenant_id: id(self, "GRAPH_TENANT_ID"),
            client_id: id(self, "GRAPH_CLIENT_ID"),
            client_secret,
            certificate,
            timeout: self.secs("GRAPH_TIMEOUT_SECS", 10),
            retry: self.retry(),
        }
    }

    /// `GRAPH_CLIENT_SECRET` or the certificate variables, exactly one.
    fn credential_vars(&mut self) -> (SecretString, Option<CertificateConfig>) {
        let certificate = self.certificate();
        let client_secret = match (&certificate, self.has_secret("GRAPH_CLIENT_SECRET")) {
            (Some(_), true) => {
                self.issue(
                    "GRAPH_CLIENT_SECRET",
                    "set either a client secret or GRAPH_CLIENT_CERTIFICATE_FILE, not both",
                );
                SecretString::from(String::new())
            }
            (Some(_), false) => SecretString::from(String::new()),
            (None, _) => self.secret("GRAPH_CLIENT_SECRET", 1),
        };
        (client_secret, certificate)
    }

    fn has_secret(&self, name: &str) -> bool {
        self.get(name).is_some() || self.get(&format!("{name}_FILE")).is_some()
    }

    /// `GRAPH_CLIENT_CERTIFICATE_FILE` + `GRAPH_CLIENT_KEY_FILE`, both or neither.
    fn certificate(&mut self) -> Option<CertificateConfig> {
        let cert_file = self.get("GRAPH_CLIENT_CERTIFICATE_FILE");
        let key_file = self.get("GRAPH_CLIENT_KEY_FILE");
        let (cert_file, key_file) = match (cert_file, key_file) {
            (None, None) => return None,
            (Some(c), Some(k)) => (c, k),
            (c, _) => {
                let missing = match c {
                    Some(_) => "GRAPH_CLIENT_KEY_FILE",
                    None => "GRAPH_CLIENT_CERTIFICATE_FILE",
                };
                self.issue(missing, "is required with a client certificate");
                return None;
            }
        };
        let (cert, key) = ("GRAPH_CLIENT_CERTIFICATE_FILE", "GRAPH_CLIENT_KEY_FILE");
        self.certificate_from((cert, &cert_file), (key, &key_file))
    }

    /// A tenant's certificate pair; problems are reported under `label`.
    pub(super) fn certificate_files(
        &mut self,
        label: &str,
        cert_file: &str,
        key_file: &str,
    ) -> Option<CertificateConfig> {
        self.certificate_from((label, cert_file), (label, key_file))
    }

    /// Read and check a certificate and its key; each problem is reported
    /// under the variable (or label) paired with its path.
    fn certificate_from(
        &mut self,
        (cert_var, cert_file): (&str, &str),
        (key_var, key_file): (&str, &str),
    ) -> Option<CertificateConfig> {
        let algorithm: AssertionAlg = self
            .parsed("GRAPH_ASSERTION_ALG", Some("PS256"))
            .unwrap_or_default();
        let certificate_der = self.read(cert_var, cert_file).and_then(|pem| {
            let der = crate::graph::certificate_der_from_pem(&pem);
            if der.is_none() {
                self.issue(
                    cert_var,
                    format!("{cert_file:?} holds no PEM CERTIFICATE block"),
                );
            }
            der
        })?;
        let private_key_pem = SecretString::from(self.read(key_var, key_file)?);
        if let Err(e) = crate::graph::check_private_key(&private_key_pem, algorithm) {
            self.issue(
                key_var,
                format!("unusable RSA private key in {key_file:?}: {e}"),
            );
        }
        Some(CertificateConfig {
            private_key_pem,
            certificate_der,
            algorithm,
        })
    }

    fn read(&mut self, name: &str, path: &str) -> Option<String> {
        std::fs::read_to_string(path)
            .map_err(|e| self.issue(name, format!("cannot read {path:?}: {e}")))
            .ok()
    }

    fn retry(&mut self) -> RetrySettings {
        let d = RetrySettings::default();
        RetrySettings {
            max_attempts: self.at_least_one("GRAPH_MAX_ATTEMPTS", d.max_attempts),
            deadline: Duration::from_secs(
                self.at_least_one("GRAPH_DEADLINE_SECS", d.deadline.as_secs()),
            ),
            max_retry_after: self.secs("GRAPH_MAX_RETRY_AFTER_SECS", d.max_retry_after.as_secs()),
            max_concurrency: self.at_least_one("GRAPH_MAX_CONCURRENCY", d.max_concurrency),
            breaker: self.breaker(d.breaker.clone()),
            ..d
        }
    }

    fn breaker(&mut self, d: BreakerSettings) -> BreakerSettings {
        let percent = self
            .parsed("GRAPH_BREAKER_FAILURE_PERCENT", Some("50"))
            .unwrap_or(50u8);
        if !(1..=100).contains(&percent) {
            self.issue("GRAPH_BREAKER_FAILURE_PERCENT", "must be within 1..=100");
        }
        BreakerSettings {
            failure_rate: f64::from(percent) / 100.0,
            min_calls: self.at_least_one("GRAPH_BREAKER_MIN_CALLS", d.min_calls),
            window: Duration::from_secs(
                self.at_least_one("GRAPH_BREAKER_WINDOW_SECS", d.window.as_secs()),
            ),
            cooldown: Duration::from_secs(
                self.at_least_one("GRAPH_BREAKER_COOLDOWN_SECS", d.cooldown.as_secs()),
            ),
        }
    }

    fn secs(&mut self, name: &str, default: u64) -> Duration {
        let secs = self
            .parsed(name, Some(&default.to_string()))
            .unwrap_or(default);
        Duration::from_secs(secs)
    }

    fn at_least_one<T>(&mut self, name: &str, default: T) -> T
    where
        T: std::str::FromStr + ToString + PartialOrd + From<u8>,
        T::Err: std::fmt::Display,
    {
        let value = self
            .parsed(name, Some(&default.to_string()))
            .unwrap_or(default);
        if value < T::from(1) {
            self.issue(name, "must be at least 1");
        }
        value
    }
}
