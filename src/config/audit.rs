//! The audit trail's checkpoints and retention (`GUEST_RESET_AUDIT_*`,
//! docs/audit.md). Without a signing key the chain is still written and
//! verifiable; checkpoints are not signed, and nothing is pruned (pruning
//! is allowed only behind a signed checkpoint).

use std::path::PathBuf;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::Env;
use crate::audit::Signer;

const KEY_VAR: &str = "AUDIT_SIGNING_KEY";

/// How checkpoints are signed and where copies go.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub signer: Option<Signer>,
    /// The checkpoint's first line: which log this is.
    pub origin: String,
    /// How often the head is signed (when it moved).
    pub every: Duration,
    /// Each new checkpoint is POSTed here (text/plain).
    pub publish_url: Option<reqwest::Url>,
    /// The latest checkpoint is written here (replaced atomically).
    pub publish_file: Option<PathBuf>,
    /// Events older than this may be pruned behind a signed checkpoint.
    pub retention: Option<Duration>,
}

impl Env<'_> {
    pub(super) fn audit(&mut self) -> AuditConfig {
        let signer = self.optional_secret(KEY_VAR, 1).and_then(|key| {
            match Signer::parse(key.expose_secret()) {
                Ok(signer) => Some(signer),
                Err(e) => {
                    self.issue(
                        KEY_VAR,
                        format!("{e} (make one with `guest-reset audit keygen`)"),
                    );
                    None
                }
            }
        });
        let origin = self.get("AUDIT_ORIGIN").unwrap_or_else(|| match &signer {
            Some(s) => format!("{}/guest-reset", s.name()),
            None => "guest-reset".to_owned(),
        });
        let secs: u64 = self
            .parsed("AUDIT_CHECKPOINT_SECS", Some("300"))
            .unwrap_or(300);
        let days: Option<u64> = self.optional("AUDIT_RETENTION_DAYS");
        let publish_url = self
            .get("AUDIT_CHECKPOINT_URL")
            .and_then(|u| self.checkpoint_url(&u));
        let config = AuditConfig {
            origin,
            every: Duration::from_secs(secs.clamp(1, 86_400)),
            publish_url,
            publish_file: self.optional("AUDIT_CHECKPOINT_FILE"),
            retention: days.map(|d| Duration::from_secs(d.clamp(1, 36_500) * 86_400)),
            signer,
        };
        for (var, set) in [
            ("AUDIT_CHECKPOINT_URL", config.publish_url.is_some()),
            ("AUDIT_CHECKPOINT_FILE", config.publish_file.is_some()),
            ("AUDIT_RETENTION_DAYS", config.retention.is_some()),
        ] {
            if set && config.signer.is_none() && !self.named(KEY_VAR) {
                self.issue(
                    var,
                    format!(
                        "needs {}{KEY_VAR}_FILE (checkpoints are signed)",
                        super::PREFIX
                    ),
                );
            }
        }
        config
    }

    fn checkpoint_url(&mut self, raw: &str) -> Option<reqwest::Url> {
        match super::webhooks::callback_url(raw) {
            Ok(url) => Some(url),
            Err(problem) => {
                self.issue("AUDIT_CHECKPOINT_URL", problem);
                None
            }
        }
    }
}

impl AuditConfig {
    /// No key, no copies, no pruning: the chain alone.
    pub fn unsigned() -> AuditConfig {
        AuditConfig {
            signer: None,
            origin: "guest-reset".into(),
            every: Duration::from_secs(300),
            publish_url: None,
            publish_file: None,
            retention: None,
        }
    }
}
