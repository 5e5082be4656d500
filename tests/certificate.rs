//! Certificate credentials end to end: the service signs client assertions with the
//! app's private key and the emulator verifies them against the registered certificate.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{TestApp, tenant};
use guest_reset::config::CertificateConfig;
use guest_reset::emulator::Emulator;
use guest_reset::graph::AssertionAlg;
use secrecy::SecretString;
use serde_json::{Value, json};

/// Any bytes: the emulator only hashes the certificate, it never parses it.
const CERTIFICATE: &[u8] = b"guest-reset end-to-end test certificate";

struct Key {
    private_pem: String,
    public_pem: String,
}

fn rsa_key() -> Key {
    let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8 = AsDer::<Pkcs8V1Der>::as_der(&pair).unwrap();
    let spki = AsDer::<PublicKeyX509Der>::as_der(pair.public_key()).unwrap();
    Key {
        private_pem: pem("PRIVATE KEY", pkcs8.as_ref()),
        public_pem: pem("PUBLIC KEY", spki.as_ref()),
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<String> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The service on the demo app, authenticating with `key` and `CERTIFICATE` instead of
/// the secret; `register` says whether the app holds that certificate.
async fn spawn(key: &Key, algorithm: AssertionAlg, register: bool) -> TestApp {
    let emulator = Emulator::demo();
    if register {
        emulator.add_certificate(tenant::CLIENT_ID, CERTIFICATE, &key.public_pem);
    }
    let private_key_pem = SecretString::from(key.private_pem.clone());
    TestApp::spawn_on(emulator, move |c| {
        c.graph.certificate = Some(CertificateConfig {
            private_key_pem,
            certificate_der: CERTIFICATE.to_vec(),
            algorithm,
        });
        c.graph.client_secret = SecretString::from(String::new());
    })
    .await
}

fn adele_body() -> Value {
    json!({
        "user": tenant::ADELE_MAIL,
        "new_email": tenant::ADELE_NEW_MAIL,
        "ticket": "INC-2001",
        "reason": "certificate credentials",
    })
}

/// The logged token form (credentials appear as "[redacted]" when present).
fn token_forms(app: &TestApp) -> Vec<Value> {
    let requests = app.emulator.requests();
    let tokens = requests.iter().filter(|r| r.path.ends_with("/token"));
    tokens.map(|r| r.body.clone().unwrap_or_default()).collect()
}

#[tokio::test]
async fn resets_succeed_with_ps256_and_rs256_assertions_and_no_secret() {
    let key = rsa_key();
    for algorithm in [AssertionAlg::Ps256, AssertionAlg::Rs256] {
        let app = spawn(&key, algorithm, true).await;
        let response = app.post_reset(adele_body()).await;
        assert_eq!(response.status(), 201, "{algorithm:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "succeeded", "{algorithm:?}: {body}");
        assert_eq!(body["invitation"]["status"], "PendingAcceptance");

        let forms = token_forms(&app);
        assert_eq!(forms.len(), 1, "{forms:?}");
        let form = &forms[0];
        assert_eq!(form["client_id"], tenant::CLIENT_ID);
        assert_eq!(form["client_assertion"], "[redacted]", "{form}");
        assert_eq!(
            form["client_assertion_type"],
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        );
        assert!(form.get("client_secret").is_none(), "{form}");
        let token_request = app.emulator.requests().into_iter().next().unwrap();
        let basic = token_request
            .headers
            .iter()
            .any(|(n, _)| n == "authorization");
        assert!(!basic, "no secret by HTTP Basic either");
    }
}

#[tokio::test]
async fn a_certificate_not_registered_on_the_app_fails_the_reset() {
    let app = spawn(&rsa_key(), AssertionAlg::Ps256, false).await;
    let response = app.post_reset(adele_body()).await;
    assert_eq!(response.status(), 502);
    let problem: Value = response.json().await.unwrap();
    // AADSTS700027 (certificate not registered) is a configuration problem.
    assert_eq!(
        problem["type"], "urn:guest-reset:problem:graph-credentials-invalid",
        "{problem}"
    );
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("700027"), "{problem}");
    assert!(
        !problem.to_string().contains("Thumbprint"),
        "the token service's text is not passed through: {problem}"
    );
    let token = app.emulator.requests().into_iter().next().unwrap();
    assert_eq!(token.status, 401, "the emulator refused the assertion");
    assert!(app.graph_writes().is_empty(), "nothing reached Graph");
    assert_eq!(app.audit_rows().await[0]["status"], "failed");
}
