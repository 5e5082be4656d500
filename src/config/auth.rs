//! How inbound bearer tokens are validated (`GUEST_RESET_AUTH_*`), read into
//! the verifier's own settings: an OpenID Connect issuer with a JWKS (Entra
//! ID in practice), a shared HS256 secret for small setups, or both (told
//! apart by the token's `iss`).

use std::time::Duration;

use jsonwebtoken::Algorithm;

use super::Env;
use crate::auth::{AuthSettings, Hs256Settings, OidcSettings};

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
    pub(super) fn auth(&mut self) -> AuthSettings {
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
            .map(|secret| Hs256Settings {
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
        AuthSettings {
            audiences,
            leeway_secs: self.parsed("AUTH_LEEWAY_SECS", Some("60")).unwrap_or(60),
            oidc,
            hs256,
        }
    }

    fn oidc(&mut self) -> Option<OidcSettings> {
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
        Some(OidcSettings {
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
