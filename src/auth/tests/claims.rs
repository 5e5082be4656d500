//! Registered claims: time window, issuer, audience, required claims and their types.

use serde_json::json;

use super::*;

async fn check(claims: Value) -> Result<Identity, AuthError> {
    let idp = Idp::start(default_jwks()).await;
    verifier(&idp).verify(&rs256("rsa-1", &claims)).await
}

fn with(key: &str, value: Value) -> Value {
    let mut claims = good_claims();
    claims[key] = value;
    claims
}

fn without(key: &str) -> Value {
    let mut claims = good_claims();
    claims.as_object_mut().unwrap().remove(key);
    claims
}

#[tokio::test]
async fn expiry_honours_the_leeway() {
    assert_eq!(
        refused(check(with("exp", json!(now() - 120))).await),
        "token expired"
    );
    check(with("exp", json!(now() - 30)))
        .await
        .expect("inside the 60 s leeway");
}

#[tokio::test]
async fn nbf_in_the_future_refused() {
    assert_eq!(
        refused(check(with("nbf", json!(now() + 3600))).await),
        "token not valid yet (nbf)"
    );
    check(with("nbf", json!(now() + 30)))
        .await
        .expect("inside the 60 s leeway");
    assert_eq!(
        refused(check(with("nbf", json!("9999999999"))).await),
        "claim nbf has the wrong type"
    );
}

#[tokio::test]
async fn wrong_issuer_refused() {
    let other = v2_issuer(OTHER_TENANT);
    assert_eq!(
        refused(check(with("iss", json!(other))).await),
        "issuer not trusted"
    );
    let trailing = format!("{}/", v2_issuer(TENANT));
    assert_eq!(
        refused(check(with("iss", json!(trailing))).await),
        "issuer not trusted"
    );
    let array = json!([v2_issuer(TENANT)]);
    assert_eq!(
        refused(check(with("iss", array)).await),
        "claim iss has the wrong type"
    );
    assert_eq!(
        refused(check(without("iss")).await),
        "required claim iss missing"
    );
}

#[tokio::test]
async fn audience_must_be_one_of_ours() {
    assert_eq!(
        refused(check(with("aud", json!("api://other-app"))).await),
        "audience not accepted"
    );
    assert_eq!(
        refused(check(with("aud", json!(["api://other-app"]))).await),
        "audience not accepted"
    );
    check(with("aud", json!("5b1a7c3e-0000-4000-8000-000000000001")))
        .await
        .expect("the client id GUID");
    check(with("aud", json!(["api://other-app", AUDIENCE])))
        .await
        .expect("ours among several");
}

#[tokio::test]
async fn required_claims_missing_refused() {
    assert_eq!(
        refused(check(without("exp")).await),
        "required claim exp missing"
    );
    assert_eq!(
        refused(check(without("aud")).await),
        "required claim aud missing"
    );
    assert_eq!(
        refused(check(without("sub")).await),
        "required claim sub missing"
    );
    assert_eq!(
        refused(check(with("sub", json!(" "))).await),
        "claim sub is empty"
    );
}

/// GHSA-h395-gr6q-cpjc: a wrongly typed `exp` must not skip the expiry check.
#[tokio::test]
async fn exp_of_the_wrong_type_refused() {
    for exp in [
        json!("never"),
        json!(format!("{}", now() + 600)),
        json!(null),
        json!(-1),
    ] {
        let why = refused(check(with("exp", exp.clone())).await);
        assert!(
            why == "required claim exp missing" || why == "claim exp has the wrong type",
            "exp {exp}: {why}"
        );
    }
}
