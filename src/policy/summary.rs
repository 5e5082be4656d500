//! A plain-text summary of a policy, so a reviewer can read what a file
//! allows without knowing the TOML field names.

use std::fmt::Write;

use super::{CallerMatch, Effect, MessageRule, Policy, Rule};

pub(super) fn render(p: &Policy) -> String {
    let mut out = format!(
        "policy {}: {} grant(s), {} rule(s)\n",
        p.version,
        p.grants.len(),
        p.rules.len()
    );
    let _ = writeln!(
        out,
        "protected: {} user(s), {} group(s); never non-guests or role holders",
        p.protections.global.users.len(),
        p.protections.global.groups.len()
    );
    for (tenant, lists) in &p.protections.tenants {
        let _ = writeln!(
            out,
            "protected in tenant {tenant}: {} user(s), {} group(s)",
            lists.users.len(),
            lists.groups.len()
        );
    }
    for g in &p.grants {
        let perms: Vec<_> = g.permissions.iter().map(|x| x.as_str()).collect();
        let _ = writeln!(
            out,
            "grant {} to {}{}",
            perms.join(", "),
            callers(Some(&g.caller)),
            in_tenants(&g.tenants)
        );
    }
    for r in &p.rules {
        rule(&mut out, r);
    }
    if !p.rules.iter().any(|r| r.effect == Effect::Allow) {
        out.push_str("warning: no allow rule; every reset is denied\n");
    }
    out
}

fn rule(out: &mut String, r: &Rule) {
    let effect = match r.effect {
        Effect::Allow => "allow",
        Effect::Deny => "DENY",
    };
    let who = match (r.caller.as_ref(), r.effect) {
        (None, Effect::Deny) => "any caller".to_owned(),
        (m, _) => callers(m),
    };
    let _ = writeln!(
        out,
        "rule {:?} ({effect}) for {who}{}",
        r.name,
        in_tenants(&r.tenants)
    );
    if let Some(d) = &r.description {
        let _ = writeln!(out, "  {d}");
    }
    let list = |v: Vec<&str>| match v.is_empty() {
        true => "any".to_owned(),
        false => v.join(", "),
    };
    let domains = |v: &[super::DomainPattern]| list(v.iter().map(|p| p.as_str()).collect());
    let groups: Vec<&str> = r.target_groups.iter().map(String::as_str).collect();
    let targets = match (r.target_domains.is_empty(), groups.is_empty(), r.effect) {
        (true, true, Effect::Deny) => "any".to_owned(),
        (true, true, Effect::Allow) => "none (list target_domains or target_groups)".to_owned(),
        (false, true, _) => format!("in domains {}", domains(&r.target_domains)),
        (true, false, _) => format!("in groups {}", groups.join(", ")),
        (false, false, _) => format!(
            "in domains {} or in groups {}",
            domains(&r.target_domains),
            groups.join(", ")
        ),
    };
    let _ = writeln!(out, "  guests: {targets}");
    let _ = writeln!(
        out,
        "  new email domains: {}",
        domains(&r.new_email_domains)
    );
    if r.effect == Effect::Deny {
        return;
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let _ = writeln!(
        out,
        "  email may change: {}; otherMails may be written: {}",
        yes_no(r.allow_email_change),
        yes_no(r.allow_other_mails_write)
    );
    let redirects: Vec<String> = r
        .redirect
        .exact
        .iter()
        .map(|u| u.to_string())
        .chain(r.redirect.origins.iter().map(|u| format!("{}*", u)))
        .collect();
    let redirect = match redirects.is_empty() {
        true => "the configured default only".to_owned(),
        false => redirects.join(", "),
    };
    let message = match r.invitation_message {
        MessageRule::May => "may",
        MessageRule::Must => "must",
        MessageRule::MustNot => "must not",
    };
    let _ = writeln!(
        out,
        "  redirect: {redirect}; invitation email {message} be sent"
    );
    let ticket = r
        .ticket_pattern
        .as_ref()
        .map_or("not required".to_owned(), |p| {
            format!("must match {}", p.as_str())
        });
    let _ = writeln!(
        out,
        "  ticket: {ticket}; reason: at least {} characters",
        r.min_reason_length
    );
    let per = match r.quota_per {
        super::QuotaPer::Caller => "caller",
        super::QuotaPer::Agent => "agent (the person behind a portal)",
    };
    let quota = r.max_resets_per_hour.map_or("none".to_owned(), |n| {
        format!("{n} resets per hour per {per}")
    });
    let cooldown = r.cooldown_hours.map_or("none".to_owned(), |h| {
        format!(
            "{h} h per guest{}",
            if r.allow_cooldown_override {
                " (override allowed)"
            } else {
                ""
            }
        )
    });
    let _ = writeln!(out, "  quota: {quota}; cooldown: {cooldown}");
    let jobs = r.max_job_items.map_or("not allowed".to_owned(), |n| {
        format!("up to {n} items (instead of the quota)")
    });
    let _ = writeln!(out, "  bulk jobs: {jobs}");
    if let Some(a) = &r.approval {
        let _ = writeln!(out, "  approval: {}", approval(a));
    }
}

/// `when new-domain: 1 of the guest's sponsors, within 24 h; run within 1 h`.
fn approval(a: &super::ApprovalRule) -> String {
    use super::{ApprovalWhen, ApproverRule};
    let when: Vec<&str> = a
        .when
        .iter()
        .map(|w| match w {
            ApprovalWhen::Always => "always",
            ApprovalWhen::NewDomain => "when the email's domain changes",
            ApprovalWhen::CooldownOverride => "when the cooldown is overridden",
        })
        .collect();
    let who = match &a.approvers {
        ApproverRule::Sponsors => "the guest's sponsors".to_owned(),
        ApproverRule::Callers(m) => callers(Some(m)),
    };
    format!(
        "{}: {} distinct approver(s) among {who}, within {} h; then run within {} h",
        when.join(" or "),
        a.count,
        a.expires_hours,
        a.run_within_hours
    )
}

fn callers(m: Option<&CallerMatch>) -> String {
    let Some(m) = m else {
        return "any caller with resets:create".into();
    };
    let parts = [
        ("issuer", &m.issuers),
        ("app", &m.apps),
        ("subject", &m.subjects),
        ("role", &m.roles),
        ("scope", &m.scopes),
        ("group", &m.groups),
    ];
    parts
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k} {}", v.join("|")))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// ` in tenants a, b`, or nothing for every tenant.
fn in_tenants(t: &super::TenantSet) -> String {
    match t.is_all() {
        true => String::new(),
        false => format!(" in tenant(s) {}", t.names().join(", ")),
    }
}
