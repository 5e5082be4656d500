//! `Policy::reach`: which rules reach a guest before anything is asked.

use super::*;

fn reach(p: &Policy, q: &Q) -> Reach {
    let caller = Caller {
        issuer: "https://idp.example/",
        subject: "user-1",
        object_id: Some("oid-1"),
        app_id: q.app,
        roles: &q.roles,
        scopes: &[],
        groups: &[],
    };
    let target = Target {
        tenant: TenantRef {
            name: q.tenant.0,
            id: Some(q.tenant.1),
        },
        id: "guest-1",
        upn: None,
        mail: q.mail,
        user_type: q.user_type,
        roles: &q.target_roles,
        groups: &q.groups,
    };
    p.reach(&caller, &target)
}

#[test]
fn reach_names_the_rules_and_protections_a_lookup_shows() {
    let p = policy(
        "[[rule]]\nname = \"deny-all\"\neffect = \"deny\"\nnew_email_domains = [\"x.example\"]\n\
         [protected]\nusers = [\"protected@fabrikam.example\"]\n",
    );
    let base = q();
    // (case, question, within rules, blocked because, rules that reach)
    type Case = (
        &'static str,
        Q,
        bool,
        Option<&'static str>,
        Vec<&'static str>,
    );
    let cases: Vec<Case> = vec![
        ("by domain", q(), true, None, vec!["helpdesk"]),
        (
            "subdomain",
            Q {
                mail: Some("a@eu.fabrikam.example"),
                ..q()
            },
            true,
            None,
            vec!["helpdesk"],
        ),
        (
            "other domain",
            Q {
                mail: Some("a@tailspin.example"),
                ..q()
            },
            false,
            None,
            vec![],
        ),
        (
            "by group",
            Q {
                mail: Some("a@tailspin.example"),
                groups: vec!["11111111-1111-1111-1111-111111111111".into()],
                ..q()
            },
            true,
            None,
            vec!["helpdesk"],
        ),
        (
            "other caller",
            Q {
                roles: vec!["GuestReset.Auditor".into()],
                ..q()
            },
            false,
            None,
            vec![],
        ),
        (
            "member",
            Q {
                user_type: Some("Member"),
                ..q()
            },
            false,
            Some("not a guest"),
            vec!["helpdesk"],
        ),
        (
            "role",
            Q {
                target_roles: vec!["Global Reader".into()],
                ..q()
            },
            false,
            Some("directory role"),
            vec!["helpdesk"],
        ),
        (
            "protected",
            Q {
                mail: Some("protected@fabrikam.example"),
                ..q()
            },
            false,
            Some("protected users"),
            vec!["helpdesk"],
        ),
    ];
    assert!(reach(&p, &base).within_rules());
    for (name, case, within, blocked, rules) in cases {
        let r = reach(&p, &case);
        assert_eq!(r.within_rules(), within, "{name}: {r:?}");
        match blocked {
            Some(why) => assert!(
                r.blocked.as_deref().is_some_and(|b| b.contains(why)),
                "{name}: {r:?}"
            ),
            None => assert_eq!(r.blocked, None, "{name}"),
        }
        assert_eq!(r.rules, rules, "{name}");
    }
}
