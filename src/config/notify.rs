//! Approval notifications (`GUEST_RESET_NOTIFY_URL` and its secret): where
//! approval events go, signed with Standard Webhooks. Optional; the URL and
//! the secret come together or not at all, because a half-configured
//! receiver would silently get nothing (or unsigned events).

use secrecy::SecretString;

use super::{Env, PREFIX, absolute_url};
use crate::webhook::Scheme;

const URL_VAR: &str = "NOTIFY_URL";
const SECRET_VAR: &str = "NOTIFY_SECRET";
const PUBLIC_URL_VAR: &str = "PUBLIC_URL";

/// Where approval events are POSTed, and how they link to a record.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// https, or http to a loopback address (the callback URL rule).
    pub url: reqwest::Url,
    /// A Standard Webhooks `whsec_…` secret.
    pub secret: SecretString,
    /// The service's external base URL, without a trailing slash; `None`:
    /// links are the record's path alone.
    pub public_url: Option<String>,
    /// Also link to the reset's page in the console (`console_link`): set
    /// when the console is configured, so a sponsor can open and approve.
    pub console_link: bool,
}

impl Env<'_> {
    /// Every variable is read whether or not the others are set, so each
    /// mistake is named at once.
    pub(super) fn notify(&mut self) -> Option<NotifyConfig> {
        let url = self.get(URL_VAR);
        let secret = self.optional_secret(SECRET_VAR, 1);
        let public_url = self.public_url();
        match (url, secret) {
            (None, None) => None,
            (Some(url), Some(secret)) => self.notify_config(&url, secret, public_url),
            (Some(_), None) => {
                if !self.named(SECRET_VAR) {
                    let why = format!("is required with {PREFIX}{URL_VAR} (or {SECRET_VAR}_FILE)");
                    self.issue(SECRET_VAR, why);
                }
                None
            }
            (None, Some(_)) => {
                self.issue(URL_VAR, format!("is required with {PREFIX}{SECRET_VAR}"));
                None
            }
        }
    }

    fn notify_config(
        &mut self,
        url: &str,
        secret: SecretString,
        public_url: Option<String>,
    ) -> Option<NotifyConfig> {
        if let Err(problem) = crate::webhook::check_secret(Scheme::StandardWebhooks, &secret) {
            let why = format!("not a Standard Webhooks secret (whsec_…): {problem}");
            self.issue(SECRET_VAR, why);
        }
        match super::webhooks::callback_url(url) {
            Ok(url) => Some(NotifyConfig {
                console_link: false,
                url,
                secret,
                public_url,
            }),
            Err(problem) => {
                self.issue(URL_VAR, problem);
                None
            }
        }
    }

    fn public_url(&mut self) -> Option<String> {
        let raw = self.get(PUBLIC_URL_VAR)?;
        let url = absolute_url(raw.trim());
        if url.is_none() {
            let why = format!("{raw:?} is not an absolute http(s) URL");
            self.issue(PUBLIC_URL_VAR, why);
        }
        url
    }

    /// Whether an issue already names `name` (or its `_FILE` variant).
    pub(super) fn named(&self, name: &str) -> bool {
        let variable = format!("{PREFIX}{name}");
        self.issues
            .iter()
            .any(|i| i.variable.starts_with(&variable))
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::super::tests::{load, minimal};
    use super::*;

    const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    /// The minimal environment plus `vars` (names without the prefix).
    fn with(vars: &[(&str, &str)]) -> Result<super::super::Config, super::super::ConfigError> {
        let extra = vars
            .iter()
            .map(|(k, v)| (format!("{PREFIX}{k}"), (*v).to_owned()));
        load(&minimal().into_iter().chain(extra).collect())
    }

    #[test]
    fn notifications_are_off_unless_configured() {
        assert!(with(&[]).expect("valid").notify.is_none());
    }

    #[test]
    fn a_url_and_a_secret_configure_notifications_with_links_to_the_public_url() {
        let vars = [
            (
                URL_VAR,
                "https://prod-01.westeurope.logic.azure.com/workflows/1",
            ),
            (SECRET_VAR, WHSEC),
            (PUBLIC_URL_VAR, "https://guest-reset.example/"),
        ];
        let notify = with(&vars).expect("valid").notify.expect("configured");
        assert_eq!(
            notify.url.host_str(),
            Some("prod-01.westeurope.logic.azure.com")
        );
        assert_eq!(notify.secret.expose_secret(), WHSEC);
        assert_eq!(
            notify.public_url.as_deref(),
            Some("https://guest-reset.example")
        );
    }

    #[test]
    fn the_secret_comes_from_a_file_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify-secret");
        std::fs::write(&path, format!("{WHSEC}\n")).unwrap();
        let file = path.display().to_string();
        let vars = [
            (URL_VAR, "http://127.0.0.1:9000/hook"),
            ("NOTIFY_SECRET_FILE", &file),
        ];
        let notify = with(&vars).expect("valid").notify.expect("configured");
        assert_eq!(notify.secret.expose_secret(), WHSEC);
        assert_eq!(notify.public_url, None);
    }

    /// `vars` are refused with an issue on `variable` that says `wanted`.
    fn refused(vars: &[(&str, &str)], variable: &str, wanted: &str) {
        let err = with(vars).expect_err(wanted);
        let issue = err.0.iter().find(|i| i.variable == variable);
        assert!(
            issue.is_some_and(|i| i.message.contains(wanted)),
            "{variable}: {wanted}: {err}"
        );
        assert!(!err.to_string().contains(WHSEC), "a secret leaked: {err}");
    }

    #[test]
    fn each_notification_mistake_names_its_variable() {
        let (url, secret) = ((URL_VAR, "https://hook.example"), (SECRET_VAR, WHSEC));
        refused(&[url], "GUEST_RESET_NOTIFY_SECRET", "is required");
        refused(&[secret], "GUEST_RESET_NOTIFY_URL", "is required");
        let plain = (URL_VAR, "http://hook.example");
        refused(&[plain, secret], "GUEST_RESET_NOTIFY_URL", "must be https");
        let bad = (SECRET_VAR, "not-a-whsec");
        let wanted = "not a Standard Webhooks secret";
        refused(&[url, bad], "GUEST_RESET_NOTIFY_SECRET", wanted);
        let file = ("NOTIFY_SECRET_FILE", "/x");
        refused(
            &[url, secret, file],
            "GUEST_RESET_NOTIFY_SECRET",
            "not both",
        );
        let public = (PUBLIC_URL_VAR, "guest-reset.example");
        refused(&[public], "GUEST_RESET_PUBLIC_URL", "absolute");
    }
}
