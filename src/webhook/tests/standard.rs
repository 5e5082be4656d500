//! standard-webhooks: `v1,base64(HMAC(base64-decoded whsec_ key, "{id}.{ts}.{body}"))`.

use super::*;

// Vector from the reference Rust library's `test_sign` (the team's `security.md` §2.1). Recompute:
// python3 -c "import hmac,hashlib,base64; print('v1,'+base64.b64encode(hmac.new(base64.b64decode('C2FVsBQIhrscChlQIMV+b5sSYspob7oD'),b'msg_27UH4WbU6Z5A5EzD8u03UvzRbpk.1649367553.{\"email\":\"test@example.com\",\"username\":\"test_user\"}',hashlib.sha256).digest()).decode())"
const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
const TS: i64 = 1649367553;
const TS_TEXT: &str = "1649367553";
const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
const SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

// Vector from the reference Python library's `test_sign_function`. Recompute:
// python3 -c "import hmac,hashlib,base64; print('v1,'+base64.b64encode(hmac.new(base64.b64decode('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'),b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}',hashlib.sha256).digest()).decode())"
const PY_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PY_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const PY_TS: i64 = 1614265330;
const PY_BODY: &[u8] = br#"{"test": 2432232314}"#;
const PY_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn pairs<'a>(id: &'a str, ts: &'a str, signature: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("webhook-id", id),
        ("webhook-timestamp", ts),
        ("webhook-signature", signature),
    ]
}

fn check(
    secrets: &[&str],
    map: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Verified, VerifyError> {
    let secrets: Vec<SecretString> = secrets.iter().map(|s| secret(s)).collect();
    verify(
        Scheme::StandardWebhooks,
        &secrets,
        map,
        body,
        now,
        TOLERANCE,
    )
}

fn check_headers(id: &str, ts: &str, signature: &str) -> Result<Verified, VerifyError> {
    check(&[SECRET], &headers(&pairs(id, ts, signature)), BODY, TS)
}

#[test]
fn known_answer_verifies_and_yields_the_signed_id() {
    let verified = check_headers(ID, TS_TEXT, SIGNATURE);
    let expected = Verified {
        delivery_id: ID.to_owned(),
        timestamp: Some(TS),
    };
    assert_eq!(verified, Ok(expected));
}

#[test]
fn second_known_answer_verifies() {
    let map = headers(&pairs(PY_ID, &PY_TS.to_string(), PY_SIGNATURE));
    let verified = check(&[PY_SECRET], &map, PY_BODY, PY_TS).expect("genuine");
    assert_eq!(verified.delivery_id, PY_ID);
}

#[test]
fn sign_standard_reproduces_both_known_answers() {
    let signed = sign_standard(&secret(SECRET), ID, TS, BODY);
    assert_eq!(signed.as_deref(), Ok(SIGNATURE));
    let signed = sign_standard(&secret(PY_SECRET), PY_ID, PY_TS, PY_BODY);
    assert_eq!(signed.as_deref(), Ok(PY_SIGNATURE));
}

#[test]
fn secret_without_whsec_prefix_is_the_same_key() {
    let bare = SECRET.trim_start_matches("whsec_");
    let map = headers(&pairs(ID, TS_TEXT, SIGNATURE));
    check(&[bare], &map, BODY, TS).expect("accepted without the prefix");
}

#[test]
fn secret_with_or_without_base64_padding_is_the_same_key() {
    let padded = sign_standard(
        &secret("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
        ID,
        TS,
        BODY,
    );
    let unpadded = sign_standard(
        &secret("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"),
        ID,
        TS,
        BODY,
    );
    assert!(padded.is_ok());
    assert_eq!(padded, unpadded);
}

#[test]
fn wrong_secret_or_another_sources_secret_is_refused() {
    let map = headers(&pairs(ID, TS_TEXT, SIGNATURE));
    assert_eq!(
        check(&[PY_SECRET], &map, BODY, TS),
        Err(VerifyError::BadSignature)
    );
    // A hub-signature-256 source's secret is not a whsec_ secret at all.
    let github = "It's a Secret to Everybody";
    assert!(matches!(
        check(&[github], &map, BODY, TS),
        Err(VerifyError::BadSecret(_))
    ));
}

#[test]
fn any_flipped_body_byte_is_refused() {
    let map = headers(&pairs(ID, TS_TEXT, SIGNATURE));
    for index in 0..BODY.len() {
        let result = check(&[SECRET], &map, &flipped(BODY, index), TS);
        assert_eq!(result, Err(VerifyError::BadSignature), "byte {index}");
    }
    let longer = [BODY, b" "].concat();
    assert_eq!(
        check(&[SECRET], &map, &longer, TS),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn any_flipped_signature_byte_is_refused() {
    let valid = SIGNATURE.trim_start_matches("v1,");
    for index in 0..32 {
        let signature = format!("v1,{}", flipped_base64(valid, index));
        let result = check_headers(ID, TS_TEXT, &signature);
        assert_eq!(result, Err(VerifyError::BadSignature), "byte {index}");
    }
}

#[test]
fn flipped_id_or_timestamp_is_refused() {
    let other_id = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpK";
    assert_eq!(
        check_headers(other_id, TS_TEXT, SIGNATURE),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        check_headers(ID, "1649367554", SIGNATURE),
        Err(VerifyError::BadSignature)
    );
    // Same instant, other text: the MAC covers the header's exact text.
    assert_eq!(
        check_headers(ID, "01649367553", SIGNATURE),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn tolerance_holds_to_the_second_in_both_directions() {
    let map = headers(&pairs(ID, TS_TEXT, SIGNATURE));
    let at = |now| check(&[SECRET], &map, BODY, now);
    assert!(at(TS + TOLERANCE).is_ok());
    assert_eq!(
        at(TS + TOLERANCE + 1),
        Err(VerifyError::Stale(TOLERANCE + 1))
    );
    assert!(at(TS - TOLERANCE).is_ok());
    assert_eq!(
        at(TS - TOLERANCE - 1),
        Err(VerifyError::Future(TOLERANCE + 1))
    );
}

#[test]
fn a_stale_forgery_reads_as_a_bad_signature() {
    let map = headers(&pairs(ID, TS_TEXT, PY_SIGNATURE));
    let now = TS + 10 * TOLERANCE;
    assert_eq!(
        check(&[SECRET], &map, BODY, now),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn each_missing_header_is_named() {
    let all = pairs(ID, TS_TEXT, SIGNATURE);
    for (name, _) in all {
        let result = check(&[SECRET], &headers_without(&all, name), BODY, TS);
        assert_eq!(result, Err(VerifyError::MissingHeader(name)));
    }
}

#[test]
fn malformed_signature_lists_are_refused() {
    let valid = SIGNATURE.trim_start_matches("v1,");
    let cases = [
        ("empty", String::new()),
        ("spaces only", "   ".to_owned()),
        ("v1, alone", "v1,".to_owned()),
        ("no version", valid.to_owned()),
        (
            "bad base64",
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw!".to_owned(),
        ),
        ("truncated, unpadded", format!("v1,{}", &valid[..43])),
        ("truncated to 30 bytes", format!("v1,{}", &valid[..40])),
        (
            "33 bytes",
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3KkwA".to_owned(),
        ),
        ("hex instead of base64", format!("v1,{}", "b5".repeat(32))),
        ("only v2", format!("v2,{valid}")),
        ("upper-case version", format!("V1,{valid}")),
        ("bad v1 beside a good one", format!("v1,AAAA {SIGNATURE}")),
    ];
    for (case, signature) in cases {
        assert_malformed(
            check_headers(ID, TS_TEXT, &signature),
            "webhook-signature",
            case,
        );
    }
}

#[test]
fn malformed_ids_and_timestamps_are_refused() {
    for id in ["", "msg.1", "."] {
        assert_malformed(check_headers(id, TS_TEXT, SIGNATURE), "webhook-id", id);
    }
    for ts in [
        "",
        "hello",
        "1649367553.0",
        "-1649367553",
        "+1649367553",
        " 1649367553",
        "1e9",
        "99999999999999999999",
    ] {
        assert_malformed(check_headers(ID, ts, SIGNATURE), "webhook-timestamp", ts);
    }
}

#[test]
fn a_repeated_signing_header_is_refused() {
    let mut all = pairs(ID, TS_TEXT, SIGNATURE).to_vec();
    all.push(("webhook-signature", SIGNATURE));
    assert_malformed(
        check(&[SECRET], &headers(&all), BODY, TS),
        "webhook-signature",
        "twice",
    );
}

#[test]
fn a_rotated_secret_anywhere_in_the_list_matches() {
    let map = headers(&pairs(ID, TS_TEXT, SIGNATURE));
    assert!(check(&[PY_SECRET, SECRET], &map, BODY, TS).is_ok());
    assert!(check(&[SECRET, PY_SECRET], &map, BODY, TS).is_ok());
}

#[test]
fn other_versions_beside_a_valid_v1_are_ignored() {
    let decoy = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
    let lists = [
        format!("v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {SIGNATURE}"),
        format!("v1a,bm90IGFuIGVkMjU1MTkgc2lnbmF0dXJl {SIGNATURE}"),
        format!("{decoy} v2,whatever {SIGNATURE} {decoy}"),
        format!("{SIGNATURE}  {decoy}"),
    ];
    for list in lists {
        assert!(check_headers(ID, TS_TEXT, &list).is_ok(), "{list}");
    }
}

#[test]
fn a_list_of_wrong_v1_signatures_is_refused() {
    let decoy = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
    let list = format!("{decoy} {PY_SIGNATURE}");
    assert_eq!(
        check_headers(ID, TS_TEXT, &list),
        Err(VerifyError::BadSignature)
    );
}
