//! The three HMAC-SHA256 schemes and the outbound Standard Webhooks signer.

use aws_lc_rs::{constant_time, digest, hmac};
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::secret::{key, keys, not_a_signature_scheme};
use super::{Scheme, Verified, VerifyError};

const WEBHOOK_ID: &str = "webhook-id";
const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
const WEBHOOK_SIGNATURE: &str = "webhook-signature";
const HUB_SIGNATURE_256: &str = "x-hub-signature-256";
/// Legacy GitHub header (SHA-1), reused with `sha256=` by Jira Cloud admin webhooks.
const HUB_SIGNATURE: &str = "x-hub-signature";
const ZENDESK_SIGNATURE: &str = "x-zendesk-webhook-signature";
const ZENDESK_TIMESTAMP: &str = "x-zendesk-webhook-signature-timestamp";

/// HMAC-SHA256 output; every signature must decode to exactly this many bytes.
const TAG_LEN: usize = 32;

type Tag = [u8; TAG_LEN];

/// Verify `body` (the raw bytes, before any JSON parsing) and `headers` against any of `secrets`
/// (several for rotation without downtime), at `now` (unix seconds), with `tolerance_secs`
/// applied in both directions where the scheme signs a timestamp.
pub fn verify(
    scheme: Scheme,
    secrets: &[SecretString],
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<Verified, VerifyError> {
    let keys = keys(scheme, secrets)?;
    match scheme {
        Scheme::StandardWebhooks => standard(&keys, headers, body, now, tolerance_secs),
        Scheme::HubSignature256 => hub(&keys, headers, body),
        Scheme::Zendesk => zendesk(&keys, headers, body, now, tolerance_secs),
        Scheme::BearerJwt => Err(not_a_signature_scheme()),
    }
}

/// Standard Webhooks signature header value for an outbound message: "v1,<base64>".
pub fn sign_standard(
    secret: &SecretString,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, VerifyError> {
    let key = key(Scheme::StandardWebhooks, secret)?;
    check_id(msg_id)?;
    if timestamp < 0 {
        return Err(malformed(WEBHOOK_TIMESTAMP, "is negative"));
    }
    let timestamp = timestamp.to_string();
    let tag = mac(
        &key,
        &[msg_id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
    );
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

fn standard(
    keys: &[hmac::Key],
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<Verified, VerifyError> {
    let id = header(headers, WEBHOOK_ID)?;
    let ts_text = header(headers, WEBHOOK_TIMESTAMP)?;
    let signatures = standard_signatures(header(headers, WEBHOOK_SIGNATURE)?)?;
    check_id(id)?;
    let ts = unix_seconds(ts_text)
        .ok_or_else(|| malformed(WEBHOOK_TIMESTAMP, "is not integer unix seconds"))?;
    let signed = [id.as_bytes(), b".", ts_text.as_bytes(), b".", body];
    check_signatures(keys, &signed, &signatures)?;
    check_age(ts, now, tolerance_secs)?;
    Ok(Verified {
        delivery_id: id.to_owned(),
        timestamp: Some(ts),
    })
}

/// The `v1` entries of a space-separated `webhook-signature` list. Other
/// versions (`v1a` is Ed25519) are skipped; a `v1` entry that is not base64
/// of exactly 32 bytes makes the whole header malformed, since no genuine
/// sender produces one.
fn standard_signatures(value: &str) -> Result<Vec<Tag>, VerifyError> {
    let mut found = Vec::new();
    for entry in value.split(' ').filter(|entry| !entry.is_empty()) {
        let (version, signature) = entry
            .split_once(',')
            .ok_or_else(|| malformed(WEBHOOK_SIGNATURE, "an entry is not version,signature"))?;
        if version == "v1" {
            found.push(to_tag(WEBHOOK_SIGNATURE, STANDARD.decode(signature).ok())?);
        }
    }
    if found.is_empty() {
        return Err(malformed(WEBHOOK_SIGNATURE, "has no v1 entry"));
    }
    Ok(found)
}

/// The ids of standard-webhooks end up in the signed content between dots.
fn check_id(id: &str) -> Result<(), VerifyError> {
    if id.is_empty() {
        return Err(malformed(WEBHOOK_ID, "is empty"));
    }
    if id.contains('.') {
        return Err(malformed(WEBHOOK_ID, "contains '.'"));
    }
    Ok(())
}

fn hub(keys: &[hmac::Key], headers: &HeaderMap, body: &[u8]) -> Result<Verified, VerifyError> {
    let (name, value) = hub_header(headers)?;
    let hex = value
        .strip_prefix("sha256=")
        .ok_or_else(|| malformed(name, "does not start with sha256="))?;
    let signature = to_tag(name, hex_decode(hex))?;
    check_signatures(keys, &[body], &[signature])?;
    Ok(Verified {
        delivery_id: sha256_id(&[body]),
        timestamp: None,
    })
}

/// `X-Hub-Signature-256` wins; `X-Hub-Signature` is used only when it holds
/// `sha256=` (Jira Cloud). Its GitHub meaning, SHA-1, is never verified.
fn hub_header(headers: &HeaderMap) -> Result<(&'static str, &str), VerifyError> {
    if let Some(value) = optional_header(headers, HUB_SIGNATURE_256)? {
        return Ok((HUB_SIGNATURE_256, value));
    }
    match optional_header(headers, HUB_SIGNATURE)? {
        Some(value) if value.starts_with("sha256=") => Ok((HUB_SIGNATURE, value)),
        Some(_) => Err(malformed(
            HUB_SIGNATURE,
            "is not sha256= (SHA-1 is refused)",
        )),
        None => Err(VerifyError::MissingHeader(HUB_SIGNATURE_256)),
    }
}

fn zendesk(
    keys: &[hmac::Key],
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<Verified, VerifyError> {
    let signature = header(headers, ZENDESK_SIGNATURE)?;
    let ts_text = header(headers, ZENDESK_TIMESTAMP)?;
    let signature = to_tag(ZENDESK_SIGNATURE, STANDARD.decode(signature).ok())?;
    let ts = zendesk_time(ts_text)?;
    // The MAC covers the header's exact text, whatever its format.
    let signed = [ts_text.as_bytes(), body];
    check_signatures(keys, &signed, &[signature])?;
    check_age(ts, now, tolerance_secs)?;
    Ok(Verified {
        delivery_id: sha256_id(&signed),
        timestamp: Some(ts),
    })
}

/// The team's peer notes (`peers.md`) does not fix this header's format and Zendesk's examples
/// show ISO 8601 (`2021-03-23T20:17:14Z`), so both RFC 3339 and integer unix
/// seconds are accepted.
fn zendesk_time(text: &str) -> Result<i64, VerifyError> {
    unix_seconds(text)
        .or_else(|| Some(OffsetDateTime::parse(text, &Rfc3339).ok()?.unix_timestamp()))
        .ok_or_else(|| malformed(ZENDESK_TIMESTAMP, "is neither RFC 3339 nor unix seconds"))
}

/// Digits only: no sign, no fraction, no spaces.
fn unix_seconds(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn check_age(ts: i64, now: i64, tolerance_secs: i64) -> Result<(), VerifyError> {
    let age = now.saturating_sub(ts);
    if age > tolerance_secs {
        return Err(VerifyError::Stale(age));
    }
    if age.saturating_neg() > tolerance_secs {
        return Err(VerifyError::Future(age.saturating_neg()));
    }
    Ok(())
}

/// Any key against any signature; each comparison is constant time.
fn check_signatures(
    keys: &[hmac::Key],
    signed: &[&[u8]],
    signatures: &[Tag],
) -> Result<(), VerifyError> {
    let mut matched = false;
    for key in keys {
        let expected = mac(key, signed);
        for signature in signatures {
            matched |= constant_time::verify_slices_are_equal(&expected, signature).is_ok();
        }
    }
    if matched {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

fn mac(key: &hmac::Key, parts: &[&[u8]]) -> Tag {
    let mut context = hmac::Context::with_key(key);
    for part in parts {
        context.update(part);
    }
    let mut tag = [0; TAG_LEN];
    tag.copy_from_slice(context.sign().as_ref());
    tag
}

fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, VerifyError> {
    optional_header(headers, name)?.ok_or(VerifyError::MissingHeader(name))
}

/// A repeated signing header is refused: which copy a proxy or framework
/// picks is not ours to guess.
fn optional_header<'h>(
    headers: &'h HeaderMap,
    name: &'static str,
) -> Result<Option<&'h str>, VerifyError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(malformed(name, "appears more than once"));
    }
    let value = value
        .to_str()
        .map_err(|_| malformed(name, "is not visible ASCII"))?;
    Ok(Some(value))
}

fn to_tag(name: &'static str, decoded: Option<Vec<u8>>) -> Result<Tag, VerifyError> {
    let decoded = decoded.ok_or_else(|| malformed(name, "signature does not decode"))?;
    Tag::try_from(decoded.as_slice()).map_err(|_| {
        malformed(
            name,
            &format!("signature is {} bytes, not 32", decoded.len()),
        )
    })
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let pairs = text.as_bytes().chunks_exact(2);
    pairs
        .map(|p| Some((nibble(p[0])? << 4) | nibble(p[1])?))
        .collect()
}

/// "sha256:" + lowercase hex of SHA-256 over `parts`, for schemes that sign no id.
pub fn sha256_id(parts: &[&[u8]]) -> String {
    let mut context = digest::Context::new(&digest::SHA256);
    for part in parts {
        context.update(part);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::from("sha256:");
    for byte in context.finish().as_ref() {
        id.push(char::from(HEX[usize::from(byte >> 4)]));
        id.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    id
}

fn malformed(name: &'static str, why: &str) -> VerifyError {
    VerifyError::Malformed(name, why.to_owned())
}
