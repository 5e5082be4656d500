use super::*;
use std::time::Duration;

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
            "quota lowered below the count: a slot frees when the newest leaves",
            "max_resets_per_hour = 1",
            |q| q.history.caller_last_hour = vec![ago(50), ago(10)],
            Some(Denial::Quota {
                retry_after: Duration::from_secs(50 * 60),
            }),
        ),
        (
            "quota counts the last hour only",
            "max_resets_per_hour = 1",
            |q| q.history.caller_last_hour = vec![ago(61)],
            None,
        ),
        (
            "a job item needs max_job_items",
            "",
            |q| q.job_items = Some(5),
            Some(rules),
        ),
        (
            "a job within max_job_items",
            "max_job_items = 5",
            |q| q.job_items = Some(5),
            None,
        ),
        (
            "a job over max_job_items",
            "max_job_items = 4",
            |q| q.job_items = Some(5),
            Some(rules),
        ),
        (
            "a job item is bounded by the job's size, not the hourly quota",
            "max_resets_per_hour = 1\nmax_job_items = 10",
            |q| {
                q.job_items = Some(10);
                q.history.caller_last_hour = vec![ago(10)]
            },
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
