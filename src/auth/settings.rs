//! What the verifier trusts, as configured, and the two things derived from it
//! once at construction: the expanded issuer list and where the key set lives.

use std::time::Duration;

use jsonwebtoken::{Algorithm, AlgorithmFamily};

/// Everything [`super::Verifier`] needs to decide whether a token is acceptable.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub oidc: Option<OidcSettings>,
    pub hs256: Option<Hs256Settings>,
    /// Accepted `aud` values (e.g. "api://guest-reset" and the API's client id GUID).
    pub audiences: Vec<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
}

/// An OpenID Connect issuer (Entra ID) whose keys are published as a JWKS.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// Accepted `iss` values exactly as the IdP writes them. An entry may contain the literal
    /// "{tenantid}", which is expanded with every entry of `tenant_ids` at construction (Entra
    /// v1 `https://sts.windows.net/{tenantid}/` and v2 `https://login.microsoftonline.com/{tenantid}/v2.0`).
    pub issuers: Vec<String>,
    /// When non-empty, `tid` is required and must be one of these (case-insensitive GUIDs).
    pub tenant_ids: Vec<String>,
    /// Where the key set is: `jwks_uri` if given, else read from `discovery_url`, else from
    /// `{first issuer without trailing /}/.well-known/openid-configuration`.
    pub jwks_uri: Option<String>,
    pub discovery_url: Option<String>,
    /// Pinned algorithms (config default: RS256 and ES256). Never taken from the token or the JWK.
    pub algorithms: Vec<Algorithm>,
    /// Minimum time between two key-set fetches caused by an unknown `kid` (default 10 s).
    pub refresh_interval: Duration,
}

impl Default for OidcSettings {
    fn default() -> OidcSettings {
        OidcSettings {
            issuers: Vec::new(),
            tenant_ids: Vec::new(),
            jwks_uri: None,
            discovery_url: None,
            algorithms: vec![Algorithm::RS256, Algorithm::ES256],
            refresh_interval: Duration::from_secs(10),
        }
    }
}

/// A local issuer that signs with a shared secret (tests, the demo IdP).
#[derive(Debug, Clone)]
pub struct Hs256Settings {
    pub issuer: String,
    pub secret: secrecy::SecretString,
}

const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// One accepted `iss` value. `tenant` is set when the value came from a
/// `{tenantid}` template: such a token must then carry that same `tid`, so a
/// token of tenant A cannot present itself under tenant B's issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AcceptedIssuer {
    pub(super) iss: String,
    pub(super) tenant: Option<String>,
}

/// Where the key set is fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum KeySource {
    Jwks(String),
    Discovery(String),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Jwks(url) => write!(f, "jwks {url}"),
            KeySource::Discovery(url) => write!(f, "discovery {url}"),
        }
    }
}

impl OidcSettings {
    /// Every accepted issuer with `{tenantid}` expanded. A template with no
    /// tenant to expand it with could only match a literal "{tenantid}", so it
    /// is dropped (and reported) rather than kept as a trap.
    pub(super) fn accepted_issuers(&self) -> Vec<AcceptedIssuer> {
        let mut out = Vec::new();
        for template in &self.issuers {
            if !template.contains(TENANT_PLACEHOLDER) {
                out.push(AcceptedIssuer {
                    iss: template.clone(),
                    tenant: None,
                });
                continue;
            }
            if self.tenant_ids.is_empty() {
                tracing::warn!(issuer = %template, "issuer template ignored: no tenant_ids to expand it with");
            }
            for tenant in &self.tenant_ids {
                let tenant = tenant.to_ascii_lowercase();
                let iss = template.replace(TENANT_PLACEHOLDER, &tenant);
                out.push(AcceptedIssuer {
                    iss,
                    tenant: Some(tenant),
                });
            }
        }
        out
    }

    /// `jwks_uri`, else `discovery_url`, else the first issuer's well-known document.
    pub(super) fn key_source(&self, issuers: &[AcceptedIssuer]) -> Option<KeySource> {
        if let Some(uri) = &self.jwks_uri {
            return Some(KeySource::Jwks(uri.clone()));
        }
        if let Some(url) = &self.discovery_url {
            return Some(KeySource::Discovery(url.clone()));
        }
        let first = issuers.first()?;
        let base = first.iss.trim_end_matches('/');
        Some(KeySource::Discovery(format!(
            "{base}/.well-known/openid-configuration"
        )))
    }

    /// The pinned algorithms that can be used with published public keys.
    /// An HMAC algorithm here would let anyone who reads the JWKS forge tokens
    /// (RS256→HS256 confusion), so it is dropped whatever the configuration says.
    pub(super) fn asymmetric_algorithms(&self) -> Vec<Algorithm> {
        let (keep, dropped): (Vec<_>, Vec<_>) = self
            .algorithms
            .iter()
            .partition(|a| matches!(a.family(), AlgorithmFamily::Rsa | AlgorithmFamily::Ec));
        if !dropped.is_empty() {
            tracing::warn!(?dropped, "algorithms not usable with a key set are ignored");
        }
        keep
    }
}
