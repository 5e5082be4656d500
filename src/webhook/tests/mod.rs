//! Known-answer vectors, recomputed independently with Python's `hmac` (the
//! one-liner beside each vector), and negative cases for every scheme.
//! Each test names the rule it pins.

mod hub;
mod secrets;
mod standard;
mod zendesk;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::SecretString;

use super::{Scheme, Verified, VerifyError, check_secret, sign_standard, verify};

/// The service's tolerance (the team's `security.md` §2.4).
const TOLERANCE: i64 = 300;

fn secret(text: &str) -> SecretString {
    SecretString::from(text)
}

/// Headers in order; a repeated name is appended, not replaced.
fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
        let value = HeaderValue::from_bytes(value.as_bytes()).expect("a valid header value");
        map.append(name, value);
    }
    map
}

/// `headers` without the one named `skip`.
fn headers_without(pairs: &[(&str, &str)], skip: &str) -> HeaderMap {
    let kept: Vec<(&str, &str)> = pairs.iter().copied().filter(|(n, _)| *n != skip).collect();
    headers(&kept)
}

/// The body with byte `index` changed.
fn flipped(body: &[u8], index: usize) -> Vec<u8> {
    let mut body = body.to_vec();
    body[index] ^= 0x01;
    body
}

/// A base64 signature with byte `index` of its decoded value changed.
fn flipped_base64(signature: &str, index: usize) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let decoded = STANDARD.decode(signature).expect("a base64 signature");
    STANDARD.encode(flipped(&decoded, index))
}

fn assert_malformed(result: Result<Verified, VerifyError>, header: &str, case: &str) {
    match result {
        Err(VerifyError::Malformed(name, _)) if name == header => {}
        other => panic!("{case}: expected Malformed({header}), got {other:?}"),
    }
}
