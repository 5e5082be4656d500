//! zendesk: `base64(HMAC(secret, timestamp + body))`, secret as UTF-8 bytes.

use super::*;

// Computed here, independently of the code under test; the secret is Zendesk's
// test-webhook secret ("this_secret_is_for_testing_only"), used as its UTF-8 text. Recompute:
// python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==',b'2021-03-23T20:17:14Z'+b'{\"ticket\":{\"id\":35436}}',hashlib.sha256).digest()).decode())"
const SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
const TS_TEXT: &str = "2021-03-23T20:17:14Z";
const BODY: &[u8] = br#"{"ticket":{"id":35436}}"#;
const SIGNATURE: &str = "G/oxSktEDQXJ1sMiDI88NJksqxAgU3QEcykWVFuqMGk=";
// python3 -c "import calendar,time; print(calendar.timegm(time.strptime('2021-03-23T20:17:14Z','%Y-%m-%dT%H:%M:%SZ')))"
const TS: i64 = 1616530634;
// python3 -c "import hashlib; print(hashlib.sha256(b'2021-03-23T20:17:14Z'+b'{\"ticket\":{\"id\":35436}}').hexdigest())"
const DELIVERY_ID: &str = "sha256:07bf5d2d2a86ac866b55e8cb770b95c8b73c921306611aa6dd7693cf54f7aa8a";
// Same body, timestamp as unix seconds. Recompute:
// python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==',b'1616530634'+b'{\"ticket\":{\"id\":35436}}',hashlib.sha256).digest()).decode())"
const UNIX_SIGNATURE: &str = "XOx24FbLDSAYu0i8Y7dr08jno24YElzGnfS4rKd1q+w=";
// Empty body (GET/DELETE). Recompute:
// python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==',b'2021-03-23T20:17:14Z',hashlib.sha256).digest()).decode())"
const EMPTY_BODY_SIGNATURE: &str = "+4eJgYYO/9lFhI1BiHG1Krwh2h9Zkftu4xDOghAg1CM=";

const SIGNATURE_HEADER: &str = "x-zendesk-webhook-signature";
const TIMESTAMP_HEADER: &str = "x-zendesk-webhook-signature-timestamp";

fn pairs<'a>(signature: &'a str, ts: &'a str) -> [(&'a str, &'a str); 2] {
    [(SIGNATURE_HEADER, signature), (TIMESTAMP_HEADER, ts)]
}

fn check(
    secrets: &[&str],
    map: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Verified, VerifyError> {
    let secrets: Vec<SecretString> = secrets.iter().map(|s| secret(s)).collect();
    verify(Scheme::Zendesk, &secrets, map, body, now, TOLERANCE)
}

fn check_headers(signature: &str, ts: &str) -> Result<Verified, VerifyError> {
    check(&[SECRET], &headers(&pairs(signature, ts)), BODY, TS)
}

#[test]
fn known_answer_verifies_and_yields_the_hash_of_timestamp_and_body() {
    let expected = Verified {
        delivery_id: DELIVERY_ID.to_owned(),
        timestamp: Some(TS),
    };
    assert_eq!(check_headers(SIGNATURE, TS_TEXT), Ok(expected));
}

#[test]
fn unix_seconds_timestamp_verifies() {
    let verified = check_headers(UNIX_SIGNATURE, "1616530634").expect("genuine");
    assert_eq!(verified.timestamp, Some(TS));
}

#[test]
fn empty_body_verifies() {
    let map = headers(&pairs(EMPTY_BODY_SIGNATURE, TS_TEXT));
    assert!(check(&[SECRET], &map, b"", TS).is_ok());
}

#[test]
fn wrong_secret_or_another_sources_secret_is_refused() {
    let map = headers(&pairs(SIGNATURE, TS_TEXT));
    let others = [
        "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=",
        "It's a Secret to Everybody",
    ];
    for other in others {
        assert_eq!(
            check(&[other], &map, BODY, TS),
            Err(VerifyError::BadSignature),
            "{other}"
        );
    }
}

#[test]
fn any_flipped_body_byte_is_refused() {
    let map = headers(&pairs(SIGNATURE, TS_TEXT));
    for index in 0..BODY.len() {
        let result = check(&[SECRET], &map, &flipped(BODY, index), TS);
        assert_eq!(result, Err(VerifyError::BadSignature), "byte {index}");
    }
}

#[test]
fn any_flipped_signature_byte_is_refused() {
    for index in 0..32 {
        let result = check_headers(&flipped_base64(SIGNATURE, index), TS_TEXT);
        assert_eq!(result, Err(VerifyError::BadSignature), "byte {index}");
    }
}

#[test]
fn flipped_timestamp_or_other_text_for_the_same_instant_is_refused() {
    let cases = [
        "2021-03-23T20:17:15Z",
        "2021-03-23T20:17:14+00:00",
        "1616530634",
    ];
    for ts in cases {
        assert_eq!(
            check_headers(SIGNATURE, ts),
            Err(VerifyError::BadSignature),
            "{ts}"
        );
    }
}

#[test]
fn tolerance_holds_to_the_second_in_both_directions() {
    let map = headers(&pairs(SIGNATURE, TS_TEXT));
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
fn each_missing_header_is_named() {
    let all = pairs(SIGNATURE, TS_TEXT);
    for (name, _) in all {
        let result = check(&[SECRET], &headers_without(&all, name), BODY, TS);
        assert_eq!(result, Err(VerifyError::MissingHeader(name)));
    }
}

#[test]
fn malformed_signatures_are_refused() {
    let cases = [
        ("empty", String::new()),
        ("bad base64", SIGNATURE.replace('/', "!")),
        ("unpadded", SIGNATURE.trim_end_matches('=').to_owned()),
        ("truncated to 30 bytes", SIGNATURE[..40].to_owned()),
        (
            "hex instead of base64",
            "1bfa314a4b440d05c9d6c3220c8f3c34992cab1020537404732916545baa3069".to_owned(),
        ),
        ("prefixed", format!("sha256={SIGNATURE}")),
    ];
    for (case, signature) in cases {
        assert_malformed(check_headers(&signature, TS_TEXT), SIGNATURE_HEADER, case);
    }
}

#[test]
fn malformed_timestamps_are_refused() {
    for ts in [
        "",
        "yesterday",
        "2021-03-23 20:17:14",
        "2021-03-23T20:17:14",
        "-1616530634",
        "1616530634.5",
    ] {
        assert_malformed(check_headers(SIGNATURE, ts), TIMESTAMP_HEADER, ts);
    }
}

#[test]
fn a_rotated_secret_anywhere_in_the_list_matches() {
    let map = headers(&pairs(SIGNATURE, TS_TEXT));
    assert!(check(&["old secret", SECRET], &map, BODY, TS).is_ok());
    assert!(check(&[SECRET, "new secret"], &map, BODY, TS).is_ok());
}
