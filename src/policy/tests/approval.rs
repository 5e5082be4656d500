//! `approval = { ... }` on allow rules: when it applies, who approves, and
//! that enough approvals lift it.

use super::*;

fn needs(policy: &Policy, change: fn(&mut Q)) -> Option<Requirement> {
    let mut question = q();
    change(&mut question);
    let d = decide(policy, &question);
    assert!(d.allowed, "{d:?}");
    d.approval.map(|b| *b)
}

#[test]
fn new_domain_approval_applies_only_when_the_domain_changes() {
    let p = with(r#"approval = { when = "new-domain", approvers = "sponsors" }"#);
    let need = needs(&p, |_| {}).expect("fabrikam -> northwind needs approval");
    assert_eq!(need.approvers, ApproverRule::Sponsors);
    assert_eq!(
        (need.count, need.expires_hours, need.run_within_hours),
        (1, 24, 1)
    );
    assert!(need.reason.contains("northwind.example"), "{}", need.reason);
    assert_eq!(
        needs(&p, |q| q.new_email = "ann.new@fabrikam.example"),
        None
    );
    let no_mail = |q: &mut Q| {
        q.mail = None;
        q.groups = vec!["11111111-1111-1111-1111-111111111111".into()];
    };
    assert!(needs(&p, no_mail).is_some(), "no mail: a new domain");
}

#[test]
fn enough_approvals_lift_the_requirement() {
    let p = with(
        r#"approval = { approvers = { roles = ["GuestReset.Approver"] }, count = 2, expires_hours = 4, run_within_hours = 2 }"#,
    );
    let need = needs(&p, |_| {}).expect("always");
    assert_eq!(
        (need.count, need.expires_hours, need.run_within_hours),
        (2, 4, 2)
    );
    assert!(needs(&p, |q| q.approvals = 1).is_some());
    assert_eq!(needs(&p, |q| q.approvals = 2), None);
    // The requirement shows in the decision's reasons too.
    let d = decide(&p, &q());
    assert!(
        d.reasons.iter().any(|r| r.contains("approval required")),
        "{d:?}"
    );
}

#[test]
fn a_cooldown_override_can_require_approval() {
    let p = with(
        "cooldown_hours = 24\nallow_cooldown_override = true\n\
         approval = { when = \"cooldown-override\", approvers = { roles = [\"Lead\"] } }",
    );
    assert_eq!(needs(&p, |_| {}), None);
    assert_eq!(
        needs(&p, |q| q.override_cooldown = true),
        None,
        "no cooldown running"
    );
    let overriding = |q: &mut Q| {
        q.override_cooldown = true;
        q.history.target_last_reset = Some(ago(60));
    };
    assert!(needs(&p, overriding).is_some());
}

#[test]
fn approval_mistakes_are_refused_with_their_line() {
    let cases = [
        (
            r#"approval = { approvers = "managers" }"#,
            "\"sponsors\" or a caller matcher",
        ),
        (
            r#"approval = { approvers = "sponsors", count = 0 }"#,
            "count must be between 1 and 10",
        ),
        (
            r#"approval = { approvers = "sponsors", when = [] }"#,
            "never applies",
        ),
        (
            r#"approval = { approvers = "sponsors", when = "weekends" }"#,
            "",
        ),
        (
            r#"approval = { approvers = "sponsors", expires_hours = 10000 }"#,
            "expires_hours",
        ),
        (
            r#"approval = { approvers = "sponsors", when = "cooldown-override" }"#,
            "needs cooldown_hours",
        ),
    ];
    for (field, want) in cases {
        let err = Policy::parse(&format!("{BASE}{field}\n"), "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains(want) && err.contains("line"), "{field}: {err}");
    }
    let deny =
        "[[rule]]\nname = \"d\"\neffect = \"deny\"\napproval = { approvers = \"sponsors\" }\n";
    let err = Policy::parse(&format!("{BASE}{deny}"), "t")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("approval has no meaning in a deny rule"),
        "{err}"
    );
}
