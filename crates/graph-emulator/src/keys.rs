//! The RSA keys that sign access tokens for APIs of the emulated tenant (RS256), and
//! their public halves as a JWK set, the way Entra publishes them at
//! `/{tenant}/discovery/v2.0/keys`.
//!
//! Keys are random per emulator, so a token from one emulator never validates at another.
//! The first key is generated on first use rather than at construction: an RSA-2048
//! key takes about 0.2 s in a debug build, and most emulators (every Graph-only test)
//! never need one.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Value, json};

/// Why a key could not be made or used. Neither should happen outside a broken build
/// or an exhausted entropy source; callers answer with a server error.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("RSA key generation failed")]
    Generate,
    #[error("RSA key export failed")]
    Export,
    #[error("RSA key import failed: {0}")]
    Import(jsonwebtoken::errors::Error),
    #[error("token signing failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// One signing key: the private half in the form `jsonwebtoken` signs with, and the
/// public JWK members.
struct SigningKey {
    kid: String,
    private: EncodingKey,
    n: String,
    e: String,
}

/// Every published key, oldest first; the last one signs.
#[derive(Default)]
pub(super) struct SigningKeys {
    keys: Vec<SigningKey>,
}

impl SigningKeys {
    /// Signs `claims` as an RS256 JWT with the current key; the header carries `typ`
    /// and `kid` and, as in Entra's v2.0 tokens, no `x5t`.
    pub(super) fn sign(&mut self, claims: &impl Serialize) -> Result<String, KeyError> {
        let key = self.current()?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &key.private)?)
    }

    /// `{"keys":[...]}` with the current key first. `issuer` is the per-key `issuer`
    /// member Entra's v2.0 key documents carry.
    pub(super) fn jwks(&mut self, issuer: &str) -> Result<Value, KeyError> {
        self.current()?;
        let keys: Vec<Value> = self.keys.iter().rev().map(|k| k.jwk(issuer)).collect();
        Ok(json!({ "keys": keys }))
    }

    /// Adds a new key that signs from now on and returns its `kid`. The previous keys
    /// stay published unless `keep_old` is false, as during Entra's rollovers.
    pub(super) fn rotate(&mut self, keep_old: bool) -> Result<String, KeyError> {
        // Make sure there is an "old" key, so a rotation always changes the signer.
        self.current()?;
        let key = SigningKey::generate()?;
        let kid = key.kid.clone();
        if !keep_old {
            self.keys.clear();
        }
        self.keys.push(key);
        Ok(kid)
    }

    fn current(&mut self) -> Result<&SigningKey, KeyError> {
        if self.keys.is_empty() {
            self.keys.push(SigningKey::generate()?);
        }
        self.keys.last().ok_or(KeyError::Generate)
    }
}

impl SigningKey {
    fn generate() -> Result<SigningKey, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
        let pkcs8 = AsDer::<Pkcs8V1Der>::as_der(&pair).map_err(|_| KeyError::Export)?;
        // `EncodingKey::from_rsa_der` wants PKCS#1 (aws-lc `RsaKeyPair::from_der`), but
        // aws-lc exports PKCS#8. jsonwebtoken's PEM reader unwraps PKCS#8 to the PKCS#1
        // it embeds, so the key goes through PEM instead of a hand-written DER parser.
        let private = EncodingKey::from_rsa_pem(pkcs8_pem(pkcs8.as_ref()).as_bytes())
            .map_err(KeyError::Import)?;
        let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        Ok(SigningKey {
            kid: key_id(pair.public_key().as_ref()),
            private,
            n: URL_SAFE_NO_PAD.encode(&public.n),
            e: URL_SAFE_NO_PAD.encode(&public.e),
        })
    }

    /// Entra's members except `x5t` and `x5c`: both describe an X.509 certificate, and
    /// the emulator has none. Validators must use `n`/`e` (RFC 8725 §3.10: ignore
    /// key-bearing extras). Like Entra, no `alg`, so validators must pin RS256 themselves.
    fn jwk(&self, issuer: &str) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": self.n,
            "e": self.e,
            "issuer": issuer,
        })
    }
}

/// Entra's `kid` is the certificate's SHA-1 thumbprint in base64url (27 characters).
/// Without a certificate, the first 20 bytes of the SHA-256 of the public key (PKCS#1
/// DER) give an id of the same shape that is stable for the key.
fn key_id(public_key_der: &[u8]) -> String {
    let hash = digest(&SHA256, public_key_der);
    URL_SAFE_NO_PAD.encode(&hash.as_ref()[..20])
}

fn pkcs8_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|line| std::str::from_utf8(line).ok())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}
