use super::*;

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
