//! The allow-list policy: pure, no I/O. Deny by default; a reset is allowed
//! only when a named rule allows both the guest's current email domain and
//! the new email domain. The Graph facts it needs are passed in.

use serde::Deserialize;

/// A parsed policy file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

/// One allow rule.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Domains of the guest's *current* email that may be reset; `*.x.com`
    /// matches subdomains of x.com (not x.com itself).
    pub target_domains: Vec<String>,
    /// Domains the guest may be moved to.
    pub new_email_domains: Vec<String>,
}

/// Errors loading a policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid policy {path}: {message}")]
    Invalid { path: String, message: String },
}

/// What the policy is asked.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    /// The guest's current email (`mail`), if it has one.
    pub current_email: Option<&'a str>,
    pub new_email: &'a str,
}

/// The answer: which rule allowed, or why nothing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub rule: Option<String>,
    pub reasons: Vec<String>,
}

impl Policy {
    /// Parse TOML; `origin` names the source in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let invalid = |message: String| PolicyError::Invalid {
            path: origin.to_owned(),
            message,
        };
        let policy: Policy = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        for rule in &policy.rules {
            let patterns = rule.target_domains.iter().chain(&rule.new_email_domains);
            if let Some(bad) = patterns.into_iter().find(|p| !valid_pattern(p)) {
                return Err(invalid(format!(
                    "rule {:?}: invalid domain pattern {bad:?}",
                    rule.name
                )));
            }
        }
        Ok(policy)
    }

    pub fn load(path: &std::path::Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Policy::parse(&text, &path.display().to_string())
    }

    /// Evaluate the rules in order; the first that allows wins.
    pub fn decide(&self, q: Question<'_>) -> Decision {
        let Some(current) = q.current_email else {
            return deny(vec![
                "the guest has no current email (mail) to match a rule".into(),
            ]);
        };
        let mut reasons = Vec::new();
        for rule in &self.rules {
            let target_ok = rule
                .target_domains
                .iter()
                .any(|p| domain_matches(p, current));
            let new_ok = rule
                .new_email_domains
                .iter()
                .any(|p| domain_matches(p, q.new_email));
            if target_ok && new_ok {
                return Decision {
                    allowed: true,
                    rule: Some(rule.name.clone()),
                    reasons: vec![format!(
                        "rule {:?} allows {} -> {}",
                        rule.name,
                        domain(current),
                        domain(q.new_email)
                    )],
                };
            }
            if !target_ok {
                reasons.push(format!(
                    "rule {:?}: guest domain {} not allowed",
                    rule.name,
                    domain(current)
                ));
            } else {
                reasons.push(format!(
                    "rule {:?}: new email domain {} not allowed",
                    rule.name,
                    domain(q.new_email)
                ));
            }
        }
        if reasons.is_empty() {
            reasons.push("no rule in the policy (deny by default)".into());
        }
        deny(reasons)
    }
}

fn deny(reasons: Vec<String>) -> Decision {
    Decision {
        allowed: false,
        rule: None,
        reasons,
    }
}

fn domain(email: &str) -> String {
    email
        .rsplit_once('@')
        .map_or("", |(_, d)| d)
        .to_ascii_lowercase()
}

fn valid_pattern(p: &str) -> bool {
    let rest = p.strip_prefix("*.").unwrap_or(p);
    !rest.is_empty() && !rest.contains(['*', '@', ' ']) && !rest.starts_with('.')
}

/// `fabrikam.com` matches exactly; `*.fabrikam.com` matches any subdomain.
fn domain_matches(pattern: &str, email: &str) -> bool {
    let d = domain(email);
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(parent) => d.ends_with(&format!(".{parent}")),
        None => d == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
        [[rule]]
        name = "fabrikam"
        target_domains = ["fabrikam.example", "*.fabrikam.example"]
        new_email_domains = ["northwind.example"]
    "#;

    #[test]
    fn decisions_table() {
        let policy = Policy::parse(POLICY, "test").unwrap();
        let cases = [
            (Some("a@fabrikam.example"), "a@northwind.example", true),
            (Some("a@EU.Fabrikam.example"), "a@NORTHWIND.example", true),
            (
                Some("a@fabrikam.example.evil"),
                "a@northwind.example",
                false,
            ),
            (Some("a@notfabrikam.example"), "a@northwind.example", false),
            (Some("a@fabrikam.example"), "a@evil.example", false),
            (None, "a@northwind.example", false),
        ];
        for (current, new, allowed) in cases {
            let d = policy.decide(Question {
                current_email: current,
                new_email: new,
            });
            assert_eq!(d.allowed, allowed, "{current:?} -> {new}: {d:?}");
            assert_eq!(d.rule.is_some(), allowed);
            assert!(!d.reasons.is_empty());
        }
    }

    #[test]
    fn empty_policy_denies_everything() {
        let d = Policy::default().decide(Question {
            current_email: Some("a@b.example"),
            new_email: "a@b.example",
        });
        assert!(!d.allowed);
        assert!(d.reasons[0].contains("deny by default"));
    }

    #[test]
    fn bad_files_name_the_problem() {
        let unknown = Policy::parse(
            "[[rule]]\nname='x'\ntarget_domains=[]\nnew_email_domains=[]\ncolour='red'\n",
            "p.toml",
        );
        let err = unknown.unwrap_err().to_string();
        assert!(
            err.contains("p.toml") && err.contains("colour") && err.contains("line 5"),
            "{err}"
        );
        let pattern = Policy::parse(
            "[[rule]]\nname='x'\ntarget_domains=['a@b']\nnew_email_domains=[]\n",
            "p",
        );
        assert!(
            pattern
                .unwrap_err()
                .to_string()
                .contains("invalid domain pattern")
        );
    }
}
