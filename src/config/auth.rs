//! How inbound bearer tokens are validated: an OpenID Connect issuer with a
//! JWKS (Entra ID in practice), a shared HS256 secret for small setups, or
//! both (told apart by the token's `iss`).

use std::time::Duration;

use jsonwebtoken::Algorithm;
use secrecy::SecretString;

use super::Env;

/// Token validation settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Accepted `aud` values (`GUEST_RESET_AUTH_AUDIENCE`, comma-separated).
    pub audiences: Vec<String>,
    pub leeway_secs: u64,
    pub oidc: Option<OidcConfig>,
    pub hs256: Option<Hs256Config>,
}

/// An OpenID Connect issuer whose keys come from its JWKS.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// Accepted `iss` values; `{tenantid}` is expanded with `tenant_ids`.
    pub issuers: Vec<String>,
    /// When set, `tid` must be one of these.
    pub tenant_ids: Vec<String>,
    pub jwks_uri: Option<String>,
    pub discovery_url: Option<String>,
    pub algorithms: Vec<Algorithm>,
    pub refresh_interval: Duration,
}

/// A shared-secret issuer.
#[derive(Debug, Clone)]
pub struct Hs256Config {
    pub issuer: String,
    pub secret: SecretString,
}

/// Asymmetric algorithms an operator may pin; HMAC is only ever the HS256
/// issuer's, so a public key can never be used as an HMAC secret.
const ASYMMETRIC: &[(&str, Algorithm)] = &[
    ("RS256", Algorithm::RS256),
    ("RS384", Algorithm::RS384),
    ("RS512", Algorithm::RS512),
    ("PS256", Algorithm::PS256),
    ("PS384", Algorithm::PS384),
    ("PS512", Algorithm::PS512),
    ("ES256", Algorithm::ES256),
    ("ES384", Algorithm::ES384),
];

impl Env<'_> {
    pub(super) fn auth(&mut self) -> AuthConfig {
        let audiences = self.list("AUTH_AUDIENCE");
        if audiences.is_empty() {
            self.issue(
                "AUTH_AUDIENCE",
                "is required but not set (this API's App ID URI and/or client id)",
            );
        }
        let oidc = self.oidc();
        let hs256 = self
            .optional_secret("AUTH_HS256_SECRET", 32)
            .map(|secret| Hs256Config {
                issuer: self.required("AUTH_HS256_ISSUER"),
                secret,
            });
        if oidc.is_none()
            && hs256.is_none()
            && !self
                .issues
                .iter()
                .any(|i| i.variable.contains("AUTH_HS256"))
        {
            self.issue("AUTH_ISSUER", "set AUTH_ISSUER (an OpenID Connect issuer) or AUTH_HS256_SECRET (a shared secret), or both");
        }
        if let (Some(o), Some(h)) = (&oidc, &hs256)
            && o.issuers.contains(&h.issuer)
        {
            self.issue(
                "AUTH_HS256_ISSUER",
                "must differ from every AUTH_ISSUER: the issuer decides how a token is checked",
            );
        }
        AuthConfig {
            audiences,
            leeway_secs: self.parsed("AUTH_LEEWAY_SECS", Some("60")).unwrap_or(60),
            oidc,
            hs256,
        }
    }

    fn oidc(&mut self) -> Option<OidcConfig> {
        let issuers = self.list("AUTH_ISSUER");
        if issuers.is_empty() {
            return None;
        }
        let tenant_ids = self.list("AUTH_TENANT_IDS");
        if issuers.iter().any(|i| i.contains("{tenantid}")) && tenant_ids.is_empty() {
            self.issue(
                "AUTH_TENANT_IDS",
                "is required when AUTH_ISSUER contains {tenantid}",
            );
        }
        let jwks_uri = self
            .get("AUTH_JWKS_URI")
            .map(|_| self.url("AUTH_JWKS_URI", None));
        let discovery_url = self
            .get("AUTH_DISCOVERY_URL")
            .map(|_| self.url("AUTH_DISCOVERY_URL", None));
        Some(OidcConfig {
            issuers,
            tenant_ids,
            jwks_uri,
            discovery_url,
            algorithms: self.algorithms(),
            refresh_interval: Duration::from_secs(
                self.parsed("AUTH_JWKS_REFRESH_SECS", Some("10"))
                    .unwrap_or(10),
            ),
        })
    }

    fn algorithms(&mut self) -> Vec<Algorithm> {
        let names = match self.list("AUTH_ALGORITHMS") {
            l if l.is_empty() => vec!["RS256".to_owned(), "ES256".to_owned()],
            l => l,
        };
        let mut out = Vec::new();
        for name in names {
            match ASYMMETRIC.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                Some((_, alg)) => out.push(*alg),
                None => self.issue("AUTH_ALGORITHMS", format!("{name:?} is not one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384")),
            }
        }
        out
    }
}
