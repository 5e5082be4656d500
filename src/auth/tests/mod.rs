//! Tests of the verifier against a local IdP: an axum server on 127.0.0.1:0
//! serving a discovery document and a JWKS built from keys generated here.

mod attacks;
mod cache;
mod claims;
mod header;
mod idp;
mod oidc;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use super::{AuthError, AuthSettings, Hs256Settings, Identity, OidcSettings, Verifier};
use idp::Idp;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TENANT: &str = "0b5a5ddf-3e43-4c7c-9ac5-4d8ee1b1f4a2";
const AUDIENCE: &str = "api://guest-reset";
const HS256_ISSUER: &str = "https://demo-idp.local/";
const HS256_SECRET: &str = "hs256-test-secret-that-is-long-enough-0123456789";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// An RSA key pair in every shape the tests sign with or attack with.
struct RsaKey {
    encoding: EncodingKey,
    n: Vec<u8>,
    e: Vec<u8>,
    spki_pem: String,
    pkcs1_pem: String,
}

impl RsaKey {
    fn generate() -> RsaKey {
        use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generates");
        let pkcs8 = AsDer::<Pkcs8V1Der>::as_der(&pair).expect("PKCS#8");
        // jsonwebtoken's RSA signer wants PKCS#1 DER; its PEM reader unwraps PKCS#8.
        let encoding = EncodingKey::from_rsa_pem(pem("PRIVATE KEY", pkcs8.as_ref()).as_bytes())
            .expect("PKCS#8 PEM is accepted");
        let public = pair.public_key();
        let parts = PublicKeyComponents::<Vec<u8>>::from(public);
        let spki = AsDer::<PublicKeyX509Der>::as_der(public).expect("SPKI");
        RsaKey {
            encoding,
            n: parts.n,
            e: parts.e,
            spki_pem: pem("PUBLIC KEY", spki.as_ref()),
            pkcs1_pem: pem("RSA PUBLIC KEY", public.as_ref()),
        }
    }

    fn jwk(&self, kid: &str) -> Value {
        json!({"kty": "RSA", "use": "sig", "kid": kid, "x5t": kid, "n": b64(&self.n), "e": b64(&self.e)})
    }
}

struct EcKey {
    encoding: EncodingKey,
    x: Vec<u8>,
    y: Vec<u8>,
}

impl EcKey {
    fn generate() -> EcKey {
        let pair =
            EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key generates");
        let pkcs8 = pair.to_pkcs8v1().expect("PKCS#8");
        // Uncompressed point: 0x04 || x || y.
        let point = pair.public_key().as_ref().to_vec();
        EcKey {
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            x: point[1..33].to_vec(),
            y: point[33..65].to_vec(),
        }
    }

    fn jwk(&self, kid: &str) -> Value {
        json!({"kty": "EC", "use": "sig", "crv": "P-256", "kid": kid, "x": b64(&self.x), "y": b64(&self.y)})
    }
}

/// Generated once per test binary: RSA generation is the slow part.
static RSA: LazyLock<RsaKey> = LazyLock::new(RsaKey::generate);
static RSA_NEXT: LazyLock<RsaKey> = LazyLock::new(RsaKey::generate);
static ATTACKER: LazyLock<RsaKey> = LazyLock::new(RsaKey::generate);
static EC: LazyLock<EcKey> = LazyLock::new(EcKey::generate);

/// The key set most tests serve: one RSA and one EC key, Entra-style (no `alg`).
fn default_jwks() -> Value {
    json!({"keys": [RSA.jwk("rsa-1"), EC.jwk("ec-1")]})
}

/// A compact JWS over exactly this header and these claims.
fn sign(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).expect("signs");
    format!("{message}.{signature}")
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn v2_issuer(tenant: &str) -> String {
    format!("https://login.microsoftonline.com/{tenant}/v2.0")
}

/// Claims of a good v2 access token for `AUDIENCE` in `TENANT`.
fn good_claims() -> Value {
    json!({
        "iss": v2_issuer(TENANT), "aud": AUDIENCE, "sub": "subject-1", "tid": TENANT,
        "oid": "00000000-0000-0000-0000-0000000000aa", "azp": "helpdesk-portal",
        "exp": now() + 600, "nbf": now() - 10, "iat": now() - 10,
        "roles": ["GuestReset.Write"], "scp": "reset.write  reset.read",
    })
}

fn rs256(kid: &str, claims: &Value) -> String {
    sign(
        &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        claims,
        &RSA.encoding,
        Algorithm::RS256,
    )
}

fn es256(kid: &str, claims: &Value) -> String {
    sign(
        &json!({"alg": "ES256", "typ": "JWT", "kid": kid}),
        claims,
        &EC.encoding,
        Algorithm::ES256,
    )
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    let key = EncodingKey::from_secret(secret);
    sign(
        &json!({"alg": "HS256", "typ": "JWT"}),
        claims,
        &key,
        Algorithm::HS256,
    )
}

/// Plain client: no proxy from the environment may intercept loopback.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client builds")
}

/// OIDC settings for the v2 issuer of `TENANT`, keys at `idp`'s JWKS.
fn oidc_settings(idp: &Idp) -> OidcSettings {
    OidcSettings {
        issuers: vec!["https://login.microsoftonline.com/{tenantid}/v2.0".to_owned()],
        tenant_ids: vec![TENANT.to_owned()],
        jwks_uri: Some(idp.jwks_uri()),
        refresh_interval: Duration::from_secs(10),
        ..OidcSettings::default()
    }
}

fn settings(oidc: Option<OidcSettings>) -> AuthSettings {
    AuthSettings {
        oidc,
        hs256: Some(Hs256Settings {
            issuer: HS256_ISSUER.to_owned(),
            secret: HS256_SECRET.to_owned().into(),
        }),
        audiences: vec![
            AUDIENCE.to_owned(),
            "5b1a7c3e-0000-4000-8000-000000000001".to_owned(),
        ],
        leeway_secs: 60,
    }
}

/// The usual verifier: v2 issuer of `TENANT` plus the HS256 issuer.
fn verifier(idp: &Idp) -> Verifier {
    Verifier::new(settings(Some(oidc_settings(idp))), http())
}

/// The refusal text of `Invalid`, failing the test on anything else.
#[track_caller]
fn refused(result: Result<Identity, AuthError>) -> String {
    match result {
        Err(AuthError::Invalid(why)) => why,
        other => panic!("expected Invalid, got {other:?}"),
    }
}
