//! Token renewal on 401, and the credentials the token endpoint receives.

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::SecretString;
use serde::Deserialize;

use super::fake::{FakeGraph, Reply};
use super::{api, client, quick, settings};
use crate::graph::{AssertionAlg, ClientCredential, GraphClient};

#[tokio::test]
async fn unauthorized_renews_the_token_once_and_repeats() {
    let fake = FakeGraph::start([Reply::Status(401, None)]).await;
    let graph = client(&fake.url, quick());
    graph
        .get_user("obj-1")
        .await
        .expect("second attempt with a new token");
    assert_eq!((fake.token_hits(), fake.graph_hits()), (2, 2));
    assert_eq!(graph.stats().token_refreshes, 1);
}

#[tokio::test]
async fn a_second_unauthorized_is_returned_without_another_renewal() {
    let fake = FakeGraph::start([Reply::Status(401, None), Reply::Status(401, None)]).await;
    let err = client(&fake.url, quick())
        .get_user("obj-1")
        .await
        .unwrap_err();
    assert_eq!(api(&err).0, 401);
    assert_eq!((fake.token_hits(), fake.graph_hits()), (2, 2));
}

#[tokio::test]
async fn the_token_is_cached_and_the_secret_sent_as_client_secret() {
    let fake = FakeGraph::start([]).await;
    let graph = client(&fake.url, quick());
    graph.get_user("a").await.unwrap();
    graph.get_user("b").await.unwrap();
    let forms = fake.token_forms();
    assert_eq!(forms.len(), 1);
    assert_eq!(forms[0]["client_secret"], "s3cret");
    assert!(!forms[0].contains_key("client_assertion"));
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    aud: String,
    iss: String,
    sub: String,
    jti: String,
    nbf: u64,
    iat: u64,
    exp: u64,
}

/// An RSA key as PKCS#8 PEM (what `openssl genpkey` writes) and its public half (PKCS#1 DER).
fn rsa_key() -> (SecretString, Vec<u8>) {
    let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8 = STANDARD.encode(pair.as_der().unwrap().as_ref());
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{pkcs8}\n-----END PRIVATE KEY-----\n");
    (SecretString::from(pem), pair.public_key().as_ref().to_vec())
}

#[tokio::test]
async fn certificate_credentials_send_a_signed_client_assertion() {
    let (private_key_pem, public) = rsa_key();
    let der = b"any DER bytes: the thumbprint is just a hash".to_vec();
    let cases = [
        (
            AssertionAlg::Ps256,
            Algorithm::PS256,
            digest::digest(&digest::SHA256, &der),
        ),
        (
            AssertionAlg::Rs256,
            Algorithm::RS256,
            digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &der),
        ),
    ];
    for (alg, jwt_alg, thumb) in cases {
        let fake = FakeGraph::start([]).await;
        let mut s = settings(&fake.url, &fake.url, quick());
        s.credentials.secret = ClientCredential::Certificate {
            private_key_pem: private_key_pem.clone(),
            certificate_der: der.clone(),
            algorithm: alg,
        };
        GraphClient::new(s)
            .unwrap()
            .get_user("obj-1")
            .await
            .unwrap();
        let form = fake.token_forms().remove(0);
        assert_eq!(
            form["client_assertion_type"],
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        );
        assert!(!form.contains_key("client_secret"));
        let jwt = &form["client_assertion"];
        let header = jsonwebtoken::decode_header(jwt).unwrap();
        let thumb = Some(URL_SAFE_NO_PAD.encode(thumb));
        match alg {
            AssertionAlg::Ps256 => assert_eq!((&header.x5t_s256, &header.x5t), (&thumb, &None)),
            AssertionAlg::Rs256 => assert_eq!((&header.x5t, &header.x5t_s256), (&thumb, &None)),
        }
        let aud = format!("{}/tenant/oauth2/v2.0/token", fake.url);
        let mut validation = Validation::new(jwt_alg);
        validation.set_audience(&[&aud]);
        validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<AssertionClaims>(
            jwt,
            &DecodingKey::from_rsa_der(&public),
            &validation,
        )
        .unwrap_or_else(|e| panic!("{alg:?} assertion must verify with the public key: {e}"))
        .claims;
        assert_eq!(
            (claims.iss.as_str(), claims.sub.as_str()),
            ("client-id", "client-id")
        );
        assert_eq!(claims.aud, aud);
        assert!(uuid::Uuid::parse_str(&claims.jti).is_ok());
        assert_eq!((claims.iat, claims.exp - claims.nbf), (claims.nbf, 300));
    }
}
