//! The small matchers rules are built from: who the caller is, which domain
//! an email is in, which redirect URLs are acceptable.

use serde::{Deserialize, Serialize};
use url::Url;

use super::Caller;

/// Selects callers. Every listed field must match (AND); within a field any
/// value may match (OR). Values compare case-insensitively, because GUIDs and
/// role values arrive in whatever case the IdP writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CallerMatch {
    /// Token issuers (`iss`), exact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issuers: Vec<String>,
    /// Client application ids (`azp` / `appid`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<String>,
    /// Subjects (`sub`) or object ids (`oid`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// App roles (`roles`), e.g. `GuestReset.Helpdesk`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Delegated scopes (`scp`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Group object ids (`groups`, when the token carries them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn any_of(wanted: &[String], have: &[&str]) -> bool {
    wanted.is_empty()
        || wanted
            .iter()
            .any(|w| have.iter().any(|h| h.eq_ignore_ascii_case(w)))
}

impl CallerMatch {
    /// A matcher that selects nobody in particular would select everybody:
    /// refuse it, so a typo cannot grant the world.
    pub(super) fn check(&self) -> Result<(), String> {
        let fields = [
            &self.issuers,
            &self.apps,
            &self.subjects,
            &self.roles,
            &self.scopes,
            &self.groups,
        ];
        if fields.iter().all(|f| f.is_empty()) {
            return Err(
                "caller must name at least one of issuers, apps, subjects, roles, scopes, groups"
                    .into(),
            );
        }
        if fields
            .iter()
            .flat_map(|f| f.iter())
            .any(|v| v.trim().is_empty())
        {
            return Err("caller has an empty value".into());
        }
        Ok(())
    }

    pub fn matches(&self, c: &Caller<'_>) -> bool {
        let subjects: Vec<&str> = [Some(c.subject), c.object_id]
            .into_iter()
            .flatten()
            .collect();
        any_of(&self.issuers, &[c.issuer])
            && any_of(&self.apps, &c.app_id.into_iter().collect::<Vec<_>>())
            && any_of(&self.subjects, &subjects)
            && any_of(&self.roles, &strs(c.roles))
            && any_of(&self.scopes, &strs(c.scopes))
            && any_of(&self.groups, &strs(c.groups))
    }
}

/// `fabrikam.com` matches that domain only; `*.fabrikam.com` matches its
/// subdomains (not fabrikam.com itself, so both are listed when both are meant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainPattern(String);

impl DomainPattern {
    pub fn parse(raw: &str) -> Result<DomainPattern, String> {
        let p = raw.trim().to_ascii_lowercase();
        let rest = p.strip_prefix("*.").unwrap_or(&p);
        let ok = !rest.is_empty()
            && !rest.starts_with('.')
            && !rest.ends_with('.')
            && rest.contains('.')
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        match ok {
            true => Ok(DomainPattern(p)),
            false => Err(format!("invalid domain pattern {raw:?}")),
        }
    }

    pub fn matches_email(&self, email: &str) -> bool {
        let d = domain(email);
        match self.0.strip_prefix("*.") {
            Some(parent) => d.len() > parent.len() + 1 && d.ends_with(&format!(".{parent}")),
            None => d == self.0,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The domain of an email, lowercased ("" when there is none).
pub fn domain(email: &str) -> String {
    email
        .rsplit_once('@')
        .map_or("", |(_, d)| d)
        .to_ascii_lowercase()
}

/// Which `inviteRedirectUrl`s a rule accepts: exact URLs and whole origins,
/// https only. With neither listed, only the service's configured default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedirectRule {
    pub exact: Vec<Url>,
    pub origins: Vec<Url>,
}

impl RedirectRule {
    pub(super) fn new(exact: &[String], origins: &[String]) -> Result<RedirectRule, String> {
        let https = |raw: &String| match Url::parse(raw.trim()) {
            Ok(u) if u.scheme() == "https" && u.host().is_some() => Ok(u),
            _ => Err(format!("{raw:?} is not an https URL")),
        };
        let origins: Vec<Url> = origins.iter().map(https).collect::<Result<_, _>>()?;
        if let Some(o) = origins
            .iter()
            .find(|o| o.path() != "/" || o.query().is_some())
        {
            return Err(format!(
                "redirect origin {:?} has a path; list it under redirect_urls",
                o.as_str()
            ));
        }
        Ok(RedirectRule {
            exact: exact.iter().map(https).collect::<Result<_, _>>()?,
            origins,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.origins.is_empty()
    }

    pub fn allows(&self, url: &str, is_default: bool) -> bool {
        if self.is_empty() {
            return is_default;
        }
        let Ok(url) = Url::parse(url) else {
            return false;
        };
        self.exact.contains(&url) || self.origins.iter().any(|o| o.origin() == url.origin())
    }
}
