//! The in-memory key set. A JWKS is reduced once, when fetched, to the keys
//! that can verify a pinned algorithm; a token's `kid`/`x5t` is then only ever
//! compared with these strings, never used to build a path, URL or query.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::Deserialize;
use serde_json::Value;

use super::AuthError;

/// Smallest RSA modulus accepted (2048 bits); shorter keys are skipped at load.
const MIN_RSA_MODULUS: usize = 256;

/// How a token names its signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum KeyRef {
    Kid(String),
    X5t(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    EcP256,
}

struct VerifyKey {
    kid: Option<String>,
    x5t: Option<String>,
    kind: KeyKind,
    /// The JWK's own `alg`; when present the token must use exactly it.
    alg: Option<Algorithm>,
    key: DecodingKey,
}

/// The usable keys of one fetched JWKS.
pub(super) struct KeySet {
    keys: Vec<VerifyKey>,
}

/// The JWK members this service reads; everything else (x5c, x5u, …) is ignored.
#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(rename = "use")]
    usage: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    kid: Option<String>,
    x5t: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl KeySet {
    /// Keep each key of a JWKS document that can verify one of `pinned`;
    /// one odd key (unknown `kty`, encryption key) must not hide the others.
    pub(super) fn from_jwks(doc: &Value, pinned: &[Algorithm]) -> KeySet {
        let entries = doc["keys"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut keys = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            match parse_key(entry, pinned) {
                Ok(key) => keys.push(key),
                Err(why) => tracing::debug!(index, why, "JWK skipped"),
            }
        }
        KeySet { keys }
    }

    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(super) fn contains(&self, wanted: &KeyRef) -> bool {
        self.keys.iter().any(|k| k.is(wanted))
    }

    /// The key named by `wanted` that may verify `alg`.
    pub(super) fn find(&self, wanted: &KeyRef, alg: Algorithm) -> Result<&DecodingKey, AuthError> {
        self.keys
            .iter()
            .filter(|k| k.is(wanted))
            .find(|k| k.allows(alg))
            .map(|k| &k.key)
            .ok_or_else(|| AuthError::Invalid(format!("the signing key does not allow {alg:?}")))
    }
}

impl VerifyKey {
    fn is(&self, wanted: &KeyRef) -> bool {
        match wanted {
            KeyRef::Kid(kid) => self.kid.as_deref() == Some(kid),
            KeyRef::X5t(x5t) => self.x5t.as_deref() == Some(x5t),
        }
    }

    /// Entra JWKs often have no `alg`; the key type must then fit the algorithm.
    fn allows(&self, alg: Algorithm) -> bool {
        let fits = match self.kind {
            KeyKind::Rsa => alg.family() == AlgorithmFamily::Rsa,
            KeyKind::EcP256 => alg == Algorithm::ES256,
        };
        fits && self.alg.is_none_or(|own| own == alg)
    }
}

fn parse_key(entry: &Value, pinned: &[Algorithm]) -> Result<VerifyKey, &'static str> {
    let raw = RawJwk::deserialize(entry).map_err(|_| "not a JWK")?;
    if raw.usage.as_deref().is_some_and(|u| u != "sig") {
        return Err("not a signature key");
    }
    if raw
        .key_ops
        .as_ref()
        .is_some_and(|ops| !ops.iter().any(|o| o == "verify"))
    {
        return Err("key_ops without verify");
    }
    let alg = match raw.alg.as_deref() {
        None => None,
        Some(name) => Some(
            name.parse::<Algorithm>()
                .ok()
                .filter(|a| pinned.contains(a))
                .ok_or("alg not pinned")?,
        ),
    };
    let (kind, key) = match raw.kty.as_str() {
        "RSA" => (KeyKind::Rsa, rsa_key(&raw)?),
        "EC" => (KeyKind::EcP256, ec_p256_key(&raw)?),
        _ => return Err("unsupported kty"),
    };
    let key = VerifyKey {
        kid: raw.kid,
        x5t: raw.x5t,
        kind,
        alg,
        key,
    };
    if !pinned.iter().any(|a| key.allows(*a)) {
        return Err("no pinned algorithm fits the key");
    }
    Ok(key)
}

fn rsa_key(raw: &RawJwk) -> Result<DecodingKey, &'static str> {
    let (Some(n), Some(e)) = (&raw.n, &raw.e) else {
        return Err("RSA key without n or e");
    };
    let modulus = URL_SAFE_NO_PAD.decode(n).map_err(|_| "bad n")?;
    let significant = modulus.iter().skip_while(|b| **b == 0).count();
    if significant < MIN_RSA_MODULUS {
        return Err("RSA modulus shorter than 2048 bits");
    }
    DecodingKey::from_rsa_components(n, e).map_err(|_| "bad RSA components")
}

/// Only P-256 (ES256). Coordinates are checked for length here; aws-lc checks
/// that the point is on the curve when it verifies (RFC 8725 §3.4).
fn ec_p256_key(raw: &RawJwk) -> Result<DecodingKey, &'static str> {
    if raw.crv.as_deref() != Some("P-256") {
        return Err("EC curve is not P-256");
    }
    let (Some(x), Some(y)) = (&raw.x, &raw.y) else {
        return Err("EC key without x or y");
    };
    let coordinate = |c: &str| URL_SAFE_NO_PAD.decode(c).ok().filter(|b| b.len() == 32);
    if coordinate(x).is_none() || coordinate(y).is_none() {
        return Err("EC coordinates are not 32 bytes");
    }
    DecodingKey::from_ec_components(x, y).map_err(|_| "bad EC components")
}
