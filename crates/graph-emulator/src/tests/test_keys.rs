//! RSA key pairs for certificate-credential tests, as the PEM texts a client and an
//! app registration hold.

use std::sync::LazyLock;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// An RSA key pair as PEM: PKCS#8 private key, SPKI public key.
pub(crate) struct TestKey {
    pub(crate) private_pem: String,
    pub(crate) public_pem: String,
}

/// Two keys for the whole test binary: RSA generation is slow in a debug build.
static KEYS: LazyLock<[TestKey; 2]> = LazyLock::new(|| [generate(), generate()]);

pub(crate) fn test_key(i: usize) -> &'static TestKey {
    &KEYS[i % 2]
}

fn generate() -> TestKey {
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generates");
    let pkcs8 = AsDer::<Pkcs8V1Der>::as_der(&pair).expect("PKCS#8 export");
    let spki = AsDer::<PublicKeyX509Der>::as_der(pair.public_key()).expect("SPKI export");
    TestKey {
        private_pem: pem("PRIVATE KEY", pkcs8.as_ref()),
        public_pem: pem("PUBLIC KEY", spki.as_ref()),
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}
