//! The tokens a sign-in's code redeems for: a delegated access token for the API and an
//! ID token for the console, both verifiable against the published keys, with Entra's
//! claims; and the loopback redirect URI's port kept from sign-in to redemption.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::super::demo;
use super::oidc::verify_for;
use super::sign_in::{CALLBACK, NONCE, VERIFIER, code_for, redeem};
use super::{Harness, Reply};

#[tokio::test]
async fn the_code_redeems_for_verifiable_access_and_id_tokens() {
    let harness = Harness::start().await;
    let code = code_for(&harness, demo::MIRIAM_ID, CALLBACK).await;

    let reply = redeem(&harness, &code, Some(VERIFIER), CALLBACK).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let scope = format!("{} openid profile", demo::CONSOLE_SCOPE);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["scope"], scope);
    let lifetimes = [&reply.body["expires_in"], &reply.body["ext_expires_in"]];
    assert_eq!(lifetimes, [&json!(3599), &json!(3599)]);
    assert!(reply.body.get("refresh_token").is_none());
    let access = access_claims(&harness, &reply).await;
    assert_eq!(access["roles"], json!([demo::APP_ROLE_HELPDESK]));
    let id = id_claims(&harness, &reply).await;
    for same in [
        "oid",
        "sub",
        "tid",
        "name",
        "preferred_username",
        "iss",
        "ver",
    ] {
        assert_eq!(id[same], access[same], "{same}");
    }
}

/// The ID token verifies for the console and carries the sign-in's nonce.
async fn id_claims(harness: &Harness, reply: &Reply) -> Value {
    let token = reply.body["id_token"].as_str().unwrap_or_default();
    let verified = verify_for(harness, token, demo::CONSOLE_CLIENT_ID).await;
    let claims = verified.expect("the ID token verifies").claims;
    assert_eq!(claims["nonce"], NONCE);
    assert!(
        claims.get("roles").is_none() && claims.get("scp").is_none(),
        "{claims}"
    );
    claims
}

/// The access token verifies against the published keys and carries Entra's delegated
/// claims for Miriam.
async fn access_claims(harness: &Harness, reply: &Reply) -> Value {
    let token = reply.body["access_token"].as_str().unwrap_or_default();
    let claims = verify_for(harness, token, demo::API_CLIENT_ID)
        .await
        .expect("the access token verifies")
        .claims;
    assert_eq!(claims["iss"], harness.emulator.api_issuer(&harness.base));
    assert_eq!(claims["azp"], demo::CONSOLE_CLIENT_ID);
    assert_eq!(claims["azpacr"], "1");
    assert_eq!(claims["oid"], demo::MIRIAM_ID);
    assert_eq!(claims["tid"], demo::TENANT_ID);
    assert_eq!(claims["scp"], demo::API_DELEGATED_PERMISSION);
    assert_eq!(claims["name"], "Miriam Graham");
    assert_eq!(
        claims["preferred_username"],
        "miriam.graham@contoso.onmicrosoft.com"
    );
    assert_eq!(claims["ver"], "2.0");
    assert!(
        claims.get("idtyp").is_none(),
        "delegated tokens carry no idtyp"
    );
    let sub = claims["sub"].as_str().unwrap_or_default();
    assert!(
        sub.len() == 43 && sub != demo::MIRIAM_ID,
        "pairwise sub: {sub}"
    );
    for opaque in ["uti", "rh"] {
        assert!(
            claims[opaque].as_str().is_some_and(|v| !v.is_empty()),
            "{opaque}"
        );
    }
    claims
}

#[tokio::test]
async fn a_person_without_roles_gets_a_token_without_roles() {
    let harness = Harness::start().await;
    let code = code_for(&harness, demo::MEMBER_ID, CALLBACK).await;

    let reply = redeem(&harness, &code, Some(VERIFIER), CALLBACK).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token = reply.body["access_token"].as_str().unwrap_or_default();
    let claims = verify_for(&harness, token, demo::API_CLIENT_ID)
        .await
        .expect("verifies")
        .claims;
    assert_eq!(claims["oid"], demo::MEMBER_ID);
    assert!(claims.get("roles").is_none(), "{claims}");
}

#[tokio::test]
async fn loopback_redirect_uris_match_on_any_port_and_redeem_only_with_that_port() {
    let harness = Harness::start().await;
    let at = "http://127.0.0.1:54321/console/auth/callback";
    let code = code_for(&harness, demo::NESTOR_ID, at).await;

    let elsewhere = redeem(
        &harness,
        &code,
        Some(VERIFIER),
        "http://127.0.0.1:54322/console/auth/callback",
    )
    .await;
    let same = redeem(&harness, &code, Some(VERIFIER), at).await;

    assert_eq!(
        (
            elsewhere.body["error"].clone(),
            elsewhere.body["error_codes"].clone()
        ),
        (json!("invalid_grant"), json!([50011]))
    );
    assert_eq!(same.status, StatusCode::OK, "{}", same.body);
    let token = same.body["access_token"].as_str().unwrap_or_default();
    let claims = verify_for(&harness, token, demo::API_CLIENT_ID)
        .await
        .expect("verifies")
        .claims;
    assert_eq!(claims["roles"], json!([demo::APP_ROLE_BULK_OPERATOR]));
}
