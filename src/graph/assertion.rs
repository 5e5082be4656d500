//! The client assertion for certificate credentials (graph.md §6.4): a JWT
//! signed with the app's private key, naming the certificate by thumbprint.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::GraphError;

/// Entra accepts up to 10 minutes; short limits the use of a leaked one.
const LIFETIME_SECS: u64 = 300;

/// Signature of the client assertion: PS256 + `x5t#S256` is what Entra
/// documents today, RS256 + `x5t` (SHA-1) what older docs and libraries use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssertionAlg {
    #[default]
    Ps256,
    Rs256,
}

impl std::str::FromStr for AssertionAlg {
    type Err = String;

    fn from_str(s: &str) -> Result<AssertionAlg, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PS256" => Ok(AssertionAlg::Ps256),
            "RS256" => Ok(AssertionAlg::Rs256),
            other => Err(format!("{other:?} is not PS256 or RS256")),
        }
    }
}

/// Signs assertions; the key is parsed once, at client construction.
pub(crate) struct Signer {
    key: EncodingKey,
    header: Header,
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: u64,
    iat: u64,
    exp: u64,
}

impl Signer {
    pub(crate) fn new(
        private_key_pem: &SecretString,
        certificate_der: &[u8],
        alg: AssertionAlg,
    ) -> Result<Signer, GraphError> {
        let key = EncodingKey::from_rsa_pem(private_key_pem.expose_secret().as_bytes())
            .map_err(|e| GraphError::Decode(format!("client private key: {e}")))?;
        let mut header = Header::new(match alg {
            AssertionAlg::Ps256 => Algorithm::PS256,
            AssertionAlg::Rs256 => Algorithm::RS256,
        });
        header.typ = Some("JWT".into());
        match alg {
            AssertionAlg::Ps256 => {
                header.x5t_s256 = Some(thumbprint(&digest::SHA256, certificate_der));
            }
            AssertionAlg::Rs256 => {
                header.x5t = Some(thumbprint(
                    &digest::SHA1_FOR_LEGACY_USE_ONLY,
                    certificate_der,
                ));
            }
        }
        let signer = Signer { key, header };
        // Sign once now: a key that parses but cannot sign (wrong type, too
        // short) should stop startup, not the first reset.
        signer.sign("self-test", "self-test")?;
        Ok(signer)
    }

    /// A fresh assertion for the token endpoint at `audience`.
    pub(crate) fn sign(&self, audience: &str, client_id: &str) -> Result<SecretString, GraphError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            aud: audience,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now,
            iat: now,
            exp: now + LIFETIME_SECS,
        };
        jsonwebtoken::encode(&self.header, &claims, &self.key)
            .map(SecretString::from)
            // Not a Graph answer: reported as a token failure, so the reset
            // is known not to have happened.
            .map_err(|e| GraphError::Token {
                status: 0,
                error: format!("client_assertion_signing_failed: {e}"),
                codes: Vec::new(),
            })
    }
}

/// base64url (no padding) of the digest of the certificate's DER bytes.
fn thumbprint(alg: &'static digest::Algorithm, der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(alg, der))
}

/// The DER bytes of the first `label` block of a PEM text, e.g. the leaf
/// certificate of a chain. A tiny reader: base64 between the markers.
fn pem_block(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD.decode(b64).ok().filter(|der| !der.is_empty())
}

/// The first certificate of a PEM file, DER-encoded.
pub fn certificate_der_from_pem(pem: &str) -> Option<Vec<u8>> {
    pem_block(pem, "CERTIFICATE")
}

/// Whether `private_key_pem` is an RSA key (PKCS#1 or PKCS#8 PEM) that can
/// sign assertions with `alg`; the error says why not.
pub fn check_private_key(private_key_pem: &SecretString, alg: AssertionAlg) -> Result<(), String> {
    Signer::new(private_key_pem, b"check", alg)
        .map(drop)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn thumbprints_are_base64url_of_the_known_digests() {
        // FIPS 180 test vectors for "abc".
        let sha1 = URL_SAFE_NO_PAD.decode(thumbprint(&digest::SHA1_FOR_LEGACY_USE_ONLY, b"abc"));
        assert_eq!(
            hex(&sha1.unwrap()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let sha256 = thumbprint(&digest::SHA256, b"abc");
        assert!(!sha256.contains(['+', '/', '=']), "base64url, unpadded");
        assert_eq!(
            hex(&URL_SAFE_NO_PAD.decode(sha256).unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn pem_reader_takes_the_first_block_of_its_label() {
        let pem = "junk\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n\
                   -----BEGIN CERTIFICATE-----\nAQID\nBA==\n-----END CERTIFICATE-----\n\
                   -----BEGIN CERTIFICATE-----\nBQY=\n-----END CERTIFICATE-----\n";
        assert_eq!(certificate_der_from_pem(pem), Some(vec![1, 2, 3, 4]));
        assert_eq!(certificate_der_from_pem("no pem here"), None);
        assert_eq!(
            certificate_der_from_pem("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"),
            None
        );
    }

    #[test]
    fn a_key_that_is_not_rsa_pem_is_refused() {
        let bad =
            SecretString::from("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----");
        assert!(check_private_key(&bad, AssertionAlg::Ps256).is_err());
    }
}
