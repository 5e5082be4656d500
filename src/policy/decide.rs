//! Deciding one reset: global protections first, then deny rules, then the
//! allow rules in file order; the first allow rule whose every condition holds
//! wins. Otherwise the decision lists why each rule did not apply.

use std::time::Duration;

use time::OffsetDateTime;

use super::matchers::domain;
use super::{Decision, Denial, Effect, MessageRule, Policy, Question, Rule, Target};

/// One unmet condition of one rule.
struct Miss {
    limit: Option<Denial>,
    reason: String,
}

impl Miss {
    fn plain(reason: String) -> Miss {
        Miss {
            limit: None,
            reason,
        }
    }
}

impl Policy {
    pub fn decide(&self, q: &Question<'_>) -> Decision {
        if let Some((denial, reason)) = self.protection(q) {
            return self.deny(denial, vec![reason]);
        }
        if let Some(rule) = self
            .rules
            .iter()
            .find(|r| r.effect == Effect::Deny && selects(r, q))
        {
            return self.deny(
                Denial::Rules,
                vec![format!("deny rule {:?} matches", rule.name)],
            );
        }
        let mut reasons = Vec::new();
        let mut limit = None;
        for rule in self.rules.iter().filter(|r| r.effect == Effect::Allow) {
            let misses = misses(rule, q);
            if misses.is_empty() {
                let approval = super::approval::requirement(rule, q).map(Box::new);
                let mut reasons = vec![format!("rule {:?} allows it", rule.name)];
                reasons.extend(
                    approval
                        .as_ref()
                        .map(|a| format!("approval required: {}", a.reason)),
                );
                return Decision {
                    allowed: true,
                    rule: Some(rule.name.clone()),
                    reasons,
                    denial: None,
                    policy_version: self.version.clone(),
                    approval,
                };
            }
            // A rule that fails only on a time limit tells the caller when to come back.
            if limit.is_none() && misses.iter().all(|m| m.limit.is_some()) {
                limit = misses.iter().filter_map(|m| m.limit).max_by_key(wait);
            }
            reasons.extend(
                misses
                    .into_iter()
                    .map(|m| format!("rule {:?}: {}", rule.name, m.reason)),
            );
        }
        if reasons.is_empty() {
            reasons.push("no allow rule in the policy (deny by default)".into());
        }
        self.deny(limit.unwrap_or(Denial::Rules), reasons)
    }

    fn deny(&self, denial: Denial, reasons: Vec<String>) -> Decision {
        Decision {
            allowed: false,
            rule: None,
            reasons,
            denial: Some(denial),
            policy_version: self.version.clone(),
            approval: None,
        }
    }

    /// The global protections, in the order a caller would want to hear them.
    fn protection(&self, q: &Question<'_>) -> Option<(Denial, String)> {
        if let Some(found) = self.protection_of(&q.target) {
            return Some(found);
        }
        if q.history.target_in_flight {
            return Some((
                Denial::InFlight,
                "another reset of this guest is in progress, or its outcome is unknown and waits to be read back".into(),
            ));
        }
        None
    }

    /// The protections that hold whatever is asked: not a guest, a
    /// directory role, a protected user or group.
    pub(super) fn protection_of(&self, t: &Target<'_>) -> Option<(Denial, String)> {
        if !t.user_type.is_some_and(|u| u.eq_ignore_ascii_case("Guest")) {
            let kind = t.user_type.unwrap_or("not set");
            return Some((
                Denial::NotAGuest,
                format!("the user is not a guest (userType {kind})"),
            ));
        }
        if !t.roles.is_empty() {
            return Some((
                Denial::HasDirectoryRole,
                format!("the guest holds directory role(s) {}", t.roles.join(", ")),
            ));
        }
        let ids = [Some(t.id), t.upn, t.mail];
        let lists: Vec<_> = self.protected_in(&t.tenant).collect();
        let protected_user = ids
            .into_iter()
            .flatten()
            .any(|id| lists.iter().any(|l| l.users.contains(&id.to_lowercase())));
        let protected_group = t.groups.iter().find(|g| {
            let g = g.to_lowercase();
            lists.iter().any(|l| l.groups.contains(&g))
        });
        if protected_user {
            return Some((
                Denial::Protected,
                "the guest is on the protected users list".into(),
            ));
        }
        protected_group.map(|g| {
            (
                Denial::Protected,
                format!("the guest is in protected group {g}"),
            )
        })
    }
}

fn wait(d: &Denial) -> Duration {
    match d {
        Denial::Quota { retry_after } | Denial::Cooldown { retry_after } => *retry_after,
        _ => Duration::ZERO,
    }
}

fn caller_ok(rule: &Rule, q: &Question<'_>) -> bool {
    rule.caller.as_ref().is_none_or(|m| m.matches(&q.caller))
}

/// Whether the guest is one the rule is about: any listed domain or group.
pub(super) fn target_ok(rule: &Rule, target: &Target<'_>) -> bool {
    let by_domain = target
        .mail
        .is_some_and(|m| rule.target_domains.iter().any(|p| p.matches_email(m)));
    let by_group = target
        .groups
        .iter()
        .any(|g| rule.target_groups.iter().any(|w| w.eq_ignore_ascii_case(g)));
    by_domain || by_group
}

/// A deny rule selects when every selector it lists matches.
fn selects(rule: &Rule, q: &Question<'_>) -> bool {
    if !rule.tenants.covers(&q.target.tenant) {
        return false;
    }
    let targets_listed = !rule.target_domains.is_empty() || !rule.target_groups.is_empty();
    let new_ok = rule.new_email_domains.is_empty()
        || rule
            .new_email_domains
            .iter()
            .any(|p| p.matches_email(q.ask.new_email));
    caller_ok(rule, q) && (!targets_listed || target_ok(rule, &q.target)) && new_ok
}

fn misses(rule: &Rule, q: &Question<'_>) -> Vec<Miss> {
    if !caller_ok(rule, q) {
        return vec![Miss::plain("not for this caller".into())];
    }
    if !rule.tenants.covers(&q.target.tenant) {
        let name = q.target.tenant.name;
        return vec![Miss::plain(format!("not for tenant {name:?}"))];
    }
    if !target_ok(rule, &q.target) {
        let d = q
            .target
            .mail
            .map(domain)
            .unwrap_or_else(|| "(no mail)".into());
        return vec![Miss::plain(format!(
            "guest ({d}) is not in its target_domains or target_groups"
        ))];
    }
    let mut out: Vec<Miss> = request_misses(rule, q)
        .into_iter()
        .map(Miss::plain)
        .collect();
    out.extend(limit_misses(rule, q));
    out
}

fn request_misses(rule: &Rule, q: &Question<'_>) -> Vec<String> {
    let a = &q.ask;
    let mut out = Vec::new();
    let changes = !q
        .target
        .mail
        .is_some_and(|m| m.eq_ignore_ascii_case(a.new_email));
    if changes && !rule.allow_email_change {
        out.push("the sign-in email may not change".into());
    }
    if changes
        && !rule
            .new_email_domains
            .iter()
            .any(|p| p.matches_email(a.new_email))
    {
        out.push(format!(
            "new email domain {} is not in its new_email_domains",
            domain(a.new_email)
        ));
    }
    if a.other_mails_write && !rule.allow_other_mails_write {
        out.push("the new email is not on the user and otherMails may not be written".into());
    }
    if !rule.redirect.allows(a.redirect_url, a.redirect_is_default) {
        out.push(format!("redirect URL {} is not allowed", a.redirect_url));
    }
    match (rule.invitation_message, a.send_invitation_message) {
        (MessageRule::Must, false) => out.push("the invitation email must be sent".into()),
        (MessageRule::MustNot, true) => out.push("the invitation email must not be sent".into()),
        _ => {}
    }
    if let Some(p) = &rule.ticket_pattern
        && !a.ticket.is_some_and(|t| p.is_match(t))
    {
        out.push(format!("ticket must match {}", p.as_str()));
    }
    match (a.job_items, rule.max_job_items) {
        (Some(_), None) => {
            out.push("bulk jobs are not allowed (the rule has no max_job_items)".into())
        }
        (Some(n), Some(max)) if n > max => out.push(format!(
            "a job of {n} items is over its max_job_items of {max}"
        )),
        _ => {}
    }
    let reason_len = a.reason.map_or(0, |r| r.trim().chars().count());
    if reason_len < rule.min_reason_length {
        out.push(format!(
            "reason must be at least {} characters",
            rule.min_reason_length
        ));
    }
    out
}

fn limit_misses(rule: &Rule, q: &Question<'_>) -> Vec<Miss> {
    let mut out = Vec::new();
    let hour = time::Duration::HOUR;
    // A job item is bounded by the job's size (max_job_items), not the hourly quota.
    let bulk = q.ask.job_items.is_some() && rule.max_job_items.is_some();
    if let Some(max) = rule.max_resets_per_hour.filter(|_| !bulk) {
        let counted = match (rule.quota_per, &q.history.agent_last_hour) {
            (super::QuotaPer::Agent, Some(agent)) => agent,
            _ => &q.history.caller_last_hour,
        };
        let mut recent: Vec<_> = counted.iter().filter(|t| **t > q.now - hour).collect();
        if recent.len() >= max as usize {
            // A slot frees when the max-th most recent reset leaves the hour.
            recent.sort_unstable_by(|a, b| b.cmp(a));
            let freeing = recent.get(max.max(1) as usize - 1).map_or(q.now, |t| **t);
            out.push(Miss {
                limit: Some(Denial::Quota {
                    retry_after: until(freeing + hour, q.now),
                }),
                reason: format!("quota of {max} resets per hour is used up"),
            });
        }
    }
    if let (Some(hours), Some(last)) = (rule.cooldown_hours, q.history.target_last_reset) {
        let free_at = last + hour * hours;
        let overridden = q.ask.override_cooldown && rule.allow_cooldown_override;
        if free_at > q.now && !overridden {
            out.push(Miss {
                limit: Some(Denial::Cooldown {
                    retry_after: until(free_at, q.now),
                }),
                reason: format!("the guest was reset less than {hours} h ago"),
            });
        }
    }
    out
}

/// Whole seconds from `now` to `at`, at least one.
fn until(at: OffsetDateTime, now: OffsetDateTime) -> Duration {
    let secs = (at - now).whole_seconds().max(1);
    Duration::from_secs(secs.unsigned_abs())
}
