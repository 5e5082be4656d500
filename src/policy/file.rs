//! The policy file as written (TOML), and its checks. Parsing turns it into
//! the compiled [`super::Policy`]; every error names the line it is on.

use serde::Deserialize;
use toml::Spanned;

use super::matchers::{CallerMatch, DomainPattern, RedirectRule};
use super::{Effect, Grant, MessageRule, Permission, ProtectedLists, Protections, Rule, TenantSet};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyFile {
    #[serde(default)]
    protected: ProtectedFile,
    #[serde(default, rename = "grant")]
    grants: Vec<Spanned<GrantFile>>,
    #[serde(default, rename = "rule")]
    rules: Vec<Spanned<RuleFile>>,
    #[serde(default)]
    jobs: Option<Spanned<super::jobs::JobsFile>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProtectedFile {
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    /// `[protected.tenants.<name or id>]`: lists for one tenant only.
    #[serde(default)]
    tenants: std::collections::BTreeMap<String, ProtectedListsFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProtectedListsFile {
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantFile {
    caller: CallerMatch,
    permissions: Vec<Permission>,
    #[serde(default)]
    tenants: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    effect: Effect,
    #[serde(default)]
    caller: Option<CallerMatch>,
    #[serde(default)]
    tenants: Option<Vec<String>>,
    #[serde(default)]
    target_domains: Vec<String>,
    #[serde(default)]
    target_groups: Vec<String>,
    #[serde(default)]
    new_email_domains: Vec<String>,
    #[serde(default)]
    allow_email_change: Option<bool>,
    #[serde(default)]
    allow_other_mails_write: Option<bool>,
    #[serde(default)]
    redirect_urls: Vec<String>,
    #[serde(default)]
    redirect_origins: Vec<String>,
    #[serde(default)]
    invitation_message: Option<MessageRule>,
    #[serde(default)]
    ticket_pattern: Option<String>,
    #[serde(default)]
    min_reason_length: Option<usize>,
    #[serde(default)]
    max_resets_per_hour: Option<u32>,
    #[serde(default)]
    quota_per: Option<super::QuotaPer>,
    #[serde(default)]
    cooldown_hours: Option<u32>,
    #[serde(default)]
    allow_cooldown_override: Option<bool>,
    #[serde(default)]
    approval: Option<super::approval::ApprovalFile>,
    #[serde(default)]
    max_job_items: Option<u32>,
}

/// The compiled parts of a policy file.
pub(super) struct Parsed {
    pub protections: Protections,
    pub grants: Vec<Grant>,
    pub rules: Vec<Rule>,
    pub job_approval: Option<super::JobApproval>,
}

/// A problem with a line number (1-based) when one is known.
pub(super) struct FileError {
    pub line: Option<usize>,
    pub message: String,
}

pub(super) fn parse(text: &str) -> Result<Parsed, FileError> {
    let file: PolicyFile = toml::from_str(text).map_err(|e| FileError {
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_owned(),
    })?;
    let at = |span: std::ops::Range<usize>| {
        move |message: String| FileError {
            line: Some(line_of(text, field_offset(text, &span, &message))),
            message,
        }
    };
    let mut grants = Vec::new();
    for g in file.grants {
        let span = g.span();
        let g = g.into_inner();
        g.caller.check().map_err(at(span.clone()))?;
        grants.push(Grant {
            caller: g.caller,
            permissions: g.permissions,
            tenants: tenant_set(g.tenants).map_err(at(span))?,
        });
    }
    let job_approval = match file.jobs {
        Some(jobs) => {
            let span = jobs.span();
            jobs.into_inner().compile().map_err(at(span))?
        }
        None => None,
    };
    let mut rules: Vec<Rule> = Vec::new();
    for r in file.rules {
        let span = r.span();
        let rule = compile(r.into_inner()).map_err(at(span.clone()))?;
        if rules.iter().any(|other| other.name == rule.name) {
            return Err(at(span)(format!("rule name {:?} is used twice", rule.name)));
        }
        rules.push(rule);
    }
    Ok(Parsed {
        protections: Protections {
            global: ProtectedLists {
                users: lowercase(file.protected.users),
                groups: lowercase(file.protected.groups),
            },
            tenants: file
                .protected
                .tenants
                .into_iter()
                .map(|(tenant, lists)| {
                    let lists = ProtectedLists {
                        users: lowercase(lists.users),
                        groups: lowercase(lists.groups),
                    };
                    (tenant.trim().to_lowercase(), lists)
                })
                .collect(),
        },
        grants,
        job_approval,
        rules,
    })
}

fn compile(r: RuleFile) -> Result<Rule, String> {
    let name = r.name.trim().to_owned();
    if name.is_empty() {
        return Err("rule name is empty".into());
    }
    let fail = |m: String| format!("rule {name:?}: {m}");
    if let Some(caller) = &r.caller {
        caller.check().map_err(fail)?;
    }
    if r.effect == Effect::Deny {
        deny_fields_only(&r).map_err(fail)?;
    }
    let ticket_pattern = r
        .ticket_pattern
        .as_deref()
        .map(|p| {
            regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                let why = e.to_string();
                let why = why.lines().last().unwrap_or_default().trim().to_owned();
                fail(format!("ticket_pattern is not a valid regex: {why}"))
            })
        })
        .transpose()?;
    Ok(Rule {
        description: r.description,
        effect: r.effect,
        caller: r.caller,
        tenants: tenant_set(r.tenants).map_err(fail)?,
        target_domains: patterns(&r.target_domains).map_err(fail)?,
        target_groups: lowercase(r.target_groups),
        new_email_domains: patterns(&r.new_email_domains).map_err(fail)?,
        allow_email_change: r.allow_email_change.unwrap_or(true),
        allow_other_mails_write: r.allow_other_mails_write.unwrap_or(true),
        redirect: RedirectRule::new(&r.redirect_urls, &r.redirect_origins).map_err(fail)?,
        invitation_message: r.invitation_message.unwrap_or_default(),
        ticket_pattern,
        min_reason_length: r.min_reason_length.unwrap_or(0),
        max_resets_per_hour: r.max_resets_per_hour,
        quota_per: r.quota_per.unwrap_or_default(),
        cooldown_hours: r.cooldown_hours,
        allow_cooldown_override: r.allow_cooldown_override.unwrap_or(false),
        approval: approval(r.approval, r.cooldown_hours).map_err(fail)?,
        max_job_items: r.max_job_items,
        name,
    })
}

/// A deny rule only selects; limits and permissions would mean nothing.
fn deny_fields_only(r: &RuleFile) -> Result<(), String> {
    let allow_only = [
        ("allow_email_change", r.allow_email_change.is_some()),
        (
            "allow_other_mails_write",
            r.allow_other_mails_write.is_some(),
        ),
        ("redirect_urls", !r.redirect_urls.is_empty()),
        ("redirect_origins", !r.redirect_origins.is_empty()),
        ("invitation_message", r.invitation_message.is_some()),
        ("ticket_pattern", r.ticket_pattern.is_some()),
        ("min_reason_length", r.min_reason_length.is_some()),
        ("max_resets_per_hour", r.max_resets_per_hour.is_some()),
        ("quota_per", r.quota_per.is_some()),
        ("cooldown_hours", r.cooldown_hours.is_some()),
        (
            "allow_cooldown_override",
            r.allow_cooldown_override.is_some(),
        ),
        ("approval", r.approval.is_some()),
        ("max_job_items", r.max_job_items.is_some()),
    ];
    match allow_only.iter().find(|(_, set)| *set) {
        Some((field, _)) => Err(format!("{field} has no meaning in a deny rule")),
        None => Ok(()),
    }
}

/// `approval = {...}`; `when = "cooldown-override"` needs a cooldown to override.
fn approval(
    file: Option<super::approval::ApprovalFile>,
    cooldown_hours: Option<u32>,
) -> Result<Option<super::ApprovalRule>, String> {
    let Some(rule) = file.map(|a| a.compile()).transpose()? else {
        return Ok(None);
    };
    let overrides = rule.when.contains(&super::ApprovalWhen::CooldownOverride);
    if overrides && cooldown_hours.is_none() {
        return Err("approval.when \"cooldown-override\" needs cooldown_hours on the rule".into());
    }
    Ok(Some(rule))
}

/// `tenants = [...]`: absent means every tenant; an empty list would mean
/// none, which is a mistake rather than a policy.
fn tenant_set(list: Option<Vec<String>>) -> Result<TenantSet, String> {
    match list {
        None => Ok(TenantSet::default()),
        Some(list) if list.is_empty() => {
            Err("tenants = [] covers no tenant; leave it out to cover every tenant".into())
        }
        Some(list) if list.iter().any(|t| t.trim().is_empty()) => {
            Err("tenants: an entry is empty".into())
        }
        Some(list) => Ok(TenantSet::new(list)),
    }
}

fn patterns(list: &[String]) -> Result<Vec<DomainPattern>, String> {
    list.iter().map(|p| DomainPattern::parse(p)).collect()
}

fn lowercase(list: Vec<String>) -> Vec<String> {
    list.into_iter().map(|s| s.trim().to_lowercase()).collect()
}

/// Where in the table starting at `span` (toml spans only the `[[header]]`)
/// the key the message names is set, so the line points at the bad field.
fn field_offset(text: &str, span: &std::ops::Range<usize>, message: &str) -> usize {
    let mut offset = span.end;
    for line in text
        .get(span.end..)
        .unwrap_or_default()
        .split_inclusive('\n')
    {
        let key = line.split('=').next().unwrap_or_default().trim();
        if key.starts_with('[') {
            break;
        }
        if !key.is_empty() && !key.starts_with('#') && message.contains(key) {
            return offset;
        }
        offset += line.len();
    }
    span.start
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}
