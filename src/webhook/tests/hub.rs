//! hub-signature-256: `sha256=hex(HMAC(secret, body))`, no timestamp.

use super::*;

// GitHub's documented vector (the team's `security.md` §2.2). Recompute:
// python3 -c "import hmac,hashlib; print('sha256='+hmac.new(b\"It's a Secret to Everybody\",b'Hello, World!',hashlib.sha256).hexdigest())"
const SECRET: &str = "It's a Secret to Everybody";
const BODY: &[u8] = b"Hello, World!";
const SIGNATURE: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
// python3 -c "import hashlib; print(hashlib.sha256(b'Hello, World!').hexdigest())"
const BODY_ID: &str = "sha256:dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f";
// The correct legacy SHA-1 value, which must still be refused. Recompute:
// python3 -c "import hmac,hashlib; print('sha1='+hmac.new(b\"It's a Secret to Everybody\",b'Hello, World!',hashlib.sha1).hexdigest())"
const SHA1_SIGNATURE: &str = "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59";

const HEADER: &str = "x-hub-signature-256";
const LEGACY: &str = "x-hub-signature";
/// Any time: the scheme signs none.
const NOW: i64 = 1_700_000_000;

fn check(secrets: &[&str], map: &HeaderMap, body: &[u8]) -> Result<Verified, VerifyError> {
    let secrets: Vec<SecretString> = secrets.iter().map(|s| secret(s)).collect();
    verify(Scheme::HubSignature256, &secrets, map, body, NOW, TOLERANCE)
}

fn check_value(value: &str) -> Result<Verified, VerifyError> {
    check(&[SECRET], &headers(&[(HEADER, value)]), BODY)
}

#[test]
fn known_answer_verifies_and_yields_the_body_hash() {
    let expected = Verified {
        delivery_id: BODY_ID.to_owned(),
        timestamp: None,
    };
    assert_eq!(check_value(SIGNATURE), Ok(expected));
}

#[test]
fn upper_case_hex_is_accepted() {
    let upper = format!(
        "sha256={}",
        SIGNATURE["sha256=".len()..].to_ascii_uppercase()
    );
    assert!(check_value(&upper).is_ok());
}

#[test]
fn jira_sha256_in_x_hub_signature_is_accepted() {
    let map = headers(&[(LEGACY, SIGNATURE)]);
    assert_eq!(
        check(&[SECRET], &map, BODY).map(|v| v.delivery_id),
        Ok(BODY_ID.to_owned())
    );
}

#[test]
fn sha1_in_x_hub_signature_is_refused_even_when_correct() {
    let map = headers(&[(LEGACY, SHA1_SIGNATURE)]);
    assert_malformed(check(&[SECRET], &map, BODY), LEGACY, "sha1");
    let message = check(&[SECRET], &map, BODY)
        .expect_err("refused")
        .to_string();
    assert!(message.contains("SHA-1 is refused"), "{message}");
}

#[test]
fn x_hub_signature_256_wins_over_x_hub_signature() {
    let wrong = format!("sha256={}", "00".repeat(32));
    let map = headers(&[(HEADER, &wrong), (LEGACY, SIGNATURE)]);
    assert_eq!(check(&[SECRET], &map, BODY), Err(VerifyError::BadSignature));
    // GitHub sends both, the legacy one with SHA-1: the SHA-256 one decides.
    let map = headers(&[(HEADER, SIGNATURE), (LEGACY, SHA1_SIGNATURE)]);
    assert!(check(&[SECRET], &map, BODY).is_ok());
}

#[test]
fn wrong_secret_or_another_sources_secret_is_refused() {
    let map = headers(&[(HEADER, SIGNATURE)]);
    let others = [
        "It's a Secret to Everybody!",
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    ];
    for other in others {
        assert_eq!(
            check(&[other], &map, BODY),
            Err(VerifyError::BadSignature),
            "{other}"
        );
    }
}

#[test]
fn any_flipped_body_byte_is_refused() {
    let map = headers(&[(HEADER, SIGNATURE)]);
    for index in 0..BODY.len() {
        let result = check(&[SECRET], &map, &flipped(BODY, index));
        assert_eq!(result, Err(VerifyError::BadSignature), "byte {index}");
    }
    assert_eq!(check(&[SECRET], &map, b""), Err(VerifyError::BadSignature));
}

#[test]
fn any_flipped_signature_digit_is_refused() {
    for index in "sha256=".len()..SIGNATURE.len() {
        let mut value = SIGNATURE.as_bytes().to_vec();
        value[index] = if value[index] == b'0' { b'1' } else { b'0' };
        let value = String::from_utf8(value).expect("ASCII");
        assert_eq!(
            check_value(&value),
            Err(VerifyError::BadSignature),
            "digit {index}"
        );
    }
}

#[test]
fn missing_header_is_named() {
    let result = check(&[SECRET], &HeaderMap::new(), BODY);
    assert_eq!(result, Err(VerifyError::MissingHeader(HEADER)));
}

#[test]
fn malformed_values_are_refused() {
    let hex = &SIGNATURE["sha256=".len()..];
    let cases = [
        ("empty", String::new()),
        ("sha256= alone", "sha256=".to_owned()),
        ("no prefix", hex.to_owned()),
        ("upper-case prefix", format!("SHA256={hex}")),
        ("sha1 prefix", format!("sha1={hex}")),
        ("truncated by one digit", format!("sha256={}", &hex[..63])),
        ("truncated by one byte", format!("sha256={}", &hex[..62])),
        ("one byte too long", format!("sha256={hex}00")),
        ("not hex", format!("sha256={}g", &hex[..63])),
        (
            "base64 instead of hex",
            "sha256=dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc=".to_owned(),
        ),
        ("space inside", format!("sha256= {}", &hex[..63])),
    ];
    for (case, value) in cases {
        assert_malformed(check_value(&value), HEADER, case);
    }
}

#[test]
fn a_rotated_secret_anywhere_in_the_list_matches() {
    let map = headers(&[(HEADER, SIGNATURE)]);
    assert!(check(&["old secret", SECRET], &map, BODY).is_ok());
    assert!(check(&[SECRET, "new secret"], &map, BODY).is_ok());
}

#[test]
fn a_replay_at_any_time_verifies_with_the_same_id() {
    let map = headers(&[(HEADER, SIGNATURE)]);
    let secrets = [secret(SECRET)];
    for now in [0, NOW, i64::MAX] {
        let verified = verify(Scheme::HubSignature256, &secrets, &map, BODY, now, 0);
        assert_eq!(verified.map(|v| v.delivery_id), Ok(BODY_ID.to_owned()));
    }
}
