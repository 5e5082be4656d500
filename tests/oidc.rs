//! Tokens from the tenant's OpenID Connect issuer (the emulator plays Entra
//! ID): a portal's client-credentials token works end to end, key rotation
//! costs one refetch, random `kid`s cost none, and the caller is recorded.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::{TestApp, expect_problem, sign, tenant};
use serde_json::{Value, json};

/// A token the way a portal gets one: client credentials at the token endpoint.
async fn portal_token(app: &TestApp, client_id: &str, secret: &str) -> String {
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        app.config.graph.authority_url,
        tenant::TENANT_ID
    );
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", tenant::API_SCOPE),
    ];
    let answer: Value = app
        .client
        .post(url)
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().expect("a token").to_owned()
}

fn key_fetches(app: &TestApp) -> usize {
    app.graph_calls()
        .iter()
        .filter(|c| c.contains("/discovery/v2.0/keys"))
        .count()
}

async fn whoami(app: &TestApp, token: &str) -> reqwest::Response {
    app.get_as(token, "/v1/whoami").await
}

#[tokio::test]
async fn a_portal_token_from_the_tenant_issuer_resets_and_is_recorded() {
    let app = TestApp::spawn().await;
    let token = portal_token(
        &app,
        tenant::HELPDESK_PORTAL_CLIENT_ID,
        tenant::HELPDESK_PORTAL_CLIENT_SECRET,
    )
    .await;
    let body = json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL });
    let created: Value = app.post_reset_as(&token, body).await.json().await.unwrap();
    assert_eq!(created["status"], "succeeded", "{created}");
    let row = app.audit_rows().await.pop().unwrap();
    let issuer = format!(
        "{}/{}/v2.0",
        app.config.graph.authority_url,
        tenant::TENANT_ID
    );
    assert_eq!(row["requester_issuer"], json!(issuer));
    assert_eq!(row["requester_subject"], tenant::HELPDESK_PORTAL_SP_ID);
    assert_eq!(row["requester_object_id"], tenant::HELPDESK_PORTAL_SP_ID);
    assert_eq!(row["requester_tenant_id"], tenant::TENANT_ID);
    assert_eq!(row["requester_app"], tenant::HELPDESK_PORTAL_CLIENT_ID);
    // The same subject under the HS256 issuer is someone else.
    let twin = app.token_with(json!({ "sub": tenant::HELPDESK_PORTAL_SP_ID }));
    let id = created["id"].as_str().unwrap();
    expect_problem(
        app.get_as(&twin, &format!("/v1/resets/{id}")).await,
        404,
        "not-found",
    )
    .await;
    assert_eq!(
        app.get_as(&token, &format!("/v1/resets/{id}"))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn roles_from_entra_decide_the_permissions() {
    let app = TestApp::spawn().await;
    let auditor = portal_token(
        &app,
        tenant::AUDITOR_CLIENT_ID,
        tenant::AUDITOR_CLIENT_SECRET,
    )
    .await;
    expect_problem(
        app.post_reset_as(&auditor, json!({ "user": tenant::ADELE_MAIL }))
            .await,
        403,
        "permission-denied",
    )
    .await;
    assert_eq!(app.get_as(&auditor, "/v1/resets").await.status(), 200);
    // An app with no role on the API gets a token without `roles`: it may do nothing.
    let roleless = portal_token(&app, tenant::CLIENT_ID, tenant::CLIENT_SECRET).await;
    let me: Value = whoami(&app, &roleless).await.json().await.unwrap();
    assert_eq!(me["permissions"], json!([]), "{me}");
    expect_problem(
        app.get_as(&roleless, "/v1/resets").await,
        403,
        "permission-denied",
    )
    .await;
}

#[tokio::test]
async fn key_rotation_costs_one_refetch() {
    let app = TestApp::spawn_with(|c| {
        c.auth.oidc.as_mut().unwrap().refresh_interval = std::time::Duration::ZERO;
    })
    .await;
    let old = portal_token(
        &app,
        tenant::HELPDESK_PORTAL_CLIENT_ID,
        tenant::HELPDESK_PORTAL_CLIENT_SECRET,
    )
    .await;
    assert_eq!(whoami(&app, &old).await.status(), 200);
    assert_eq!(key_fetches(&app), 1);
    app.emulator.rotate_signing_key(false).unwrap();
    let new = portal_token(
        &app,
        tenant::HELPDESK_PORTAL_CLIENT_ID,
        tenant::HELPDESK_PORTAL_CLIENT_SECRET,
    )
    .await;
    for _ in 0..3 {
        assert_eq!(whoami(&app, &new).await.status(), 200);
    }
    assert_eq!(
        key_fetches(&app),
        2,
        "one refetch for the new kid, then cached"
    );
    // The old key is gone from the issuer: its tokens stop working.
    expect_problem(whoami(&app, &old).await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn random_kids_do_not_make_the_service_hammer_the_issuer() {
    let app = TestApp::spawn().await;
    let good = portal_token(
        &app,
        tenant::HELPDESK_PORTAL_CLIENT_ID,
        tenant::HELPDESK_PORTAL_CLIENT_SECRET,
    )
    .await;
    assert_eq!(whoami(&app, &good).await.status(), 200);
    let (_, rest) = good.split_once('.').unwrap();
    for i in 0..200 {
        let forged_header =
            base64_url(&json!({ "typ": "JWT", "alg": "RS256", "kid": format!("random-{i}") }));
        let forged = format!("{forged_header}.{rest}");
        expect_problem(whoami(&app, &forged).await, 401, "unauthenticated").await;
    }
    assert_eq!(
        key_fetches(&app),
        1,
        "unknown kids within the interval cause no fetch"
    );
}

#[tokio::test]
async fn an_hmac_token_claiming_the_oidc_issuer_is_refused() {
    let app = TestApp::spawn().await;
    let now = jsonwebtoken::get_current_timestamp();
    let issuer = format!(
        "{}/{}/v2.0",
        app.config.graph.authority_url,
        tenant::TENANT_ID
    );
    let claims = json!({ "iss": issuer, "aud": tenant::API_CLIENT_ID, "sub": "x", "exp": now + 300,
                         "tid": tenant::TENANT_ID, "roles": ["GuestReset.Admin"] });
    // Signed with the demo HS256 secret, and with the issuer's public key material.
    let jwks: Value = app
        .client
        .get(format!(
            "{}/{}/discovery/v2.0/keys",
            app.config.graph.authority_url,
            tenant::TENANT_ID
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let n = jwks["keys"][0]["n"].as_str().unwrap().to_owned();
    for secret in [guest_reset::demo::DEMO_TOKEN_SECRET.to_owned(), n] {
        expect_problem(
            whoami(&app, &sign(&claims, &secret)).await,
            401,
            "unauthenticated",
        )
        .await;
    }
}

fn base64_url(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}
