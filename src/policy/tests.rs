//! Table tests for every rule field, the protections, grants and file errors,
//! and a property: adding a deny rule never allows more.

use std::time::Duration;

use time::OffsetDateTime;
use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

/// A question that the base rule allows; each case changes one thing.
struct Q {
    roles: Vec<String>,
    app: Option<&'static str>,
    user_type: Option<&'static str>,
    target_roles: Vec<String>,
    mail: Option<&'static str>,
    groups: Vec<String>,
    new_email: &'static str,
    other_mails_write: bool,
    redirect: &'static str,
    redirect_default: bool,
    send: bool,
    ticket: Option<&'static str>,
    reason: Option<&'static str>,
    override_cooldown: bool,
    history: History,
}

fn q() -> Q {
    Q {
        roles: vec!["GuestReset.Helpdesk".into()],
        app: Some("portal-app"),
        user_type: Some("Guest"),
        target_roles: vec![],
        mail: Some("ann@fabrikam.example"),
        groups: vec![],
        new_email: "ann@northwind.example",
        other_mails_write: true,
        redirect: "https://myapps.microsoft.com",
        redirect_default: true,
        send: true,
        ticket: Some("INC0012345"),
        reason: Some("moved to Northwind last week"),
        override_cooldown: false,
        history: History::default(),
    }
}

fn decide(p: &Policy, q: &Q) -> Decision {
    p.decide(&Question {
        caller: Caller {
            issuer: "https://idp.example/",
            subject: "user-1",
            object_id: Some("oid-1"),
            app_id: q.app,
            roles: &q.roles,
            scopes: &[],
            groups: &[],
        },
        target: Target {
            id: "guest-1",
            upn: Some("ann_fabrikam.example#EXT#@contoso.onmicrosoft.com"),
            mail: q.mail,
            user_type: q.user_type,
            roles: &q.target_roles,
            groups: &q.groups,
        },
        ask: Ask {
            new_email: q.new_email,
            other_mails_write: q.other_mails_write,
            redirect_url: q.redirect,
            redirect_is_default: q.redirect_default,
            send_invitation_message: q.send,
            ticket: q.ticket,
            reason: q.reason,
            override_cooldown: q.override_cooldown,
        },
        history: &q.history,
        now: NOW,
    })
}

const BASE: &str = r#"
[[rule]]
name = "helpdesk"
caller = { roles = ["GuestReset.Helpdesk"] }
target_domains = ["fabrikam.example", "*.fabrikam.example"]
target_groups = ["11111111-1111-1111-1111-111111111111"]
new_email_domains = ["northwind.example", "fabrikam.example"]
"#;

fn policy(extra: &str) -> Policy {
    Policy::parse(&format!("{BASE}{extra}"), "test").unwrap()
}

fn with(extra_fields: &str) -> Policy {
    Policy::parse(&format!("{BASE}{extra_fields}\n"), "test").unwrap()
}

fn ago(mins: i64) -> OffsetDateTime {
    NOW - time::Duration::minutes(mins)
}

#[test]
fn base_rule_allows_the_base_question() {
    let d = decide(&policy(""), &q());
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.rule.as_deref(), Some("helpdesk"));
    assert!(d.policy_version.starts_with("sha256:"));
}

type Case = (&'static str, &'static str, fn(&mut Q), Option<Denial>);

#[test]
fn every_rule_field() {
    let rules = Denial::Rules;
    let cases: &[Case] = &[
        (
            "caller role missing",
            "",
            |q| q.roles = vec!["Other".into()],
            Some(rules),
        ),
        (
            "role case-insensitive",
            "",
            |q| q.roles = vec!["guestreset.helpdesk".into()],
            None,
        ),
        (
            "target subdomain",
            "",
            |q| q.mail = Some("a@eu.fabrikam.example"),
            None,
        ),
        (
            "target lookalike",
            "",
            |q| q.mail = Some("a@fabrikam.example.evil"),
            Some(rules),
        ),
        (
            "target suffix trick",
            "",
            |q| q.mail = Some("a@notfabrikam.example"),
            Some(rules),
        ),
        ("no mail, no group", "", |q| q.mail = None, Some(rules)),
        (
            "no mail, in target group",
            "",
            |q| {
                q.mail = None;
                q.groups = vec!["11111111-1111-1111-1111-111111111111".into()];
            },
            None,
        ),
        (
            "new email domain",
            "",
            |q| q.new_email = "a@evil.example",
            Some(rules),
        ),
        (
            "same email needs no new domain",
            "",
            |q| q.new_email = "ANN@fabrikam.example",
            None,
        ),
        (
            "email change forbidden",
            "allow_email_change = false",
            |_| {},
            Some(rules),
        ),
        (
            "email change forbidden, same email",
            "allow_email_change = false",
            |q| q.new_email = "ann@fabrikam.example",
            None,
        ),
        (
            "otherMails write forbidden",
            "allow_other_mails_write = false",
            |_| {},
            Some(rules),
        ),
        (
            "otherMails not needed",
            "allow_other_mails_write = false",
            |q| q.other_mails_write = false,
            None,
        ),
        (
            "caller-chosen redirect, no list",
            "",
            |q| {
                q.redirect = "https://evil.example/";
                q.redirect_default = false
            },
            Some(rules),
        ),
        (
            "exact redirect",
            "redirect_urls = ['https://apps.fabrikam.example/welcome']",
            |q| {
                q.redirect = "https://apps.fabrikam.example/welcome";
                q.redirect_default = false
            },
            None,
        ),
        (
            "exact redirect, other path",
            "redirect_urls = ['https://apps.fabrikam.example/welcome']",
            |q| {
                q.redirect = "https://apps.fabrikam.example/other";
                q.redirect_default = false
            },
            Some(rules),
        ),
        (
            "list given, default not in it",
            "redirect_urls = ['https://apps.fabrikam.example/welcome']",
            |_| {},
            Some(rules),
        ),
        (
            "origin redirect",
            "redirect_origins = ['https://apps.fabrikam.example']",
            |q| {
                q.redirect = "https://apps.fabrikam.example/any/path?x=1";
                q.redirect_default = false
            },
            None,
        ),
        (
            "origin redirect, other port",
            "redirect_origins = ['https://apps.fabrikam.example']",
            |q| {
                q.redirect = "https://apps.fabrikam.example:8443/";
                q.redirect_default = false
            },
            Some(rules),
        ),
        (
            "origin redirect, http",
            "redirect_origins = ['https://apps.fabrikam.example']",
            |q| {
                q.redirect = "http://apps.fabrikam.example/";
                q.redirect_default = false
            },
            Some(rules),
        ),
        (
            "message must, not sent",
            "invitation_message = 'must'",
            |q| q.send = false,
            Some(rules),
        ),
        (
            "message must, sent",
            "invitation_message = 'must'",
            |_| {},
            None,
        ),
        (
            "message must-not, sent",
            "invitation_message = 'must-not'",
            |_| {},
            Some(rules),
        ),
        (
            "message must-not, not sent",
            "invitation_message = 'must-not'",
            |q| q.send = false,
            None,
        ),
        (
            "ticket pattern",
            "ticket_pattern = 'INC[0-9]{7}'",
            |_| {},
            None,
        ),
        (
            "ticket pattern is anchored",
            "ticket_pattern = 'INC[0-9]{7}'",
            |q| q.ticket = Some("xINC0012345x"),
            Some(rules),
        ),
        (
            "ticket missing",
            "ticket_pattern = 'INC[0-9]{7}'",
            |q| q.ticket = None,
            Some(rules),
        ),
        ("reason long enough", "min_reason_length = 10", |_| {}, None),
        (
            "reason too short",
            "min_reason_length = 10",
            |q| q.reason = Some("  moved   "),
            Some(rules),
        ),
        (
            "reason missing",
            "min_reason_length = 1",
            |q| q.reason = None,
            Some(rules),
        ),
        (
            "quota not reached",
            "max_resets_per_hour = 2",
            |q| q.history.caller_last_hour = vec![ago(10)],
            None,
        ),
        (
            "quota reached",
            "max_resets_per_hour = 2",
            |q| q.history.caller_last_hour = vec![ago(10), ago(50)],
            Some(Denial::Quota {
                retry_after: Duration::from_secs(600),
            }),
        ),
        (
            "quota counts the last hour only",
            "max_resets_per_hour = 1",
            |q| q.history.caller_last_hour = vec![ago(61)],
            None,
        ),
        (
            "cooldown active",
            "cooldown_hours = 24",
            |q| q.history.target_last_reset = Some(ago(60)),
            Some(Denial::Cooldown {
                retry_after: Duration::from_secs(23 * 3600),
            }),
        ),
        (
            "cooldown over",
            "cooldown_hours = 24",
            |q| q.history.target_last_reset = Some(ago(25 * 60)),
            None,
        ),
        (
            "cooldown override not allowed",
            "cooldown_hours = 24",
            |q| {
                q.history.target_last_reset = Some(ago(60));
                q.override_cooldown = true
            },
            Some(Denial::Cooldown {
                retry_after: Duration::from_secs(23 * 3600),
            }),
        ),
        (
            "cooldown override allowed",
            "cooldown_hours = 24\nallow_cooldown_override = true",
            |q| {
                q.history.target_last_reset = Some(ago(60));
                q.override_cooldown = true
            },
            None,
        ),
        (
            "limit and another miss is plain denial",
            "cooldown_hours = 24",
            |q| {
                q.history.target_last_reset = Some(ago(60));
                q.new_email = "a@evil.example"
            },
            Some(rules),
        ),
    ];
    for (name, extra, change, want) in cases {
        let mut question = q();
        change(&mut question);
        let d = decide(&with(extra), &question);
        assert_eq!(d.allowed, want.is_none(), "{name}: {d:?}");
        assert_eq!(d.denial, *want, "{name}: {d:?}");
        assert!(!d.reasons.is_empty(), "{name}");
    }
}

#[test]
fn global_protections_beat_every_rule() {
    let p = Policy::parse(&format!("[protected]\nusers = ['VIP@Fabrikam.example']\ngroups = ['22222222-2222-2222-2222-222222222222']\n{BASE}"), "t").unwrap();
    type Protection = (&'static str, fn(&mut Q), Denial);
    let cases: &[Protection] = &[
        (
            "member",
            |q| q.user_type = Some("Member"),
            Denial::NotAGuest,
        ),
        ("no userType", |q| q.user_type = None, Denial::NotAGuest),
        (
            "role holder",
            |q| q.target_roles = vec!["Global Reader".into()],
            Denial::HasDirectoryRole,
        ),
        (
            "protected user by mail",
            |q| q.mail = Some("vip@fabrikam.example"),
            Denial::Protected,
        ),
        (
            "protected group",
            |q| q.groups = vec!["22222222-2222-2222-2222-222222222222".into()],
            Denial::Protected,
        ),
        (
            "in flight",
            |q| q.history.target_in_flight = true,
            Denial::InFlight,
        ),
    ];
    for (name, change, want) in cases {
        let mut question = q();
        change(&mut question);
        let d = decide(&p, &question);
        assert_eq!(d.denial, Some(*want), "{name}: {d:?}");
    }
}

#[test]
fn deny_rules_win_over_allow_rules() {
    let deny =
        "[[rule]]\nname = 'no-evil'\neffect = 'deny'\nnew_email_domains = ['northwind.example']\n";
    let d = decide(&Policy::parse(&format!("{deny}{BASE}"), "t").unwrap(), &q());
    assert_eq!(d.denial, Some(Denial::Rules));
    assert!(d.reasons[0].contains("no-evil"), "{d:?}");
    // A deny rule for other callers leaves this one alone.
    let other = "[[rule]]\nname = 'x'\neffect = 'deny'\ncaller = { apps = ['other'] }\n";
    assert!(
        decide(
            &Policy::parse(&format!("{other}{BASE}"), "t").unwrap(),
            &q()
        )
        .allowed
    );
}

#[test]
fn empty_policy_denies_everything() {
    let d = decide(&Policy::parse("", "t").unwrap(), &q());
    assert!(!d.allowed);
    assert!(d.reasons[0].contains("deny by default"), "{d:?}");
}

#[test]
fn grants_give_permissions_to_matching_callers() {
    let p = Policy::parse(
        "[[grant]]\ncaller = { roles = ['GuestReset.Helpdesk'] }\npermissions = ['resets:create', 'resets:read:own']\n\
         [[grant]]\ncaller = { roles = ['GuestReset.Helpdesk'], apps = ['other-app'] }\npermissions = ['admin']\n",
        "t",
    )
    .unwrap();
    let roles = vec!["GuestReset.Helpdesk".to_owned()];
    let caller = Caller {
        issuer: "i",
        subject: "s",
        object_id: None,
        app_id: Some("portal-app"),
        roles: &roles,
        scopes: &[],
        groups: &[],
    };
    let got: Vec<_> = p.permissions(&caller).into_iter().collect();
    assert_eq!(got, [Permission::ResetsCreate, Permission::ResetsReadOwn]);
    let nobody = Caller {
        roles: &[],
        ..caller
    };
    assert!(p.permissions(&nobody).is_empty());
}

#[test]
fn bad_files_name_the_problem_and_line() {
    let cases = [
        ("[[rule]]\nname='x'\ncolour='red'\n", "colour", Some(3)),
        (
            "[[rule]]\nname='x'\ntarget_domains=['a@b']\n",
            "invalid domain pattern",
            None,
        ),
        (
            "[[rule]]\nname='x'\nticket_pattern='('\n",
            "ticket_pattern",
            None,
        ),
        (
            "[[rule]]\nname='x'\nredirect_urls=['http://a.example/']\n",
            "not an https URL",
            None,
        ),
        (
            "[[rule]]\nname='x'\nredirect_origins=['https://a.example/path']\n",
            "has a path",
            None,
        ),
        (
            "[[rule]]\nname='x'\neffect='deny'\ncooldown_hours=1\n",
            "no meaning in a deny rule",
            None,
        ),
        ("[[rule]]\nname='x'\ncaller={}\n", "at least one", None),
        (
            "[[grant]]\ncaller={roles=['a']}\npermissions=['resets:delete']\n",
            "resets:delete",
            Some(3),
        ),
        (
            "\n\n[[rule]]\nname='x'\n[[rule]]\nname='x'\n",
            "used twice",
            Some(6),
        ),
        (
            "[[rule]]\nname='x'\ninvitation_message='sometimes'\n",
            "sometimes",
            Some(3),
        ),
    ];
    for (text, needle, line) in cases {
        let err = Policy::parse(text, "p.toml").unwrap_err().to_string();
        assert!(
            err.contains("p.toml") && err.contains(needle),
            "{text:?}: {err}"
        );
        if let Some(line) = line {
            assert!(err.contains(&format!("line {line}")), "{text:?}: {err}");
        }
        assert!(err.contains("line "), "{text:?} has no line: {err}");
    }
}

#[test]
fn version_changes_with_the_text() {
    let a = policy("");
    let b = policy("\n# comment\n");
    assert_ne!(a.version, b.version);
    assert_eq!(a.version, policy("").version);
}

#[test]
fn summary_mentions_every_rule() {
    let s = policy("cooldown_hours = 4\n[[rule]]\nname = 'block'\neffect = 'deny'\ntarget_domains = ['evil.example']\n").summary();
    assert!(
        s.contains("\"helpdesk\" (allow)")
            && s.contains("\"block\" (DENY)")
            && s.contains("4 h per guest"),
        "{s}"
    );
}

/// A tiny deterministic generator: the property test needs variety, not a crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

#[test]
fn adding_a_deny_rule_never_allows_more() {
    let selectors = [
        "",
        "caller = { roles = ['GuestReset.Helpdesk'] }",
        "caller = { apps = ['portal-app'] }",
        "target_domains = ['fabrikam.example']",
        "target_domains = ['*.fabrikam.example']",
        "target_groups = ['11111111-1111-1111-1111-111111111111']",
        "new_email_domains = ['northwind.example']",
    ];
    let mails = [
        Some("a@fabrikam.example"),
        Some("a@eu.fabrikam.example"),
        None,
    ];
    let news = [
        "a@northwind.example",
        "a@fabrikam.example",
        "a@evil.example",
    ];
    let mut rng = Lcg(7);
    for i in 0..300 {
        let deny = format!(
            "[[rule]]\nname = 'deny-{i}'\neffect = 'deny'\n{}\n{}\n",
            selectors[rng.next(selectors.len())],
            selectors[rng.next(selectors.len())]
        );
        let Ok(with_deny) = Policy::parse(&format!("{BASE}{deny}"), "t") else {
            continue; // two selectors of the same key: not a policy
        };
        let without = policy("");
        for _ in 0..5 {
            let mut question = q();
            question.mail = mails[rng.next(mails.len())];
            question.new_email = news[rng.next(news.len())];
            question.groups = match rng.next(2) {
                0 => vec![],
                _ => vec!["11111111-1111-1111-1111-111111111111".into()],
            };
            let after = decide(&with_deny, &question);
            let before = decide(&without, &question);
            assert!(
                !after.allowed || before.allowed,
                "{deny} allowed more: {after:?}"
            );
        }
    }
}
