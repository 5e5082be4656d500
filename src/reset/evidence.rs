//! Judging a read-back: does what Graph shows of the guest belong to *this*
//! reset? Pure, so every order of events is a table row in the tests.
//!
//! Graph keeps no trace of which invitation changed a guest: the evidence is
//! `externalUserState`, its change time (whole seconds, Graph's clock) and the
//! emails. A change counts as this reset's only when it is later than this
//! reset's own first invitation attempt (the anchor, committed before it was
//! sent), differs from the guest as read before any write, and falls outside
//! the window of every other reset of the same guest. Clock skew between
//! Graph and us blurs "later": a change just before the anchor cannot be told
//! from an earlier one, so it is undecided, never applied.

use time::{Duration, OffsetDateTime};

use crate::graph::GraphUser;
use crate::record::parse_timestamp as parse;
use crate::record::{Evidence, Target, Verdict, format_timestamp};

const PENDING: &str = "PendingAcceptance";

/// When another reset of the same guest may have changed it: from its first
/// attempt to its end (`None`: still open, e.g. `pending` or `unknown`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub reset_id: String,
    pub from: OffsetDateTime,
    pub until: Option<OffsetDateTime>,
}

/// Everything the judgment needs besides the guest as read now.
pub struct Case<'a> {
    /// The guest as read before this reset wrote anything.
    pub before: &'a Target,
    /// This reset's first invitation attempt (our clock).
    pub anchor: OffsetDateTime,
    pub new_email: &'a str,
    /// Other resets of the same guest that reached the invitation.
    pub others: &'a [Window],
    /// How far Graph's clock may be from ours.
    pub skew: Duration,
}

/// Graph writes whole seconds: the anchor as Graph would write it.
fn floor_to_second(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

/// The evidence for `case`, read at `read_at`, with its verdict and finding.
pub fn judge(case: &Case<'_>, user: Option<&GraphUser>, read_at: OffsetDateTime) -> Evidence {
    let (verdict, finding) = match user {
        None => (
            Verdict::Undecided,
            "the guest no longer exists in Graph".to_owned(),
        ),
        Some(user) => verdict(case, user),
    };
    Evidence {
        read_at: format_timestamp(read_at),
        external_user_state: user.and_then(|u| u.external_user_state.clone()),
        external_user_state_change_date_time: user
            .and_then(|u| u.external_user_state_change_date_time.clone()),
        mail: user.and_then(|u| u.mail.clone()),
        other_mails: user.map(|u| u.other_mails.clone()).unwrap_or_default(),
        verdict: Some(verdict),
        finding,
    }
}

fn verdict(case: &Case<'_>, user: &GraphUser) -> (Verdict, String) {
    let state = user.external_user_state.as_deref();
    let raw_changed = user.external_user_state_change_date_time.as_deref();
    let changed = raw_changed.and_then(parse);
    let anchor = floor_to_second(case.anchor);
    let has_email = user
        .mail
        .iter()
        .chain(&user.other_mails)
        .any(|m| m.eq_ignore_ascii_case(case.new_email));
    let before = case.before;
    let as_before = before.external_user_state.as_deref() == state
        && same_instant(
            before.external_user_state_change_date_time.as_deref(),
            raw_changed,
        );
    match changed {
        Some(at)
            if state == Some(PENDING) && has_email && !as_before && at >= anchor - case.skew =>
        {
            since_anchor(case, at, anchor)
        }
        _ if as_before => unchanged(state, raw_changed),
        _ => (
            Verdict::Undecided,
            format!(
                "Graph shows the guest {} since {}, which is not a change by this reset (first attempt at {}) nor the state before it",
                state.unwrap_or("without externalUserState"),
                raw_changed.unwrap_or("(no change time)"),
                format_timestamp(case.anchor),
            ),
        ),
    }
}

/// A change to PendingAcceptance with the new email, no earlier than the
/// anchor minus the skew: this reset's, unless something else explains it.
fn since_anchor(case: &Case<'_>, at: OffsetDateTime, anchor: OffsetDateTime) -> (Verdict, String) {
    let (at_text, anchor_text) = (format_timestamp(at), format_timestamp(case.anchor));
    if let Some(other) = case.others.iter().find(|w| covers(w, at, case.skew)) {
        let finding = format!(
            "undecided: Graph's change at {at_text} also falls inside the window of reset {} of the same guest; the evidence cannot tell the two apart",
            other.reset_id
        );
        return (Verdict::Undecided, finding);
    }
    if at < anchor {
        let finding = format!(
            "undecided: Graph's change at {at_text} is before this reset's first attempt at {anchor_text}, within the allowed clock skew of {} s; it cannot be told from an earlier change",
            case.skew.whole_seconds()
        );
        return (Verdict::Undecided, finding);
    }
    let finding = format!(
        "applied: the guest is PendingAcceptance since {at_text}, after this reset's first attempt at {anchor_text}, and carries the new email"
    );
    (Verdict::Applied, finding)
}

fn unchanged(state: Option<&str>, changed: Option<&str>) -> (Verdict, String) {
    let shown = format!(
        "{} since {}",
        state.unwrap_or("no externalUserState"),
        changed.unwrap_or("(no change time)")
    );
    // A reset of a guest who is already PendingAcceptance need not change what
    // Graph shows (the docs do not say the change time moves), so "as before"
    // proves nothing then.
    if state == Some(PENDING) {
        let finding = format!(
            "undecided: Graph shows the guest as before this reset ({shown}), but the guest was already PendingAcceptance, so a reset need not show"
        );
        return (Verdict::Undecided, finding);
    }
    let finding = format!(
        "unchanged: Graph shows the guest exactly as before this reset ({shown}); a reset would have made it PendingAcceptance"
    );
    (Verdict::Unchanged, finding)
}

fn covers(window: &Window, at: OffsetDateTime, skew: Duration) -> bool {
    let from = floor_to_second(window.from) - skew;
    at >= from && window.until.is_none_or(|until| at <= until + skew)
}

/// Two Graph timestamps name the same instant (or are both absent).
fn same_instant(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || parse(a).is_some_and(|a| parse(b) == Some(a)),
        _ => false,
    }
}

#[cfg(test)]
#[path = "evidence_tests.rs"]
mod tests;
