//! OpenID Connect metadata: the discovery document, the published keys, key rotation.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, TokenData, Validation};
use reqwest::StatusCode;
use serde_json::Value;

use super::super::demo;
use super::{Harness, Reply};

fn discovery_path(tenant: &str) -> String {
    format!("/{tenant}/v2.0/.well-known/openid-configuration")
}

fn keys_path(tenant: &str) -> String {
    format!("/{tenant}/discovery/v2.0/keys")
}

/// Validates an API token the way a resource server should: the key chosen by `kid`
/// from the published set, RS256 pinned, audience and issuer exact, `nbf` checked.
pub(super) async fn verify(harness: &Harness, token: &str) -> Result<TokenData<Value>, String> {
    verify_for(harness, token, demo::API_CLIENT_ID).await
}

/// [`verify`] for another audience (an ID token's is the client's id).
pub(super) async fn verify_for(
    harness: &Harness,
    token: &str,
    audience: &str,
) -> Result<TokenData<Value>, String> {
    let keys = harness.get_anonymous(&keys_path(demo::TENANT_ID)).await;
    let set: JwkSet = serde_json::from_value(keys.body).map_err(|e| e.to_string())?;
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = set
        .find(&kid)
        .ok_or_else(|| format!("kid {kid} not published"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[harness.emulator.api_issuer(&harness.base)]);
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    validation.validate_nbf = true;
    jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| e.to_string())
}

pub(super) async fn helpdesk_token(harness: &Harness) -> String {
    let (id, secret) = (
        demo::HELPDESK_PORTAL_CLIENT_ID,
        demo::HELPDESK_PORTAL_CLIENT_SECRET,
    );
    harness.token_for_scope(id, secret, demo::API_SCOPE).await
}

fn kids(reply: &Reply) -> Vec<String> {
    let keys = reply.body["keys"].as_array().cloned().unwrap_or_default();
    keys.iter()
        .filter_map(|k| k["kid"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn discovery_document_has_entras_shape_at_the_emulators_origin() {
    let harness = Harness::start().await;
    let issuer = format!("{}/{}/v2.0", harness.base, demo::TENANT_ID);
    let tenant_base = format!("{}/{}", harness.base, demo::TENANT_ID);
    for tenant in [demo::TENANT_ID, demo::TENANT_DOMAIN] {
        let reply = harness.get_anonymous(&discovery_path(tenant)).await;
        let doc = &reply.body;
        assert_eq!(reply.status, StatusCode::OK, "{tenant}: {doc}");
        assert_eq!(doc["issuer"], issuer.as_str(), "{tenant}");
        assert_eq!(
            doc["jwks_uri"],
            format!("{tenant_base}/discovery/v2.0/keys")
        );
        assert_eq!(
            doc["token_endpoint"],
            format!("{tenant_base}/oauth2/v2.0/token")
        );
        let authorize = format!("{tenant_base}/oauth2/v2.0/authorize");
        assert_eq!(doc["authorization_endpoint"], authorize);
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256"])
        );
        assert_eq!(
            doc["subject_types_supported"],
            serde_json::json!(["pairwise"])
        );
        for list in [
            "response_types_supported",
            "token_endpoint_auth_methods_supported",
        ] {
            assert!(
                doc[list].as_array().is_some_and(|l| !l.is_empty()),
                "{list}"
            );
        }
        assert!(doc["tenant_region_scope"].is_string());
        assert_eq!(reply.header("cache-control"), "max-age=86400, private");
    }
    assert_eq!(
        harness.emulator.api_issuer(&format!("{}/", harness.base)),
        issuer
    );
}

#[tokio::test]
async fn common_metadata_uses_the_tenant_template() {
    let harness = Harness::start().await;
    let doc = harness.get_anonymous(&discovery_path("common")).await.body;
    assert_eq!(doc["issuer"], format!("{}/{{tenantid}}/v2.0", harness.base));
    assert_eq!(
        doc["jwks_uri"],
        format!("{}/common/discovery/v2.0/keys", harness.base)
    );
    assert_eq!(doc["tenant_region_scope"], Value::Null);

    let common = harness.get_anonymous(&keys_path("common")).await;
    let tenant = harness.get_anonymous(&keys_path(demo::TENANT_ID)).await;
    assert_eq!(kids(&common), kids(&tenant));
    assert_eq!(common.body["keys"][0]["issuer"], doc["issuer"]);
}

#[tokio::test]
async fn unknown_tenant_metadata_is_aadsts90002() {
    let harness = Harness::start().await;
    let tenant = "00000000-0000-0000-0000-0000000000aa";
    for path in [discovery_path(tenant), keys_path(tenant)] {
        let reply = harness.get_anonymous(&path).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(reply.body["error"], "invalid_tenant", "{path}");
        assert_eq!(
            reply.body["error_codes"],
            serde_json::json!([90002]),
            "{path}"
        );
        let description = reply.body["error_description"].as_str().unwrap_or_default();
        assert!(
            description.starts_with("AADSTS90002: Tenant '"),
            "{description}"
        );
    }
}

#[tokio::test]
async fn published_keys_are_public_rsa_signing_keys() {
    let harness = Harness::start().await;
    let reply = harness.get_anonymous(&keys_path(demo::TENANT_DOMAIN)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), "max-age=86400, private");
    let keys = reply.body["keys"].as_array().cloned().unwrap_or_default();
    assert_eq!(keys.len(), 1, "{}", reply.body);
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    assert_eq!(
        key["kid"].as_str().map(str::len),
        Some(27),
        "x5t-shaped kid"
    );
    assert!(
        key["n"].as_str().is_some_and(|n| n.len() == 342),
        "2048-bit n: {key}"
    );
    assert_eq!(key["issuer"], harness.emulator.api_issuer(&harness.base));
    for private in ["d", "p", "q", "dp", "dq", "qi", "alg"] {
        assert!(key.get(private).is_none(), "{private} published: {key}");
    }
}

#[tokio::test]
async fn rotation_signs_with_a_new_key_and_keeps_the_old_one_published() {
    let harness = Harness::start().await;
    let old_token = helpdesk_token(&harness).await;
    let old_kid = jsonwebtoken::decode_header(&old_token)
        .ok()
        .and_then(|h| h.kid);

    let url = harness.url("/_emulator/keys/rotate");
    let reply = super::send(harness.http.post(&url)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let new_kid = reply.body["kid"].as_str().map(str::to_owned);
    assert!(
        new_kid.is_some() && new_kid != old_kid,
        "{new_kid:?} vs {old_kid:?}"
    );
    let published = kids(&harness.get_anonymous(&keys_path(demo::TENANT_ID)).await);
    assert_eq!(published.len(), 2);
    assert!(old_kid.as_ref().is_some_and(|k| published.contains(k)));

    let new_token = helpdesk_token(&harness).await;
    assert_eq!(
        jsonwebtoken::decode_header(&new_token)
            .ok()
            .and_then(|h| h.kid),
        new_kid
    );
    assert!(verify(&harness, &new_token).await.is_ok());
    assert!(
        verify(&harness, &old_token).await.is_ok(),
        "old token still verifies"
    );

    let reply = super::send(harness.http.post(format!("{url}?drop_old=true"))).await;
    let newest = reply.body["kid"].as_str().map(str::to_owned);
    let published = kids(&harness.get_anonymous(&keys_path(demo::TENANT_ID)).await);
    assert_eq!(published, newest.into_iter().collect::<Vec<_>>());
    let refused = verify(&harness, &new_token).await.unwrap_err();
    assert!(refused.contains("not published"), "{refused}");
}
