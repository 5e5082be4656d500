use super::*;
use time::macros::datetime;

const NEW: &str = "adele@northwind.example";

fn user(state: Option<&str>, changed: Option<&str>, with_email: bool) -> GraphUser {
    GraphUser {
        id: "u1".into(),
        display_name: None,
        user_principal_name: None,
        mail: Some("adele@fabrikam.example".into()),
        other_mails: with_email.then(|| NEW.to_owned()).into_iter().collect(),
        user_type: Some("Guest".into()),
        external_user_state: state.map(str::to_owned),
        external_user_state_change_date_time: changed.map(str::to_owned),
    }
}

/// The guest as read before the reset.
fn before(state: Option<&str>, changed: Option<&str>) -> Target {
    Target {
        external_user_state: state.map(str::to_owned),
        external_user_state_change_date_time: changed.map(str::to_owned),
        ..Target::default()
    }
}

struct Row {
    name: &'static str,
    before: Target,
    others: Vec<Window>,
    state: Option<&'static str>,
    changed: Option<&'static str>,
    email: bool,
    expect: Verdict,
}

/// This reset's first attempt: 10:00:05.400 our clock; skew allowance 5 s.
const ANCHOR: OffsetDateTime = datetime!(2026-12-01 10:00:05.4 UTC);

fn window(from: OffsetDateTime, until: Option<OffsetDateTime>) -> Window {
    Window {
        reset_id: "earlier".into(),
        from,
        until,
    }
}

fn rows() -> Vec<Row> {
    let accepted = || before(Some("Accepted"), Some("2026-01-01T00:00:00Z"));
    let pending_before = || before(Some("PendingAcceptance"), Some("2026-12-01T10:00:03Z"));
    let row = |name, before, state, changed, email, expect| Row {
        name,
        before,
        others: vec![],
        state,
        changed,
        email,
        expect,
    };
    let pending = Some("PendingAcceptance");
    vec![
        row(
            "change after the anchor",
            accepted(),
            pending,
            Some("2026-12-01T10:00:06Z"),
            true,
            Verdict::Applied,
        ),
        // Graph writes whole seconds: 10:00:05 is the anchor's own second.
        row(
            "change in the anchor's second",
            accepted(),
            pending,
            Some("2026-12-01T10:00:05Z"),
            true,
            Verdict::Applied,
        ),
        row(
            "change within the skew before the anchor",
            accepted(),
            pending,
            Some("2026-12-01T10:00:02Z"),
            true,
            Verdict::Undecided,
        ),
        row(
            "change long before the anchor",
            accepted(),
            pending,
            Some("2026-12-01T09:00:00Z"),
            true,
            Verdict::Undecided,
        ),
        row(
            "change after the anchor without the new email",
            accepted(),
            pending,
            Some("2026-12-01T10:00:06Z"),
            false,
            Verdict::Undecided,
        ),
        row(
            "as before, accepted",
            accepted(),
            Some("Accepted"),
            Some("2026-01-01T00:00:00Z"),
            true,
            Verdict::Unchanged,
        ),
        row(
            "as before, same instant written differently",
            accepted(),
            Some("Accepted"),
            Some("2026-01-01T00:00:00.000Z"),
            true,
            Verdict::Unchanged,
        ),
        // A previous reset made the guest PendingAcceptance just before: a second
        // reset whose answer was lost cannot claim that change (defect 1).
        row(
            "as before, already pending",
            pending_before(),
            pending,
            Some("2026-12-01T10:00:03Z"),
            true,
            Verdict::Undecided,
        ),
        row(
            // Rows of an older version kept no change time.
            "before without a change time, accepted",
            before(Some("Accepted"), None),
            Some("Accepted"),
            Some("2026-01-01T00:00:00Z"),
            true,
            Verdict::Undecided,
        ),
        row(
            "redeemed after the anchor",
            accepted(),
            Some("Accepted"),
            Some("2026-12-01T10:00:09Z"),
            true,
            Verdict::Undecided,
        ),
        row(
            "never invited, still not",
            before(None, None),
            None,
            None,
            true,
            Verdict::Unchanged,
        ),
        Row {
            others: vec![window(
                datetime!(2026-12-01 10:00:04.9 UTC),
                Some(datetime!(2026-12-01 10:00:06.2 UTC)),
            )],
            ..row(
                "change inside another reset's window",
                accepted(),
                pending,
                Some("2026-12-01T10:00:06Z"),
                true,
                Verdict::Undecided,
            )
        },
        Row {
            others: vec![window(datetime!(2026-12-01 09:00:00 UTC), None)],
            ..row(
                "another reset still open",
                accepted(),
                pending,
                Some("2026-12-01T10:00:07Z"),
                true,
                Verdict::Undecided,
            )
        },
        Row {
            others: vec![window(
                datetime!(2026-12-01 09:00:00 UTC),
                Some(datetime!(2026-12-01 09:00:01 UTC)),
            )],
            ..row(
                "another reset long over",
                accepted(),
                pending,
                Some("2026-12-01T10:00:07Z"),
                true,
                Verdict::Applied,
            )
        },
    ]
}

#[test]
fn verdicts() {
    for r in rows() {
        let case = Case {
            before: &r.before,
            anchor: ANCHOR,
            new_email: NEW,
            others: &r.others,
            skew: Duration::seconds(5),
        };
        let guest = user(r.state, r.changed, r.email);
        let evidence = judge(&case, Some(&guest), ANCHOR + Duration::seconds(10));
        assert_eq!(
            evidence.verdict,
            Some(r.expect),
            "{}: {}",
            r.name,
            evidence.finding
        );
        assert!(!evidence.finding.is_empty(), "{}", r.name);
    }
}

#[test]
fn a_deleted_guest_is_undecided() {
    let case = Case {
        before: &Target::default(),
        anchor: ANCHOR,
        new_email: NEW,
        others: &[],
        skew: Duration::seconds(5),
    };
    let evidence = judge(&case, None, ANCHOR);
    assert_eq!(evidence.verdict, Some(Verdict::Undecided));
    assert!(!evidence.applied());
}
