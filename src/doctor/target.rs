//! One tenant the Graph checks run in, and where each of its settings is
//! configured, so that every fix names the right place: the `GRAPH_*`
//! variables for the one `default` tenant, the tenant's entry (or the
//! `[shared_app]`) in the tenants file otherwise.

use crate::config::{GraphConfig, TenantConfig};

const FILE: &str = "GUEST_RESET_TENANTS_FILE";

/// Where the operator sends an admin after consent: the admin consent
/// endpoint requires a `redirect_uri` registered on the app (see
/// [`Target::consent_url`]), and a daemon app often has none.
pub(super) const CONSENT_REDIRECT_URI: &str = "https://localhost";

/// A tenant to check: its settings, and whether they come from the file.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub(super) name: String,
    pub(super) graph: GraphConfig,
    /// Uses the `[shared_app]`, the multi-tenant app consented per tenant.
    pub(super) shared_app: bool,
    /// From `GUEST_RESET_TENANTS_FILE` (else the `GRAPH_*` variables).
    pub(super) from_file: bool,
}

impl Target {
    pub(super) fn new(tenant: TenantConfig, from_file: bool) -> Target {
        Target {
            name: tenant.name,
            graph: tenant.graph,
            shared_app: tenant.shared_app,
            from_file,
        }
    }

    /// A field of the tenant's own entry, e.g. its `tenant_id`.
    fn entry(&self, var: &str, field: &str) -> String {
        match self.from_file {
            false => format!("GUEST_RESET_{var}"),
            true => format!("{FILE}, tenant {:?}: {field}", self.name),
        }
    }

    /// A field of the app the tenant uses: `[shared_app]` or its own entry.
    fn app(&self, var: &str, field: &str) -> String {
        match (self.from_file, self.shared_app) {
            (true, true) => format!("{FILE}, [shared_app]: {field}"),
            _ => self.entry(var, field),
        }
    }

    /// A URL a file tenant may set, else inherits from its GRAPH_* variable.
    fn url(&self, var: &str, field: &str) -> String {
        match self.from_file {
            false => self.entry(var, field),
            true => format!("{} (default GUEST_RESET_{var})", self.entry(var, field)),
        }
    }

    pub(super) fn client_id_setting(&self) -> String {
        self.app("GRAPH_CLIENT_ID", "client_id")
    }

    pub(super) fn tenant_id_setting(&self) -> String {
        self.entry("GRAPH_TENANT_ID", "tenant_id")
    }

    /// The file names the secret's variable; it never holds the secret.
    pub(super) fn secret_setting(&self) -> String {
        match self.from_file {
            false => {
                "GUEST_RESET_GRAPH_CLIENT_SECRET (or GUEST_RESET_GRAPH_CLIENT_SECRET_FILE)".into()
            }
            true => format!(
                "the variable named by {} (GUEST_RESET_ and that name, or its _FILE variant)",
                self.app("", "client_secret_var")
            ),
        }
    }

    pub(super) fn certificate_setting(&self) -> String {
        self.app("GRAPH_CLIENT_CERTIFICATE_FILE", "certificate_file")
    }

    pub(super) fn key_setting(&self) -> String {
        self.app("GRAPH_CLIENT_KEY_FILE", "key_file")
    }

    pub(super) fn authority_setting(&self) -> String {
        self.url("GRAPH_AUTHORITY_URL", "authority_url")
    }

    pub(super) fn graph_url_setting(&self) -> String {
        self.url("GRAPH_URL", "graph_url")
    }

    /// The v2.0 admin consent endpoint for this tenant, per
    /// https://learn.microsoft.com/en-us/entra/identity-platform/v2-admin-consent:
    /// `redirect_uri` is required and must exactly match one registered on the
    /// app; `scope` is required, and application permissions need the static
    /// `{resource}/.default` (all of the app's configured permissions).
    pub(super) fn consent_url(&self) -> String {
        let g = &self.graph;
        format!(
            "{}/{}/v2.0/adminconsent?client_id={}&scope={}/.default&redirect_uri={CONSENT_REDIRECT_URI}",
            g.authority_url, g.tenant_id, g.client_id, g.graph_url
        )
    }

    /// The consent fix: the multi-tenant app is unknown in this tenant.
    pub(super) fn consent_fix(&self) -> String {
        format!(
            "the multi-tenant app {} has no service principal in this tenant: grant admin \
             consent with this URL, signed in as an admin of tenant {}: {} ({CONSENT_REDIRECT_URI} \
             must be a Web redirect URI of app {}: add it or put one the app has; the browser \
             lands there once consent is given)",
            self.graph.client_id,
            self.graph.tenant_id,
            self.consent_url(),
            self.graph.client_id
        )
    }

    /// The fix for a missing application permission. A multi-tenant app's
    /// new permission reaches a tenant only when that tenant consents again.
    pub(super) fn grant(&self, permission: &str) -> String {
        let fix = super::grant(permission, &self.graph.client_id);
        match self.shared_app {
            false => fix,
            true => format!(
                "{fix} in tenant {} ({})",
                self.graph.tenant_id,
                self.consent_url()
            ),
        }
    }

    /// The line above the tenant's checks in the text report.
    pub(super) fn heading(&self) -> String {
        let app = match self.shared_app {
            true => "shared app",
            false => "app",
        };
        format!(
            "tenant {} ({}, {app} {})",
            self.name, self.graph.tenant_id, self.graph.client_id
        )
    }
}

#[cfg(test)]
impl Target {
    /// Tenant "tailspin" with the demo's settings and `client_id`, for tests.
    pub(super) fn demo(client_id: &str, shared_app: bool, from_file: bool) -> Target {
        let mut graph = crate::demo::config(
            ([127, 0, 0, 1], 0).into(),
            std::path::Path::new("."),
            "p.toml".into(),
            ([127, 0, 0, 1], 9).into(),
        )
        .graph;
        graph.client_id = client_id.into();
        let name = "tailspin".into();
        Target::new(
            TenantConfig {
                name,
                graph,
                shared_app,
            },
            from_file,
        )
    }
}
