//! Webhook sources (`GUEST_RESET_WEBHOOKS_FILE`, TOML) and the async
//! machinery's settings. Secrets never sit in the file: each source names the
//! variables holding them (`NAME` or `NAME_FILE`), so rotation is adding a
//! second variable, deploying, then removing the first.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::Env;
use crate::webhook::Scheme;

/// One sending system.
#[derive(Debug, Clone)]
pub struct WebhookSource {
    /// In the route: `POST /v1/webhooks/{name}`.
    pub name: String,
    pub scheme: Scheme,
    /// HMAC schemes: every secret that is accepted (rotation).
    pub secrets: Vec<SecretString>,
    pub tolerance_secs: i64,
    /// HMAC schemes: the subject and app roles the policy sees; the issuer is
    /// `urn:guest-reset:webhook:<name>`.
    pub subject: String,
    pub roles: Vec<String>,
    /// `bearer-jwt`: the token's `azp`/`appid` must be one of these.
    pub apps: Vec<String>,
    pub fields: FieldMap,
    pub callback: Option<Callback>,
    /// The tenant (name or id) every delivery is for; otherwise
    /// `fields.tenant` reads it from the body (or the only tenant is used).
    pub tenant: Option<String>,
}

/// JSON Pointers (RFC 6901) into the delivered body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    pub user: String,
    /// The tenant's name or id, when the source does not fix one.
    pub tenant: Option<String>,
    pub new_email: Option<String>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
    /// The person behind the ticket (recorded as the requester's name).
    pub requester: Option<String>,
    pub redirect_url: Option<String>,
    pub send_invitation_message: Option<String>,
    pub dry_run: Option<String>,
    /// A delivery id inside the body, for schemes that sign none.
    pub delivery_id: Option<String>,
}

/// Where the final record is POSTed (Standard Webhooks-signed).
#[derive(Debug, Clone)]
pub struct Callback {
    pub url: reqwest::Url,
    pub secret: SecretString,
}

/// Everything about asynchronous resets.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub sources: Vec<WebhookSource>,
    /// Queued resets run at most this many at a time; 0 pauses processing
    /// (deliveries are still accepted and queued, e.g. during a Graph incident).
    pub workers: usize,
    pub callback_max_attempts: u32,
    /// The first retry's delay; doubled per attempt, at most an hour.
    pub callback_first_retry: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcesFile {
    #[serde(default, rename = "source")]
    sources: Vec<SourceEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceEntry {
    name: String,
    scheme: Scheme,
    #[serde(default)]
    secret_vars: Vec<String>,
    #[serde(default = "default_tolerance")]
    tolerance_secs: i64,
    subject: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    apps: Vec<String>,
    fields: FieldMap,
    callback: Option<CallbackEntry>,
    tenant: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackEntry {
    url: String,
    secret_var: String,
}

fn default_tolerance() -> i64 {
    300
}

const FILE_VAR: &str = "WEBHOOKS_FILE";

impl Env<'_> {
    pub(super) fn webhooks(&mut self) -> WebhookConfig {
        let sources = match self.optional::<String>(FILE_VAR) {
            Some(path) => self.sources(&path),
            None => Vec::new(),
        };
        WebhookConfig {
            sources,
            workers: self.parsed("WORKERS", Some("4")).unwrap_or(4),
            callback_max_attempts: self.parsed("CALLBACK_MAX_ATTEMPTS", Some("8")).unwrap_or(8),
            callback_first_retry: Duration::from_secs(
                self.parsed("CALLBACK_FIRST_RETRY_SECS", Some("10"))
                    .unwrap_or(10),
            ),
        }
    }

    fn sources(&mut self, path: &str) -> Vec<WebhookSource> {
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {path:?}: {e}"))
            .and_then(|t| toml::from_str::<SourcesFile>(&t).map_err(|e| format!("{path}: {e}")));
        let entries = match parsed {
            Ok(file) => file.sources,
            Err(e) => {
                self.issue(FILE_VAR, e);
                return Vec::new();
            }
        };
        let mut seen = std::collections::BTreeSet::new();
        let mut sources = Vec::new();
        for entry in entries {
            if !seen.insert(entry.name.clone()) {
                self.issue(
                    FILE_VAR,
                    format!("source {:?} is defined twice", entry.name),
                );
            }
            sources.extend(self.source(entry));
        }
        sources
    }

    fn source(&mut self, e: SourceEntry) -> Option<WebhookSource> {
        let problem = source_problem(&e);
        if let Some(problem) = problem {
            self.issue(FILE_VAR, format!("source {:?}: {problem}", e.name));
            return None;
        }
        let secrets: Vec<SecretString> = e.secret_vars.iter().map(|v| self.secret(v, 1)).collect();
        for (var, secret) in e.secret_vars.iter().zip(&secrets) {
            if let Err(problem) = crate::webhook::check_secret(e.scheme, secret) {
                self.issue(var, format!("not a {:?} secret: {problem}", e.scheme));
            }
        }
        let callback = e.callback.and_then(|c| self.callback(&e.name, c));
        Some(WebhookSource {
            subject: e.subject.unwrap_or_else(|| e.name.clone()),
            name: e.name,
            scheme: e.scheme,
            secrets,
            tolerance_secs: e.tolerance_secs,
            roles: e.roles,
            apps: e.apps,
            fields: e.fields,
            callback,
            tenant: e.tenant,
        })
    }

    fn callback(&mut self, source: &str, c: CallbackEntry) -> Option<Callback> {
        let secret = self.secret(&c.secret_var, 1);
        if let Err(problem) = crate::webhook::check_secret(Scheme::StandardWebhooks, &secret) {
            self.issue(
                &c.secret_var,
                format!("not a Standard Webhooks secret (whsec_…): {problem}"),
            );
        }
        match callback_url(&c.url) {
            Ok(url) => Some(Callback { url, secret }),
            Err(problem) => {
                self.issue(
                    FILE_VAR,
                    format!("source {source:?}: callback url: {problem}"),
                );
                None
            }
        }
    }
}

/// What is wrong with an entry on its face, before secrets are read.
fn source_problem(e: &SourceEntry) -> Option<String> {
    let name_ok = !e.name.is_empty()
        && e.name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let pointers = [
        Some(&e.fields.user),
        e.fields.new_email.as_ref(),
        e.fields.ticket.as_ref(),
        e.fields.reason.as_ref(),
        e.fields.requester.as_ref(),
        e.fields.redirect_url.as_ref(),
        e.fields.send_invitation_message.as_ref(),
        e.fields.dry_run.as_ref(),
        e.fields.delivery_id.as_ref(),
        e.fields.tenant.as_ref(),
    ];
    let bearer = e.scheme == Scheme::BearerJwt;
    if !name_ok {
        Some("name must be lower-case letters, digits and '-'".into())
    } else if let Some(p) = pointers.into_iter().flatten().find(|p| !p.starts_with('/')) {
        Some(format!(
            "field {p:?} is not a JSON Pointer (it starts with '/')"
        ))
    } else if bearer && e.apps.is_empty() {
        Some("scheme bearer-jwt needs `apps` (the client ids allowed to deliver)".into())
    } else if bearer != e.secret_vars.is_empty() {
        Some("`secret_vars` is required for signature schemes and not used by bearer-jwt".into())
    } else if e.tenant.is_some() && e.fields.tenant.is_some() {
        Some("set either `tenant` (fixed) or `fields.tenant` (read from the body), not both".into())
    } else if !(1..=3600).contains(&e.tolerance_secs) {
        Some("tolerance_secs must be between 1 and 3600".into())
    } else {
        None
    }
}

/// https only, except loopback (a local relay, tests).
pub(super) fn callback_url(raw: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(raw).map_err(|e| format!("{raw:?}: {e}"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    match (url.scheme(), loopback) {
        ("https", _) | ("http", true) => Ok(url),
        _ => Err(format!(
            "{raw:?} must be https (http only to a loopback address)"
        )),
    }
}
