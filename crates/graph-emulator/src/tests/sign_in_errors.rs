//! What the authorization endpoint and the code redemption refuse, and how: Entra's
//! error page where the redirect URI cannot be trusted, an error redirect after that,
//! and `invalid_grant` for codes and verifiers.

use reqwest::StatusCode;
use serde_json::json;

use super::super::demo;
use super::sign_in::{
    CALLBACK, STATE, VERIFIER, choose, code_for, redeem, redirected, request, show,
};
use super::{Harness, Raw, Reply, send};

fn with(
    mut params: Vec<(&'static str, String)>,
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    params.retain(|(n, _)| *n != name);
    params.push((name, value.to_owned()));
    params
}

/// An error page: a 400 in HTML naming the AADSTS code, and no redirect.
fn assert_error_page(raw: &Raw, code: &str) {
    let html = String::from_utf8_lossy(&raw.bytes);
    assert_eq!(raw.status, StatusCode::BAD_REQUEST, "{html}");
    assert!(raw.headers.get("location").is_none(), "no redirect");
    assert!(
        html.contains(&format!("AADSTS{code}: ")) && html.contains("<html lang=\"en\">"),
        "{html}"
    );
    assert!(html.contains("trouble signing you in"), "{html}");
}

fn assert_grant_refused(reply: &Reply, code: u32) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(
        (
            reply.body["error"].clone(),
            reply.body["error_codes"].clone()
        ),
        (json!("invalid_grant"), json!([code]))
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_an_error_page_not_a_redirect() {
    let harness = Harness::start().await;
    for uri in [
        "http://evil.example/console/auth/callback",
        "http://localhost:8123/console/auth/other",
        "https://localhost/console/auth/callback",
    ] {
        let params = with(request(CALLBACK), "redirect_uri", uri);
        assert_error_page(&show(&harness, &params).await, "50011");
        assert_error_page(&choose(&harness, &params, demo::MIRIAM_ID).await, "50011");
    }
    let html_page = show(
        &harness,
        &with(request(CALLBACK), "redirect_uri", "http://evil.example/<b>"),
    )
    .await;
    assert!(String::from_utf8_lossy(&html_page.bytes).contains("http://evil.example/&lt;b&gt;"));
}

#[tokio::test]
async fn an_unknown_client_is_an_error_page() {
    let harness = Harness::start().await;
    let params = with(
        request(CALLBACK),
        "client_id",
        "00000000-0000-0000-0000-00000000c0de",
    );
    assert_error_page(&show(&harness, &params).await, "700016");
    let without = with(request(CALLBACK), "client_id", "");
    assert_error_page(&show(&harness, &without).await, "900144");
    let portal = with(
        request(CALLBACK),
        "client_id",
        demo::HELPDESK_PORTAL_CLIENT_ID,
    );
    assert_error_page(&show(&harness, &portal).await, "500113");
}

#[tokio::test]
async fn later_errors_go_back_to_the_redirect_uri_with_the_state() {
    let harness = Harness::start().await;
    let cases = [
        (
            with(request(CALLBACK), "response_type", "token"),
            "unsupported_response_type",
            "AADSTS700051",
        ),
        (
            with(request(CALLBACK), "code_challenge_method", "S512"),
            "invalid_request",
            "AADSTS90023",
        ),
        (
            with(request(CALLBACK), "scope", "api://guest-reset/nope openid"),
            "invalid_scope",
            "AADSTS70011",
        ),
    ];
    for (params, error, code) in cases {
        let answer = show(&harness, &params).await;
        assert_eq!(answer.status, StatusCode::FOUND, "{error}");
        let (target, query) = redirected(&answer);
        assert_eq!(target, CALLBACK);
        assert_eq!(query.get("error").map(String::as_str), Some(error));
        let description = query.get("error_description").cloned().unwrap_or_default();
        assert!(
            description.starts_with(&format!("{code}: ")),
            "{description}"
        );
        assert_eq!(query.get("state").map(String::as_str), Some(STATE));
        assert!(!query.contains_key("code"));
    }
}

#[tokio::test]
async fn a_choice_the_page_did_not_offer_is_refused() {
    let harness = Harness::start().await;
    assert_error_page(
        &choose(&harness, &request(CALLBACK), demo::ADELE_ID).await,
        "50034",
    );
    assert_error_page(
        &choose(&harness, &request(CALLBACK), "nobody").await,
        "50034",
    );
}

#[tokio::test]
async fn a_code_redeems_once() {
    let harness = Harness::start().await;
    let code = code_for(&harness, demo::MIRIAM_ID, CALLBACK).await;
    assert_eq!(
        redeem(&harness, &code, Some(VERIFIER), CALLBACK)
            .await
            .status,
        StatusCode::OK
    );

    let again = redeem(&harness, &code, Some(VERIFIER), CALLBACK).await;

    assert_grant_refused(&again, 54005);
    let description = again.body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains("OAuth2 Authorization code was already redeemed"),
        "{description}"
    );
    assert_grant_refused(
        &redeem(&harness, "not-a-code", Some(VERIFIER), CALLBACK).await,
        70008,
    );
}

#[tokio::test]
async fn the_verifier_must_answer_the_challenge() {
    let harness = Harness::start().await;
    let code = code_for(&harness, demo::PATTI_ID, CALLBACK).await;

    let wrong = redeem(&harness, &code, Some(&VERIFIER.replace('d', "e")), CALLBACK).await;
    let missing = redeem(&harness, &code, None, CALLBACK).await;

    assert_grant_refused(&wrong, 501481);
    let description = wrong.body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains("The Code_Verifier does not match the code_challenge"),
        "{description}"
    );
    assert_grant_refused(&missing, 50148);
    let right = redeem(&harness, &code, Some(VERIFIER), CALLBACK).await;
    assert_eq!(
        right.status,
        StatusCode::OK,
        "a refused redemption does not spend the code"
    );
}

#[tokio::test]
async fn a_code_redeems_only_for_its_client_authenticated() {
    let harness = Harness::start().await;
    let code = code_for(&harness, demo::LIDIA_ID, CALLBACK).await;
    let as_portal = [
        ("grant_type", "authorization_code"),
        ("client_id", demo::HELPDESK_PORTAL_CLIENT_ID),
        ("client_secret", demo::HELPDESK_PORTAL_CLIENT_SECRET),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    assert_grant_refused(
        &send(harness.token_request(demo::TENANT_ID, &as_portal)).await,
        70000,
    );

    let mut wrong_secret = as_portal;
    wrong_secret[1].1 = demo::CONSOLE_CLIENT_ID;
    let reply = send(harness.token_request(demo::TENANT_ID, &wrong_secret)).await;
    assert_eq!(
        (reply.status, reply.body["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_client"))
    );
    assert_eq!(
        redeem(&harness, &code, Some(VERIFIER), CALLBACK)
            .await
            .status,
        StatusCode::OK
    );
}
