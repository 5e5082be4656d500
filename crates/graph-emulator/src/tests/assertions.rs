//! Certificate credentials at the token endpoint: client assertions signed with RSA keys
//! made here, against certificates registered with `Emulator::add_certificate`.

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::super::{Emulator, demo};
use super::test_keys::test_key;
use super::{GRAPH_SCOPE, Harness, Reply, send};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Any bytes: the emulator only hashes the "certificate".
const CERT: &[u8] = b"test certificate registered on the demo app";
const OTHER_CERT: &[u8] = b"a certificate nobody registered";

/// An assertion to sign: header choices and claims, valid until a test changes them.
struct Assertion {
    alg: Algorithm,
    cert: &'static [u8],
    key: &'static super::test_keys::TestKey,
    claims: Value,
}

impl Assertion {
    fn new(harness: &Harness, alg: Algorithm) -> Assertion {
        let now = jsonwebtoken::get_current_timestamp();
        let aud = harness.url(&format!("/{}/oauth2/v2.0/token", demo::TENANT_ID));
        let claims = json!({
            "aud": aud, "iss": demo::CLIENT_ID, "sub": demo::CLIENT_ID,
            "jti": uuid::Uuid::new_v4().to_string(), "nbf": now, "iat": now, "exp": now + 300,
        });
        Assertion {
            alg,
            cert: CERT,
            key: test_key(0),
            claims,
        }
    }

    fn with(mut self, claim: &str, value: Value) -> Assertion {
        self.claims[claim] = value;
        self
    }

    /// `x5t#S256` with PS256, `x5t` (SHA-1) with RS256, as the two doc versions say.
    fn sign(&self) -> String {
        let mut header = Header::new(self.alg);
        if self.alg == Algorithm::RS256 {
            header.x5t = Some(URL_SAFE_NO_PAD.encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, self.cert)));
        } else {
            header.x5t_s256 = Some(URL_SAFE_NO_PAD.encode(digest(&SHA256, self.cert)));
        }
        let key = EncodingKey::from_rsa_pem(self.key.private_pem.as_bytes()).expect("key");
        jsonwebtoken::encode(&header, &self.claims, &key).expect("assertion signs")
    }
}

async fn harness() -> Harness {
    let emulator = Emulator::demo();
    emulator.add_certificate(demo::CLIENT_ID, CERT, &test_key(0).public_pem);
    Harness::over(emulator).await
}

async fn present(harness: &Harness, jwt: &str) -> Reply {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", demo::CLIENT_ID),
        ("scope", GRAPH_SCOPE),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", jwt),
    ];
    send(harness.token_request(demo::TENANT_ID, &form)).await
}

fn assert_refused(reply: &Reply, status: u16, error: &str, code: u64) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.body["error"], error, "{}", reply.body);
    assert_eq!(reply.body["error_codes"], json!([code]), "{}", reply.body);
    let description = reply.body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
}

#[tokio::test]
async fn ps256_with_sha256_and_rs256_with_sha1_thumbprints_get_graph_tokens() {
    let harness = harness().await;
    for alg in [Algorithm::PS256, Algorithm::RS256] {
        let reply = present(&harness, &Assertion::new(&harness, alg).sign()).await;
        assert_eq!(reply.status, StatusCode::OK, "{alg:?}: {}", reply.body);
        let token = reply.body["access_token"].as_str().unwrap_or_default();
        let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(token)
            .expect("JWT")
            .claims;
        assert_eq!(claims["appid"], demo::CLIENT_ID);
        assert_eq!(claims["appidacr"], "2", "certificate authentication");
        assert_eq!(
            claims["roles"],
            json!([
                "User.ReadWrite.All",
                "User.Read.All",
                "GroupMember.Read.All"
            ])
        );
    }
    // The log shows which credential came, never its value.
    let logged = harness.emulator.requests()[0]
        .body
        .clone()
        .unwrap_or_default();
    assert_eq!(logged["client_assertion"], "[redacted]");
    assert_eq!(logged["client_assertion_type"], JWT_BEARER);
    assert!(logged.get("client_secret").is_none(), "{logged}");
}

#[tokio::test]
async fn assertions_that_fail_a_check_get_its_documented_code() {
    let harness = harness().await;
    let now = jsonwebtoken::get_current_timestamp();
    let base = || Assertion::new(&harness, Algorithm::PS256);
    let production = format!(
        "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
        demo::TENANT_ID
    );
    let other_tenant = harness.url("/00000000-0000-0000-0000-0000000000aa/oauth2/v2.0/token");
    let cases: Vec<(&str, Assertion, u64)> = vec![
        (
            "wrong key",
            Assertion {
                key: test_key(1),
                ..base()
            },
            700027,
        ),
        (
            "unknown thumbprint",
            Assertion {
                cert: OTHER_CERT,
                ..base()
            },
            700027,
        ),
        (
            "production aud",
            base().with("aud", json!(production)),
            700023,
        ),
        (
            "other tenant aud",
            base().with("aud", json!(other_tenant)),
            700023,
        ),
        (
            "iss not the client",
            base().with("iss", json!(demo::READ_ONLY_CLIENT_ID)),
            700021,
        ),
        (
            "sub not iss",
            base().with("sub", json!(demo::READ_ONLY_CLIENT_ID)),
            50048,
        ),
        (
            "expired",
            base()
                .with("nbf", json!(now - 900))
                .with("exp", json!(now - 300)),
            700024,
        ),
        (
            "not yet valid",
            base()
                .with("nbf", json!(now + 600))
                .with("exp", json!(now + 900)),
            700024,
        ),
        (
            "longer than 10 min",
            base().with("exp", json!(now + 3600)),
            700024,
        ),
        ("no exp", base().with("exp", Value::Null), 50027),
        ("no jti", base().with("jti", Value::Null), 50027),
    ];
    for (name, assertion, code) in cases {
        let reply = present(&harness, &assertion.sign()).await;
        assert_refused(&reply, 401, "invalid_client", code);
        assert!(reply.body["access_token"].is_null(), "{name}");
    }
}

#[tokio::test]
async fn a_replayed_assertion_is_refused_and_a_domain_aud_is_accepted() {
    let harness = harness().await;
    let aud = harness.url(&format!("/{}/oauth2/v2.0/token", demo::TENANT_DOMAIN));
    let jwt = Assertion::new(&harness, Algorithm::RS256)
        .with("aud", json!(aud))
        .sign();
    assert_eq!(present(&harness, &jwt).await.status, StatusCode::OK);
    assert_refused(&present(&harness, &jwt).await, 401, "invalid_client", 50027);
}

#[tokio::test]
async fn malformed_or_unsigned_assertions_are_invalid_jwts() {
    let harness = harness().await;
    let claims = Assertion::new(&harness, Algorithm::PS256).claims;
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"shared"),
    )
    .expect("HS256 signs");
    let key = EncodingKey::from_rsa_pem(test_key(0).private_pem.as_bytes()).expect("key");
    let no_thumbprint =
        jsonwebtoken::encode(&Header::new(Algorithm::PS256), &claims, &key).expect("signs");
    for jwt in [hs256.as_str(), no_thumbprint.as_str(), "not-a-jwt"] {
        assert_refused(&present(&harness, jwt).await, 401, "invalid_client", 50027);
    }
}

#[tokio::test]
async fn exactly_one_credential_with_the_jwt_bearer_type_is_required() {
    let harness = harness().await;
    let jwt = Assertion::new(&harness, Algorithm::PS256).sign();
    let both = [
        ("grant_type", "client_credentials"),
        ("client_id", demo::CLIENT_ID),
        ("client_secret", demo::CLIENT_SECRET),
        ("scope", GRAPH_SCOPE),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", jwt.as_str()),
    ];
    let reply = send(harness.token_request(demo::TENANT_ID, &both)).await;
    assert_refused(&reply, 400, "invalid_request", 90023);

    let mut wrong_type = both.to_vec();
    wrong_type.remove(2);
    wrong_type[3].1 = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer";
    let reply = send(harness.token_request(demo::TENANT_ID, &wrong_type)).await;
    assert_refused(&reply, 400, "invalid_request", 90023);
    wrong_type.remove(3);
    let reply = send(harness.token_request(demo::TENANT_ID, &wrong_type)).await;
    assert_refused(&reply, 400, "invalid_request", 900144);
}

#[tokio::test]
async fn seeded_key_credentials_verify_by_the_thumbprints_they_give() {
    let sha1_hex =
        super::super::key_credentials::hex(digest(&SHA1_FOR_LEGACY_USE_ONLY, CERT).as_ref());
    let mut seed = super::super::Seed::demo();
    let app = seed
        .apps
        .iter_mut()
        .find(|a| a.client_id == demo::CLIENT_ID);
    let app = app.expect("demo app");
    app.client_secret.clear();
    let key = |end: Option<&str>| super::super::KeyCredentialSeed {
        custom_key_identifier: Some(sha1_hex.clone()),
        public_key_pem: test_key(0).public_pem.clone(),
        certificate_der_base64: None,
        end_date_time: end.map(str::to_owned),
    };
    app.key_credentials = vec![key(Some("2999-01-01T00:00:00Z"))];
    assert_eq!(seed.validate(), Ok(()), "a certificate replaces the secret");
    let harness = Harness::over(Emulator::from_seed(seed.clone())).await;
    let rs256 = Assertion::new(&harness, Algorithm::RS256).sign();
    assert_eq!(present(&harness, &rs256).await.status, StatusCode::OK);
    // Without the certificate bytes the SHA-256 thumbprint is unknown.
    let ps256 = Assertion::new(&harness, Algorithm::PS256).sign();
    assert_refused(
        &present(&harness, &ps256).await,
        401,
        "invalid_client",
        700027,
    );

    seed.apps.iter_mut().for_each(|a| {
        if a.client_id == demo::CLIENT_ID {
            a.key_credentials = vec![key(Some("2020-01-01T00:00:00Z"))];
        }
    });
    let harness = Harness::over(Emulator::from_seed(seed)).await;
    let rs256 = Assertion::new(&harness, Algorithm::RS256).sign();
    let reply = present(&harness, &rs256).await;
    assert_refused(&reply, 401, "invalid_client", 700027);
    assert!(
        reply.body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("expired")
    );
}
