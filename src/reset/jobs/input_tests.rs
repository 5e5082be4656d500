use super::*;

fn items(sub: JobSubmission) -> Vec<ItemInput> {
    match sub.input {
        JobInput::Items(items) => items,
        JobInput::DomainMove { .. } => panic!("not items"),
    }
}

fn line_of(e: JobError) -> Option<usize> {
    match e {
        JobError::Invalid { line, .. } => line,
        other => panic!("not invalid: {other}"),
    }
}

#[test]
fn csv_columns_in_any_order_with_a_bom_and_blank_lines() {
    let text =
        "\u{feff}Reason,USER,new_email\r\nmoved,a@x.example,a@y.example\r\n\r\n,b@x.example,\r\n";
    let got = items(from_csv(text.as_bytes(), 10).unwrap());
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].user, "a@x.example");
    assert_eq!(got[0].reason.as_deref(), Some("moved"));
    assert_eq!(got[1].line, 4);
    assert_eq!(got[1].new_email, None, "an empty cell is no value");
}

#[test]
fn csv_mistakes_name_their_line() {
    let cases: &[(&[u8], usize)] = &[
        (b"user,user\na\n", 1),
        (b"email\na\n", 1),
        (b"user\na\nA\n", 3),
        (b"user\na\n\xc3\n", 3),
        (b"user,ticket\na,1,2\n", 2),
        (b"user,ticket\n,T-1\n", 2),
        (b"user\na\nb\nc\n", 4),
    ];
    for (text, line) in cases {
        let e = from_csv(text, 2).unwrap_err();
        assert_eq!(
            line_of(e),
            Some(*line),
            "{:?}",
            String::from_utf8_lossy(text)
        );
    }
}

#[test]
fn the_same_guest_in_two_tenants_is_two_items() {
    let text = "user,tenant\na@x.example,contoso\na@x.example,tailspin\n";
    assert_eq!(items(from_csv(text.as_bytes(), 10).unwrap()).len(), 2);
}

#[test]
fn json_jobs_are_items_or_a_domain_move() {
    let sub = from_json(
        serde_json::json!({ "items": [{ "user": "a" }], "ticket": "T" }),
        5,
    )
    .unwrap();
    assert_eq!(sub.unit, "item");
    assert_eq!(sub.ticket.as_deref(), Some("T"));
    let sub = from_json(
        serde_json::json!({ "select": { "mail_domain": "@Fabrikam.Example" }, "rewrite_domain": "fabrikam.net" }),
        5,
    )
    .unwrap();
    assert_eq!(
        sub.input,
        JobInput::DomainMove {
            from: "fabrikam.example".into(),
            to: "fabrikam.net".into()
        }
    );
    for bad in [
        serde_json::json!({}),
        serde_json::json!({ "select": { "mail_domain": "a.example" } }),
        serde_json::json!({ "select": { "mail_domain": "a" }, "rewrite_domain": "b.example" }),
        serde_json::json!({ "items": [{ "user": "a" }, { "user": "A" }] }),
    ] {
        assert!(from_json(bad.clone(), 5).is_err(), "{bad}");
    }
}
