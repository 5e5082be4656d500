use super::*;

fn defaults() -> ResetDefaults {
    ResetDefaults {
        redirect_url: "https://myapps.microsoft.com".into(),
        send_invitation_message: true,
        allow_other_mails_write: true,
        unknown_grace: std::time::Duration::from_secs(120),
        clock_skew: time::Duration::seconds(5),
        job_max_items: 10_000,
        job_workers: 16,
    }
}

fn request(user: &str) -> ResetRequest {
    serde_json::from_value(serde_json::json!({ "user": user })).unwrap()
}

#[test]
fn user_forms_are_recognised() {
    let cases = [
        (
            "264E6D50-EAEC-461E-B187-873B1BCF855F",
            UserRef::ObjectId("264e6d50-eaec-461e-b187-873b1bcf855f".into()),
        ),
        (
            "adele_fabrikam.example#EXT#@contoso.onmicrosoft.com",
            UserRef::Upn("adele_fabrikam.example#EXT#@contoso.onmicrosoft.com".into()),
        ),
        (
            " adele@fabrikam.example ",
            UserRef::Email("adele@fabrikam.example".into()),
        ),
    ];
    for (raw, want) in cases {
        assert_eq!(
            request(raw).validate(&defaults()).unwrap().user,
            want,
            "{raw}"
        );
    }
    for bad in ["", "adele", "a\u{7}@b.example", "Adele <a@b.example>"] {
        assert!(
            request(bad).validate(&defaults()).is_err(),
            "{bad:?} accepted"
        );
    }
}

#[test]
fn new_email_follows_graph_character_rules() {
    let check = |email: &str| {
        let mut r = request("a@b.example");
        r.new_email = Some(email.into());
        r.validate(&defaults())
    };
    for ok in ["a.b-c_d@x.example", "_a_@x.example"] {
        assert!(check(ok).is_ok(), "{ok} refused");
    }
    for bad in [
        "a+b@x.example",
        ".a@x.example",
        "a-@x.example",
        "a#b@x.example",
        "é@x.example",
        "nodomain",
    ] {
        assert!(check(bad).is_err(), "{bad} accepted");
    }
}

#[test]
fn defaults_apply_and_limits_hold() {
    let valid = request("a@b.example").validate(&defaults()).unwrap();
    assert_eq!(valid.redirect_url, "https://myapps.microsoft.com/");
    assert!(valid.send_invitation_message);
    let mut r = request("a@b.example");
    r.redirect_url = Some("http://insecure.example".into());
    assert!(
        r.validate(&defaults())
            .unwrap_err()
            .starts_with("redirect_url")
    );
    let two_cc: ResetRequest = serde_json::from_value(serde_json::json!({
        "user": "a@b.example", "message": { "cc": ["x@y.example", "z@y.example"] }
    }))
    .unwrap();
    assert!(
        two_cc
            .validate(&defaults())
            .unwrap_err()
            .contains("at most one")
    );
    let no_send: ResetRequest = serde_json::from_value(serde_json::json!({
        "user": "a@b.example", "send_invitation_message": false, "message": { "body": "hi" }
    }))
    .unwrap();
    assert!(no_send.validate(&defaults()).is_err());
}

#[test]
fn unknown_fields_are_refused() {
    let err = serde_json::from_value::<ResetRequest>(
        serde_json::json!({ "user": "a@b.example", "usr": 1 }),
    );
    assert!(err.unwrap_err().to_string().contains("unknown field `usr`"));
}
