//! Tenants on rules, protections and grants: each case in one tenant and
//! the other, so isolation is shown in both directions.

use super::*;

const TAILSPIN: (&str, &str) = ("tailspin", "9c1c3c5e-0d55-4a7e-9d1e-6f3b5f8a2b10");

fn in_tailspin(q: &mut Q) {
    q.tenant = TAILSPIN;
}

#[test]
fn a_rule_with_tenants_applies_only_to_their_guests() {
    type Case = (&'static str, fn(&mut Q), bool);
    let by_name = with(r#"tenants = ["contoso"]"#);
    let by_id = with(r#"tenants = ["ABD52D7B-5A6E-4D73-AB8B-F23B4A22E7C2"]"#);
    let cases: &[Case] = &[("contoso", |_| {}, true), ("tailspin", in_tailspin, false)];
    for policy in [&by_name, &by_id] {
        for (name, change, allowed) in cases {
            let mut question = q();
            change(&mut question);
            let d = decide(policy, &question);
            assert_eq!(d.allowed, *allowed, "{name}: {d:?}");
            if !allowed {
                assert!(
                    d.reasons[0].contains("not for tenant \"tailspin\""),
                    "{d:?}"
                );
            }
        }
    }
}

#[test]
fn a_deny_rule_with_tenants_denies_only_there() {
    let p = policy("[[rule]]\nname = \"freeze\"\neffect = \"deny\"\ntenants = [\"tailspin\"]\n");
    assert!(decide(&p, &q()).allowed);
    let mut there = q();
    in_tailspin(&mut there);
    let d = decide(&p, &there);
    assert_eq!(d.denial, Some(Denial::Rules), "{d:?}");
}

#[test]
fn tenant_protections_protect_only_in_their_tenant() {
    let text = format!(
        "[protected]\nusers = ['global-vip@fabrikam.example']\n\
         [protected.tenants.tailspin]\nusers = ['Ann@Fabrikam.example']\n{BASE}"
    );
    let p = Policy::parse(&text, "t").unwrap();
    type Case = (&'static str, fn(&mut Q), Option<Denial>);
    let cases: &[Case] = &[
        ("same address in contoso", |_| {}, None),
        ("in tailspin", in_tailspin, Some(Denial::Protected)),
        (
            "global list in contoso",
            |q| q.mail = Some("global-vip@fabrikam.example"),
            Some(Denial::Protected),
        ),
        (
            "global list in tailspin",
            |q| {
                in_tailspin(q);
                q.mail = Some("global-vip@fabrikam.example");
            },
            Some(Denial::Protected),
        ),
    ];
    for (name, change, want) in cases {
        let mut question = q();
        change(&mut question);
        assert_eq!(decide(&p, &question).denial, *want, "{name}");
    }
}

fn caller(roles: &[String]) -> Caller<'_> {
    Caller {
        issuer: "https://idp.example/",
        subject: "s",
        object_id: None,
        app_id: None,
        roles,
        scopes: &[],
        groups: &[],
    }
}

#[test]
fn grants_give_permissions_where_their_tenants_say() {
    let p = policy(
        r#"
[[grant]]
caller = { roles = ["Contoso.Helpdesk"] }
permissions = ["resets:create", "resets:read:all"]
tenants = ["contoso"]

[[grant]]
caller = { roles = ["Auditor"] }
permissions = ["resets:read:all"]

[[grant]]
caller = { roles = ["Both"] }
permissions = ["resets:create"]
tenants = ["tailspin", "contoso"]
"#,
    );
    let contoso = TenantRef {
        name: "contoso",
        id: Some("abd52d7b-5a6e-4d73-ab8b-f23b4a22e7c2"),
    };
    let tailspin = TenantRef {
        name: TAILSPIN.0,
        id: Some(TAILSPIN.1),
    };
    let helpdesk = vec!["Contoso.Helpdesk".to_owned()];
    let create = p.scope(&caller(&helpdesk), Permission::ResetsCreate);
    assert!(
        create.covers(&contoso) && !create.covers(&tailspin),
        "{create:?}"
    );
    let auditor = vec!["Auditor".to_owned()];
    assert_eq!(
        p.scope(&caller(&auditor), Permission::ResetsReadAll),
        Scope::All
    );
    let none = p.scope(&caller(&auditor), Permission::ResetsCreate);
    assert!(none.is_nowhere(), "{none:?}");
    let both = vec!["Both".to_owned(), "Contoso.Helpdesk".to_owned()];
    let create = p.scope(&caller(&both), Permission::ResetsCreate);
    assert!(
        create.covers(&contoso) && create.covers(&tailspin),
        "{create:?}"
    );
    // Named by name, a renamed tenant drops out; named by id, it stays.
    let renamed = TenantRef {
        name: "renamed",
        id: Some(TAILSPIN.1),
    };
    assert!(!create.covers(&renamed));
    let by_id = policy(&format!(
        "[[grant]]\ncaller = {{ roles = [\"Both\"] }}\npermissions = [\"resets:create\"]\ntenants = [\"{}\"]\n",
        TAILSPIN.1
    ));
    let create = by_id.scope(&caller(&both), Permission::ResetsCreate);
    assert!(
        create.covers(&renamed) && !create.covers(&contoso),
        "{create:?}"
    );
}

#[test]
fn an_empty_tenant_list_is_refused_with_its_line() {
    let text = format!("{BASE}tenants = []\n");
    let err = Policy::parse(&text, "t").unwrap_err().to_string();
    assert!(err.contains("tenants = [] covers no tenant"), "{err}");
    assert!(err.contains("line"), "{err}");
}
