//! The Authorization header, the HS256 route, and what `Debug` reveals.

use axum::http::HeaderValue;
use serde_json::json;

use super::*;

fn hs_claims() -> Value {
    let mut claims = good_claims();
    claims["iss"] = json!(HS256_ISSUER);
    claims
}

async fn header(verifier: &Verifier, value: &[u8]) -> Result<Identity, AuthError> {
    let value = HeaderValue::from_bytes(value).expect("a valid header value");
    verifier.verify_header(Some(&value)).await
}

#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    let verifier = Verifier::new(settings(None), http());
    let token = hs256(&hs_claims(), HS256_SECRET.as_bytes());
    for scheme in ["Bearer", "bearer", "BEARER"] {
        header(&verifier, format!("{scheme} {token}").as_bytes())
            .await
            .expect("accepted");
    }
}

#[tokio::test]
async fn missing_and_malformed_headers() {
    let verifier = Verifier::new(settings(None), http());
    let token = hs256(&hs_claims(), HS256_SECRET.as_bytes());
    assert_eq!(verifier.verify_header(None).await, Err(AuthError::Missing));
    let malformed = [
        "Basic x".to_owned(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        token.clone(),
        format!("Bearer {token} {token}"),
        format!("Token {token}"),
        format!("Bearer {}", "a".repeat(9 * 1024)),
        // The token alone would pass; the header as a whole is too long.
        format!("Bearer {token}{}", " ".repeat(8 * 1024)),
    ];
    for value in malformed {
        assert_eq!(
            header(&verifier, value.as_bytes()).await,
            Err(AuthError::Malformed),
            "{value:.30}"
        );
    }
    assert_eq!(
        header(&verifier, b"Bearer \xe9t\xe9").await,
        Err(AuthError::Malformed)
    );
}

#[tokio::test]
async fn oversized_or_non_ascii_bare_token_malformed() {
    let verifier = Verifier::new(settings(None), http());
    assert_eq!(
        verifier.verify(&"a".repeat(8 * 1024 + 1)).await,
        Err(AuthError::Malformed)
    );
    assert_eq!(verifier.verify("é.é.é").await, Err(AuthError::Malformed));
}

#[tokio::test]
async fn hs256_route_accepts_its_own_tokens_only() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    let identity = verifier
        .verify(&hs256(&hs_claims(), HS256_SECRET.as_bytes()))
        .await
        .expect("accepted");
    assert_eq!(identity.issuer, HS256_ISSUER);
    let wrong_secret = hs256(&hs_claims(), b"another-secret-of-sufficient-length-000000");
    assert_eq!(
        refused(verifier.verify(&wrong_secret).await),
        "signature does not verify"
    );
    // HS256 with the OIDC issuer, even with the right secret.
    let hs_as_oidc = hs256(&good_claims(), HS256_SECRET.as_bytes());
    assert_eq!(
        refused(verifier.verify(&hs_as_oidc).await),
        "algorithm HS256 not allowed for this issuer"
    );
    // A real RS256 signature, but under the HS256 issuer.
    let rs_as_hs = rs256("rsa-1", &hs_claims());
    assert_eq!(
        refused(verifier.verify(&rs_as_hs).await),
        "algorithm RS256 not allowed for this issuer"
    );
    assert_eq!(
        idp.all_hits(),
        0,
        "the HS256 route never touches the key set"
    );
}

#[tokio::test]
async fn unconfigured_routes_trust_nobody() {
    let idp = Idp::start(default_jwks()).await;
    let hs256_only = Verifier::new(settings(None), http());
    assert_eq!(
        refused(hs256_only.verify(&rs256("rsa-1", &good_claims())).await),
        "issuer not trusted"
    );
    let oidc_only = Verifier::new(
        AuthSettings {
            hs256: None,
            ..settings(Some(oidc_settings(&idp)))
        },
        http(),
    );
    let token = hs256(&hs_claims(), HS256_SECRET.as_bytes());
    assert_eq!(
        refused(oidc_only.verify(&token).await),
        "issuer not trusted"
    );
    assert_eq!(idp.all_hits(), 0);
}

#[tokio::test]
async fn debug_does_not_show_the_secret() {
    let idp = Idp::start(default_jwks()).await;
    let shown = format!("{:?} {:#?}", verifier(&idp), verifier(&idp));
    assert!(!shown.contains(HS256_SECRET), "{shown}");
    assert!(shown.contains(HS256_ISSUER), "{shown}");
    let settings = format!("{:?}", settings(None));
    assert!(!settings.contains(HS256_SECRET), "{settings}");
}

/// Refusals describe the problem without repeating the token.
#[tokio::test]
async fn errors_never_echo_the_token() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    let mut claims = good_claims();
    claims["exp"] = json!(now() - 3600);
    let token = rs256("rsa-1", &claims);
    let error = verifier
        .verify(&token)
        .await
        .expect_err("expired")
        .to_string();
    for part in token.split('.') {
        assert!(!error.contains(part), "{error}");
    }
}
