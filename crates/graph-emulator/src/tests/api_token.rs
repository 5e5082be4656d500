//! v2.0 access tokens for the tenant's own API (`api://guest-reset`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::super::{Emulator, Seed, demo};
use super::oidc::{helpdesk_token, verify};
use super::{GRAPH_SCOPE, Harness, send};

fn api_form<'a>(client_id: &'a str, secret: &'a str, scope: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", scope),
    ]
}

#[tokio::test]
async fn api_token_verifies_against_the_published_key_with_entras_claims() {
    let harness = Harness::start().await;
    let token = helpdesk_token(&harness).await;

    let data = verify(&harness, &token).await.expect("token verifies");
    let header = &data.header;
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert!(header.kid.is_some() && header.x5t.is_none(), "{header:?}");
    let claims = &data.claims;
    let discovery = harness
        .get_anonymous(&format!(
            "/{}/v2.0/.well-known/openid-configuration",
            demo::TENANT_ID
        ))
        .await;
    assert_eq!(claims["iss"], discovery.body["issuer"]);
    assert_eq!(claims["aud"], demo::API_CLIENT_ID);
    assert_eq!(claims["azp"], demo::HELPDESK_PORTAL_CLIENT_ID);
    assert_eq!(claims["azpacr"], "1");
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["ver"], "2.0");
    assert_eq!(claims["tid"], demo::TENANT_ID);
    assert_eq!(claims["oid"], demo::HELPDESK_PORTAL_SP_ID);
    assert_eq!(claims["sub"], demo::HELPDESK_PORTAL_SP_ID);
    for opaque in ["uti", "rh"] {
        assert!(
            claims[opaque].as_str().is_some_and(|v| !v.is_empty()),
            "{opaque}"
        );
    }
    let (iat, nbf, exp) = (&claims["iat"], &claims["nbf"], &claims["exp"]);
    assert_eq!(iat, nbf);
    assert_eq!(
        exp.as_u64().unwrap_or_default() - iat.as_u64().unwrap_or_default(),
        3599
    );
}

#[tokio::test]
async fn each_client_gets_the_roles_assigned_to_it_on_the_api() {
    let harness = Harness::start().await;
    let cases = [
        (
            demo::HELPDESK_PORTAL_CLIENT_ID,
            demo::HELPDESK_PORTAL_CLIENT_SECRET,
            json!([demo::APP_ROLE_HELPDESK, demo::APP_ROLE_REDEEM_URL]),
        ),
        (
            demo::AUDITOR_CLIENT_ID,
            demo::AUDITOR_CLIENT_SECRET,
            json!([demo::APP_ROLE_AUDITOR]),
        ),
        (
            demo::ADMIN_CLIENT_ID,
            demo::ADMIN_CLIENT_SECRET,
            json!([demo::APP_ROLE_ADMIN]),
        ),
        // No role on the API and assignment not required: a token without `roles`.
        (demo::CLIENT_ID, demo::CLIENT_SECRET, Value::Null),
    ];
    for (client_id, secret, roles) in cases {
        let token = harness
            .token_for_scope(client_id, secret, demo::API_SCOPE)
            .await;
        let claims = verify(&harness, &token)
            .await
            .expect("token verifies")
            .claims;
        assert_eq!(
            claims.get("roles").cloned().unwrap_or_default(),
            roles,
            "{client_id}"
        );
        assert_eq!(claims["azp"], client_id);
    }
}

#[tokio::test]
async fn app_id_uri_and_client_id_scopes_both_give_the_client_id_audience() {
    let harness = Harness::start().await;
    let by_id = format!("{}/.default", demo::API_CLIENT_ID);
    for scope in [
        demo::API_SCOPE,
        "API://Guest-Reset/.default",
        by_id.as_str(),
    ] {
        let (id, secret) = (demo::AUDITOR_CLIENT_ID, demo::AUDITOR_CLIENT_SECRET);
        let token = harness.token_for_scope(id, secret, scope).await;
        let claims = verify(&harness, &token).await.expect("verifies").claims;
        assert_eq!(claims["aud"], demo::API_CLIENT_ID, "{scope}");
    }
}

#[tokio::test]
async fn bad_api_token_requests_get_the_aad_errors() {
    let harness = Harness::start().await;
    let mixed = format!("{} {GRAPH_SCOPE}", demo::API_SCOPE);
    let cases = [
        (
            demo::HELPDESK_PORTAL_CLIENT_ID,
            "wrong-secret",
            demo::API_SCOPE,
            401,
            7000215,
        ),
        (
            demo::HELPDESK_PORTAL_CLIENT_ID,
            demo::HELPDESK_PORTAL_CLIENT_SECRET,
            "api://other/.default",
            400,
            500011,
        ),
        (
            demo::HELPDESK_PORTAL_CLIENT_ID,
            demo::HELPDESK_PORTAL_CLIENT_SECRET,
            mixed.as_str(),
            400,
            28000,
        ),
        // The API registration has no secret: it cannot sign in itself.
        (demo::API_CLIENT_ID, "", demo::API_SCOPE, 401, 7000218),
    ];
    for (client_id, secret, scope, status, code) in cases {
        let form = api_form(client_id, secret, scope);
        let reply = send(harness.token_request(demo::TENANT_ID, &form)).await;
        assert_eq!(reply.status.as_u16(), status, "{scope}: {}", reply.body);
        assert_eq!(reply.body["error_codes"], json!([code]), "{scope}");
    }
}

#[tokio::test]
async fn assignment_required_refuses_a_client_without_a_role() {
    let mut seed = Seed::demo();
    let api = seed
        .apps
        .iter_mut()
        .find(|a| a.client_id == demo::API_CLIENT_ID);
    api.expect("demo API app").app_role_assignment_required = true;
    let harness = Harness::over(Emulator::from_seed(seed)).await;

    let form = api_form(demo::CLIENT_ID, demo::CLIENT_SECRET, demo::API_SCOPE);
    let reply = send(harness.token_request(demo::TENANT_ID, &form)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.body["error"], "invalid_grant");
    assert_eq!(reply.body["error_codes"], json!([501051]));
    let description = reply.body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains("is not assigned to a role"),
        "{description}"
    );
    assert!(
        verify(&harness, &helpdesk_token(&harness).await)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn graph_tokens_are_unchanged_and_api_tokens_do_not_open_graph() {
    let harness = Harness::start().await;
    let graph = harness.token().await;
    let header = jsonwebtoken::decode_header(&graph).expect("header");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    assert!(header.kid.is_none());
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(&graph)
        .expect("claims")
        .claims;
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert_eq!(claims["ver"], "1.0");
    assert!(
        verify(&harness, &graph).await.is_err(),
        "Graph token passes as API token"
    );

    let path = format!("/v1.0/users/{}", demo::ADELE_ID);
    assert_eq!(harness.get(&graph, &path).await.status, StatusCode::OK);
    let api = helpdesk_token(&harness).await;
    assert_eq!(
        harness.get(&api, &path).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn issue_api_token_mints_the_endpoints_token_without_http() {
    let harness = Harness::start().await;
    let token = harness
        .emulator
        .issue_api_token(&harness.base, demo::ADMIN_CLIENT_ID)
        .expect("minted");
    let claims = verify(&harness, &token).await.expect("verifies").claims;
    assert_eq!(claims["iss"], harness.emulator.api_issuer(&harness.base));
    assert_eq!(claims["roles"], json!([demo::APP_ROLE_ADMIN]));
    assert_eq!(claims["sub"], demo::ADMIN_SP_ID);
    let unknown = "00000000-0000-0000-0000-000000000001";
    assert!(
        harness
            .emulator
            .issue_api_token(&harness.base, unknown)
            .is_none()
    );
}
