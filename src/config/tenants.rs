//! Several Entra tenants (`GUEST_RESET_TENANTS_FILE`, TOML). Each tenant
//! talks to Graph with its own app registration, or with one shared
//! multi-tenant app that gets a token from each tenant's authority (the way
//! MSP tools such as CIPP work). Secrets never sit in the file: it names the
//! variables holding them (`GUEST_RESET_<VAR>` or `GUEST_RESET_<VAR>_FILE`).
//! Without the file, the `GRAPH_*` variables describe one tenant, `default`.

use serde::Deserialize;

use super::Env;
use super::graph::{CertificateConfig, GraphConfig};

/// The name of the one tenant the `GRAPH_*` variables describe.
pub const DEFAULT_TENANT: &str = "default";

const FILE_VAR: &str = "TENANTS_FILE";

/// One tenant: its short name and how the service reaches Graph in it.
#[derive(Debug, Clone)]
pub struct TenantConfig {
    /// Lower-case letters, digits and '-'; what requests and policies name.
    pub name: String,
    /// Authority, Graph root, tenant id, credential, timeouts and retries.
    pub graph: GraphConfig,
    /// Uses the shared multi-tenant app (consent is per tenant).
    pub shared_app: bool,
}

impl super::Config {
    /// The tenants in force: those of the tenants file, or the one the
    /// GRAPH_* variables describe, named `default`.
    pub fn tenant_configs(&self) -> Vec<TenantConfig> {
        match self.tenants.is_empty() {
            false => self.tenants.clone(),
            true => vec![TenantConfig {
                name: DEFAULT_TENANT.to_owned(),
                graph: self.graph.clone(),
                shared_app: false,
            }],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantsFile {
    shared_app: Option<AppEntry>,
    #[serde(default, rename = "tenant")]
    tenants: Vec<TenantEntry>,
}

/// A credential: a client secret by variable name, or certificate files.
#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct AppEntry {
    client_id: String,
    client_secret_var: Option<String>,
    certificate_file: Option<String>,
    key_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantEntry {
    name: String,
    tenant_id: String,
    /// `"shared"`: the `[shared_app]`; otherwise the fields below.
    app: Option<String>,
    client_id: Option<String>,
    client_secret_var: Option<String>,
    certificate_file: Option<String>,
    key_file: Option<String>,
    /// National clouds (graph.md §6.5): both default to the GRAPH_* values.
    authority_url: Option<String>,
    graph_url: Option<String>,
    max_concurrency: Option<usize>,
}

impl Env<'_> {
    /// The tenants of `GUEST_RESET_TENANTS_FILE`, on top of `defaults` (the
    /// GRAPH_* timeouts, retries and URLs); `None` when the file is unset.
    pub(super) fn tenants(&mut self, defaults: &GraphConfig) -> Option<Vec<TenantConfig>> {
        let path: String = self.optional(FILE_VAR)?;
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {path:?}: {e}"))
            .and_then(|t| toml::from_str::<TenantsFile>(&t).map_err(|e| format!("{path}: {e}")));
        let file = match parsed {
            Ok(file) => file,
            Err(e) => {
                self.issue(FILE_VAR, e);
                return Some(Vec::new());
            }
        };
        if file
            .shared_app
            .as_ref()
            .is_some_and(|a| a.client_id.trim().is_empty())
        {
            self.issue(FILE_VAR, format!("{path}: [shared_app] client_id is empty"));
        }
        if file.tenants.is_empty() {
            self.issue(FILE_VAR, format!("{path}: no [[tenant]] is defined"));
        }
        let mut tenants: Vec<TenantConfig> = Vec::new();
        for entry in file.tenants {
            if let Some(problem) = entry_problem(&entry, &tenants) {
                self.issue(FILE_VAR, format!("tenant {:?}: {problem}", entry.name));
                continue;
            }
            tenants.extend(self.tenant(entry, file.shared_app.as_ref(), defaults));
        }
        Some(tenants)
    }

    fn tenant(
        &mut self,
        e: TenantEntry,
        shared: Option<&AppEntry>,
        defaults: &GraphConfig,
    ) -> Option<TenantConfig> {
        let shared_app = e.app.as_deref() == Some("shared");
        let app = match (shared_app, shared) {
            (true, Some(app)) => app.clone(),
            (true, None) => {
                let why = "app = \"shared\" but the file has no [shared_app]";
                self.issue(FILE_VAR, format!("tenant {:?}: {why}", e.name));
                return None;
            }
            (false, _) => AppEntry {
                client_id: e.client_id.clone().unwrap_or_default(),
                client_secret_var: e.client_secret_var.clone(),
                certificate_file: e.certificate_file.clone(),
                key_file: e.key_file.clone(),
            },
        };
        let (client_secret, certificate) = self.credential(&e.name, &app)?;
        let mut graph = GraphConfig {
            tenant_id: e.tenant_id.trim().to_lowercase(),
            client_id: app.client_id.trim().to_owned(),
            client_secret,
            certificate,
            ..defaults.clone()
        };
        self.urls(&e, &mut graph);
        if let Some(n) = e.max_concurrency {
            graph.retry.max_concurrency = n.max(1);
        }
        Some(TenantConfig {
            name: e.name,
            graph,
            shared_app,
        })
    }

    fn urls(&mut self, e: &TenantEntry, graph: &mut GraphConfig) {
        for (field, value, slot) in [
            ("authority_url", &e.authority_url, &mut graph.authority_url),
            ("graph_url", &e.graph_url, &mut graph.graph_url),
        ] {
            let Some(url) = value else { continue };
            match super::absolute_url(url) {
                Some(url) => *slot = url,
                None => self.issue(
                    FILE_VAR,
                    format!(
                        "tenant {:?}: {field} {url:?} is not an absolute http(s) URL",
                        e.name
                    ),
                ),
            }
        }
    }

    /// Exactly one of a secret variable and a certificate pair.
    fn credential(
        &mut self,
        tenant: &str,
        app: &AppEntry,
    ) -> Option<(secrecy::SecretString, Option<CertificateConfig>)> {
        let empty = || secrecy::SecretString::from(String::new());
        let files = (app.certificate_file.as_deref(), app.key_file.as_deref());
        match (app.client_secret_var.as_deref(), files) {
            (Some(var), (None, None)) => Some((self.secret(var, 1), None)),
            (None, (Some(cert), Some(key))) => {
                let label = format!("{FILE_VAR} (tenant {tenant:?})");
                let certificate = self.certificate_files(&label, cert, key)?;
                Some((empty(), Some(certificate)))
            }
            _ => {
                let why = "set either client_secret_var or certificate_file + key_file";
                self.issue(FILE_VAR, format!("tenant {tenant:?}: {why}"));
                None
            }
        }
    }
}

/// What is wrong with an entry on its face, or with it next to the others.
fn entry_problem(e: &TenantEntry, before: &[TenantConfig]) -> Option<String> {
    let id = e.tenant_id.trim().to_lowercase();
    if !valid_name(&e.name) {
        return Some("name must be 1-32 lower-case letters, digits and '-'".into());
    }
    if id.is_empty() || id.contains(['/', ' ', '?', '#']) {
        return Some("tenant_id must be the tenant's id (a GUID) or its domain".into());
    }
    if matches!(id.as_str(), "common" | "organizations" | "consumers") {
        return Some(format!(
            "tenant_id {id:?} names no tenant (client credentials need one)"
        ));
    }
    let own = e.client_id.is_some() || e.client_secret_var.is_some();
    match e.app.as_deref() {
        Some("shared") if own || e.certificate_file.is_some() || e.key_file.is_some() => {
            return Some("app = \"shared\" takes no credential of its own".into());
        }
        Some("shared") | None => {}
        Some(other) => return Some(format!("app {other:?}: the only value is \"shared\"")),
    }
    if e.app.is_none() && e.client_id.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Some("client_id is required (or app = \"shared\")".into());
    }
    before.iter().find_map(|t| {
        let clash = t.name == e.name
            || t.graph.tenant_id == id
            || t.name == id
            || t.graph.tenant_id == e.name;
        clash.then(|| format!("its name or tenant_id is also tenant {:?}'s", t.name))
    })
}

/// Tenant names are short and safe in paths, labels and SQL literals.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
