//! Certificate credentials of an app registration (`keyCredentials`), as the token
//! endpoint needs them to verify a client assertion: the certificate's thumbprints and
//! its RSA public key.
//!
//! The emulator does not parse X.509: Entra finds the key by thumbprint, and a
//! thumbprint is only a hash of the certificate's DER bytes, so any bytes serve as a
//! test "certificate". The public key is given separately, as a SPKI PEM.

use aws_lc_rs::digest::{Algorithm, SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::DecodingKey;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Emulator;

/// One `keyCredentials` entry of a seed app. `customKeyIdentifier` is the SHA-1
/// thumbprint in hex, as the Entra portal shows it; `certificateDerBase64` (the
/// certificate itself) also yields the SHA-256 thumbprint PS256 assertions name. At
/// least one of the two is required; when both are given they must agree.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyCredentialSeed {
    #[serde(default)]
    pub custom_key_identifier: Option<String>,
    pub public_key_pem: String,
    #[serde(default)]
    pub certificate_der_base64: Option<String>,
    /// RFC 3339; after it the key no longer signs in.
    #[serde(default)]
    pub end_date_time: Option<String>,
}

/// A registered certificate, ready for lookup by thumbprint.
#[derive(Clone, Debug)]
pub(super) struct KeyCredential {
    pub(super) sha1: Vec<u8>,
    /// Known only when the certificate bytes were given.
    pub(super) sha256: Option<Vec<u8>>,
    pub(super) public_key_pem: String,
    pub(super) end: Option<OffsetDateTime>,
}

impl KeyCredential {
    pub(super) fn from_certificate(der: &[u8], public_key_pem: &str) -> KeyCredential {
        KeyCredential {
            sha1: thumbprint(&SHA1_FOR_LEGACY_USE_ONLY, der),
            sha256: Some(thumbprint(&SHA256, der)),
            public_key_pem: public_key_pem.to_owned(),
            end: None,
        }
    }

    /// The checked form of a seed entry; the message names the problem.
    pub(super) fn from_seed(seed: &KeyCredentialSeed) -> Result<KeyCredential, String> {
        DecodingKey::from_rsa_pem(seed.public_key_pem.as_bytes())
            .map_err(|e| format!("publicKeyPem is not an RSA public key PEM: {e}"))?;
        let der = seed
            .certificate_der_base64
            .as_deref()
            .map(|b64| STANDARD.decode(b64.trim()))
            .transpose()
            .map_err(|e| format!("certificateDerBase64 is not base64: {e}"))?;
        let declared = seed
            .custom_key_identifier
            .as_deref()
            .map(|hex| {
                from_hex(hex).ok_or(format!("customKeyIdentifier '{hex}' is not a hex SHA-1"))
            })
            .transpose()?;
        let mut key = match (der, declared) {
            (Some(der), declared) => {
                let key = KeyCredential::from_certificate(&der, &seed.public_key_pem);
                if declared.is_some_and(|d| d != key.sha1) {
                    return Err(
                        "customKeyIdentifier is not the SHA-1 of certificateDerBase64".into(),
                    );
                }
                key
            }
            (None, Some(sha1)) => KeyCredential {
                sha1,
                sha256: None,
                public_key_pem: seed.public_key_pem.clone(),
                end: None,
            },
            (None, None) => {
                return Err("customKeyIdentifier or certificateDerBase64 is required".into());
            }
        };
        key.end = seed
            .end_date_time
            .as_deref()
            .map(|end| OffsetDateTime::parse(end, &Rfc3339))
            .transpose()
            .map_err(|e| format!("endDateTime is not RFC 3339: {e}"))?;
        Ok(key)
    }

    pub(super) fn is_expired(&self) -> bool {
        self.end.is_some_and(|end| end <= OffsetDateTime::now_utc())
    }

    /// The thumbprint as Entra quotes it in errors: upper-case hex SHA-1.
    pub(super) fn hex_sha1(&self) -> String {
        hex(&self.sha1)
    }
}

/// Every seeded key credential of every app; a seed that fails here is refused.
pub(super) fn validate(keys: &[KeyCredentialSeed]) -> Result<(), String> {
    for (i, key) in keys.iter().enumerate() {
        KeyCredential::from_seed(key).map_err(|e| format!("keyCredentials[{i}]: {e}"))?;
    }
    Ok(())
}

/// The usable entries of a seed app; `validate` reports the others when the seed file
/// is loaded, so here they are only skipped (with a warning).
pub(super) fn from_seeds(client_id: &str, keys: &[KeyCredentialSeed]) -> Vec<KeyCredential> {
    keys.iter()
        .filter_map(|seed| {
            KeyCredential::from_seed(seed)
                .inspect_err(|error| tracing::warn!(client_id, %error, "key credential skipped"))
                .ok()
        })
        .collect()
}

/// Upper-case hex, the way Entra prints thumbprints.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn thumbprint(algorithm: &'static Algorithm, der: &[u8]) -> Vec<u8> {
    digest(algorithm, der).as_ref().to_vec()
}

/// A 20-byte SHA-1 from hex; either case, as people copy it from the portal.
fn from_hex(hex: &str) -> Option<Vec<u8>> {
    let hex = hex.trim();
    if hex.len() != 40 || !hex.is_ascii() {
        return None;
    }
    (0..40)
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

impl Emulator {
    /// Registers a certificate on an app, as uploading it in the portal does: assertions
    /// naming its SHA-256 (`x5t#S256`) or SHA-1 (`x5t`) thumbprint are then verified
    /// with `public_key_pem` (SPKI, `-----BEGIN PUBLIC KEY-----`). `certificate_der` is
    /// only hashed, never parsed. Unknown apps are ignored.
    pub fn add_certificate(&self, client_id: &str, certificate_der: &[u8], public_key_pem: &str) {
        let key = KeyCredential::from_certificate(certificate_der, public_key_pem);
        match self.lock().app_mut(client_id) {
            Some(app) => app.key_credentials.push(key),
            None => tracing::warn!(client_id, "add_certificate: no such app in the emulator"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::test_keys::test_key;
    use super::*;

    fn seed(id: Option<&str>, der: Option<&str>) -> KeyCredentialSeed {
        KeyCredentialSeed {
            custom_key_identifier: id.map(str::to_owned),
            public_key_pem: test_key(0).public_pem.clone(),
            certificate_der_base64: der.map(str::to_owned),
            end_date_time: None,
        }
    }

    #[test]
    fn thumbprints_come_from_the_certificate_bytes() {
        // "abc" (YWJj): the FIPS 180 SHA-1 test vector.
        let key = KeyCredential::from_seed(&seed(None, Some("YWJj"))).expect("valid");
        assert_eq!(key.hex_sha1(), "A9993E364706816ABA3E25717850C26C9CD0D89D");
        assert_eq!(key.sha256.as_ref().map(Vec::len), Some(32));
        let sha1_only = seed(Some("a9993e364706816aba3e25717850c26c9cd0d89d"), None);
        assert_eq!(
            KeyCredential::from_seed(&sha1_only).expect("valid").sha1,
            key.sha1
        );
        let both = seed(
            Some("A9993E364706816ABA3E25717850C26C9CD0D89D"),
            Some("YWJj"),
        );
        assert!(KeyCredential::from_seed(&both).is_ok());
    }

    #[test]
    fn inconsistent_or_incomplete_entries_are_refused() {
        let wrong = seed(
            Some("0000000000000000000000000000000000000000"),
            Some("YWJj"),
        );
        assert!(KeyCredential::from_seed(&wrong).is_err());
        assert!(KeyCredential::from_seed(&seed(None, None)).is_err());
        assert!(KeyCredential::from_seed(&seed(Some("xyz"), None)).is_err());
        let mut bad_pem = seed(None, Some("YWJj"));
        bad_pem.public_key_pem = "not a key".into();
        assert!(KeyCredential::from_seed(&bad_pem).is_err());
        let mut bad_date = seed(None, Some("YWJj"));
        bad_date.end_date_time = Some("tomorrow".into());
        assert!(KeyCredential::from_seed(&bad_date).is_err());
    }
}
