use super::*;

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

/// The commented example in docs/policy.md is a valid policy that says what
/// the text says it does.
#[test]
fn the_documented_example_parses() {
    let doc = include_str!("../../../docs/policy.md");
    let section = &doc[doc.find("## The policy file").expect("section")..];
    let start = section.find("```toml\n").expect("toml block") + "```toml\n".len();
    let text = &section[start..start + section[start..].find("```").unwrap()];
    let p = Policy::parse(text, "docs/policy.md").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.grants.len(), 4);
    assert_eq!(p.rules.len(), 2);
    let rule = &p.rules[0];
    assert_eq!(rule.cooldown_hours, Some(24));
    assert!(rule.allow_cooldown_override && rule.ticket_pattern.is_some());
    assert_eq!(p.rules[1].effect, Effect::Deny);
}
