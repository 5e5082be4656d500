//! Webhook secrets: how each scheme turns its secret into an HMAC key, and
//! the start-up check that catches a mistyped secret before the first
//! delivery does. Error messages never quote a secret.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};

use super::{Scheme, VerifyError};

const WHSEC_PREFIX: &str = "whsec_";
/// The spec's range for a Standard Webhooks secret, in bytes.
const STANDARD_KEY_LEN: std::ops::RangeInclusive<usize> = 24..=64;
/// Secrets get pasted with or without their `=` padding, and the reference
/// libraries accept both; signatures are decoded strictly (canonical, padded).
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Check a secret's syntax for `scheme` at start-up (e.g. whsec_ + base64 of 24..=64 bytes for
/// standard-webhooks; non-empty for the others), so config errors show at boot, not at the first delivery.
pub fn check_secret(scheme: Scheme, secret: &SecretString) -> Result<(), VerifyError> {
    key(scheme, secret).map(drop)
}

pub(super) fn keys(
    scheme: Scheme,
    secrets: &[SecretString],
) -> Result<Vec<hmac::Key>, VerifyError> {
    if scheme == Scheme::BearerJwt {
        return Err(not_a_signature_scheme());
    }
    if secrets.is_empty() {
        return Err(VerifyError::BadSecret("no secret is configured".to_owned()));
    }
    secrets.iter().map(|secret| key(scheme, secret)).collect()
}

/// Standard Webhooks keys are the base64 after `whsec_` (optional, as in the
/// reference libraries); the others use the secret's UTF-8 bytes as they are.
pub(super) fn key(scheme: Scheme, secret: &SecretString) -> Result<hmac::Key, VerifyError> {
    let secret = secret.expose_secret();
    let bytes = match scheme {
        Scheme::BearerJwt => return Err(not_a_signature_scheme()),
        Scheme::StandardWebhooks => standard_key(secret)?,
        Scheme::HubSignature256 | Scheme::Zendesk => {
            if secret.is_empty() {
                return Err(VerifyError::BadSecret("is empty".to_owned()));
            }
            // Almost always a newline read from a secret file.
            if secret.trim() != secret {
                return Err(VerifyError::BadSecret(
                    "has leading or trailing whitespace".to_owned(),
                ));
            }
            Zeroizing::new(secret.as_bytes().to_vec())
        }
    };
    Ok(hmac::Key::new(hmac::HMAC_SHA256, &bytes))
}

fn standard_key(secret: &str) -> Result<Zeroizing<Vec<u8>>, VerifyError> {
    let encoded = secret.strip_prefix(WHSEC_PREFIX).unwrap_or(secret);
    let bytes = Zeroizing::new(
        SECRET_BASE64
            .decode(encoded)
            .map_err(|_| VerifyError::BadSecret("is not whsec_ followed by base64".to_owned()))?,
    );
    if !STANDARD_KEY_LEN.contains(&bytes.len()) {
        return Err(VerifyError::BadSecret(format!(
            "decodes to {} bytes; standard-webhooks secrets are 24 to 64",
            bytes.len()
        )));
    }
    Ok(bytes)
}

pub(super) fn not_a_signature_scheme() -> VerifyError {
    VerifyError::NotASignatureScheme(Scheme::BearerJwt.as_str())
}
