//! Good tokens through the OIDC route: key location, issuer shapes, tenants, identity.

use serde_json::json;

use super::*;

#[tokio::test]
async fn rs256_and_es256_via_jwks_uri() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    let rsa = verifier
        .verify(&rs256("rsa-1", &good_claims()))
        .await
        .expect("RS256 accepted");
    let ec = verifier
        .verify(&es256("ec-1", &good_claims()))
        .await
        .expect("ES256 accepted");
    assert_eq!(rsa.subject, "subject-1");
    assert_eq!(ec, rsa);
    assert_eq!(idp.paths(), ["/keys"], "one JWKS fetch, no discovery");
    assert_eq!(verifier.key_fetches(), 1);
}

#[tokio::test]
async fn rs256_and_es256_via_discovery_url() {
    let idp = Idp::start(default_jwks()).await;
    let oidc = OidcSettings {
        jwks_uri: None,
        discovery_url: Some(idp.discovery_url()),
        ..oidc_settings(&idp)
    };
    let verifier = Verifier::new(settings(Some(oidc)), http());
    verifier
        .verify(&rs256("rsa-1", &good_claims()))
        .await
        .expect("RS256 accepted");
    verifier
        .verify(&es256("ec-1", &good_claims()))
        .await
        .expect("ES256 accepted");
    assert_eq!((idp.discovery_hits(), idp.jwks_hits()), (1, 1));
    assert_eq!(
        verifier.key_fetches(),
        1,
        "discovery + JWKS count as one fetch"
    );
}

/// Without `jwks_uri` or `discovery_url`, the first issuer's well-known document is read.
#[tokio::test]
async fn discovery_derived_from_the_first_issuer() {
    let idp = Idp::start(default_jwks()).await;
    let oidc = OidcSettings {
        issuers: vec![format!("{}/{{tenantid}}/v2.0/", idp.base)],
        jwks_uri: None,
        ..oidc_settings(&idp)
    };
    let verifier = Verifier::new(settings(Some(oidc)), http());
    let mut claims = good_claims();
    claims["iss"] = json!(format!("{}/{TENANT}/v2.0/", idp.base));
    verifier
        .verify(&rs256("rsa-1", &claims))
        .await
        .expect("accepted");
    let discovery = format!("/{TENANT}/v2.0/.well-known/openid-configuration");
    assert_eq!(idp.paths(), [discovery.as_str(), "/keys"]);
}

/// Both Entra shapes from one template each, for two tenants; tenant ids in
/// configuration are matched case-insensitively.
#[tokio::test]
async fn v1_and_v2_issuers_expanded_for_every_tenant() {
    let idp = Idp::start(default_jwks()).await;
    let oidc = OidcSettings {
        issuers: vec![
            "https://sts.windows.net/{tenantid}/".to_owned(),
            "https://login.microsoftonline.com/{tenantid}/v2.0".to_owned(),
        ],
        tenant_ids: vec![TENANT.to_uppercase(), OTHER_TENANT.to_owned()],
        ..oidc_settings(&idp)
    };
    let verifier = Verifier::new(settings(Some(oidc)), http());
    for tenant in [TENANT, OTHER_TENANT] {
        for iss in [
            format!("https://sts.windows.net/{tenant}/"),
            v2_issuer(tenant),
        ] {
            let mut claims = good_claims();
            claims["iss"] = json!(iss);
            claims["tid"] = json!(tenant);
            let identity = verifier
                .verify(&rs256("rsa-1", &claims))
                .await
                .expect("accepted");
            assert_eq!(identity.issuer, iss);
        }
    }
}

/// A token of one listed tenant must not present itself under another's issuer.
#[tokio::test]
async fn tid_must_match_the_tenant_in_the_issuer() {
    let idp = Idp::start(default_jwks()).await;
    let oidc = OidcSettings {
        tenant_ids: vec![TENANT.to_owned(), OTHER_TENANT.to_owned()],
        ..oidc_settings(&idp)
    };
    let verifier = Verifier::new(settings(Some(oidc)), http());
    let mut claims = good_claims();
    claims["tid"] = json!(OTHER_TENANT);
    let why = refused(verifier.verify(&rs256("rsa-1", &claims)).await);
    assert_eq!(why, "tenant not accepted");
}

#[tokio::test]
async fn wrong_or_missing_tid_refused() {
    let idp = Idp::start(default_jwks()).await;
    // A literal issuer, so only the tenant list decides.
    let oidc = OidcSettings {
        issuers: vec![v2_issuer(TENANT)],
        ..oidc_settings(&idp)
    };
    let verifier = Verifier::new(settings(Some(oidc)), http());
    let mut claims = good_claims();
    claims["tid"] = json!(OTHER_TENANT);
    assert_eq!(
        refused(verifier.verify(&rs256("rsa-1", &claims)).await),
        "tenant not accepted"
    );
    claims.as_object_mut().unwrap().remove("tid");
    assert_eq!(
        refused(verifier.verify(&rs256("rsa-1", &claims)).await),
        "required claim tid missing"
    );
    claims["tid"] = json!(TENANT.to_uppercase());
    verifier
        .verify(&rs256("rsa-1", &claims))
        .await
        .expect("tid compared case-insensitively");
}

#[tokio::test]
async fn tid_optional_without_tenant_ids() {
    let idp = Idp::start(default_jwks()).await;
    let oidc = OidcSettings {
        issuers: vec![v2_issuer(TENANT)],
        tenant_ids: vec![],
        ..oidc_settings(&idp)
    };
    let verifier = Verifier::new(settings(Some(oidc)), http());
    let mut claims = good_claims();
    claims.as_object_mut().unwrap().remove("tid");
    let identity = verifier
        .verify(&rs256("rsa-1", &claims))
        .await
        .expect("accepted");
    assert_eq!(identity.tenant_id, None);
}

/// A template with no tenant to expand it with accepts nothing, not "{tenantid}".
#[tokio::test]
async fn unexpanded_template_accepts_nothing() {
    let idp = Idp::start(default_jwks()).await;
    let oidc = OidcSettings {
        tenant_ids: vec![],
        ..oidc_settings(&idp)
    };
    let verifier = Verifier::new(settings(Some(oidc)), http());
    let mut claims = good_claims();
    claims["iss"] = json!("https://login.microsoftonline.com/{tenantid}/v2.0");
    assert_eq!(
        refused(verifier.verify(&rs256("rsa-1", &claims)).await),
        "issuer not trusted"
    );
    assert_eq!(idp.all_hits(), 0);
}

#[tokio::test]
async fn x5t_names_the_key_when_kid_is_absent() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t": "rsa-1"});
    let token = sign(&header, &good_claims(), &RSA.encoding, Algorithm::RS256);
    verifier.verify(&token).await.expect("found by x5t");
    let header = json!({"alg": "RS256", "typ": "JWT"});
    let token = sign(&header, &good_claims(), &RSA.encoding, Algorithm::RS256);
    assert!(refused(verifier.verify(&token).await).contains("names no signing key"));
}

#[tokio::test]
async fn typ_at_jwt_or_absent_accepted() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    for header in [
        json!({"alg": "RS256", "typ": "at+jwt", "kid": "rsa-1"}),
        json!({"alg": "RS256", "typ": "AT+JWT", "kid": "rsa-1"}),
        json!({"alg": "RS256", "typ": "jwt", "kid": "rsa-1"}),
        json!({"alg": "RS256", "kid": "rsa-1"}),
    ] {
        let token = sign(&header, &good_claims(), &RSA.encoding, Algorithm::RS256);
        verifier
            .verify(&token)
            .await
            .unwrap_or_else(|e| panic!("{header} refused: {e}"));
    }
}

#[tokio::test]
async fn identity_from_a_v2_token() {
    let idp = Idp::start(default_jwks()).await;
    let mut claims = good_claims();
    claims["name"] = json!("Helpdesk Agent");
    claims["preferred_username"] = json!("agent@contoso.com");
    claims["groups"] = json!(["g-1", "g-2"]);
    claims["appid"] = json!("ignored-when-azp-present");
    let identity = verifier(&idp)
        .verify(&rs256("rsa-1", &claims))
        .await
        .expect("accepted");
    let expected = Identity {
        issuer: v2_issuer(TENANT),
        subject: "subject-1".to_owned(),
        object_id: Some("00000000-0000-0000-0000-0000000000aa".to_owned()),
        tenant_id: Some(TENANT.to_owned()),
        app_id: Some("helpdesk-portal".to_owned()),
        name: Some("Helpdesk Agent".to_owned()),
        username: Some("agent@contoso.com".to_owned()),
        roles: vec!["GuestReset.Write".to_owned()],
        scopes: vec!["reset.write".to_owned(), "reset.read".to_owned()],
        groups: vec!["g-1".to_owned(), "g-2".to_owned()],
    };
    assert_eq!(identity, expected);
    let json = serde_json::to_value(&identity).expect("serializes");
    assert_eq!(json["scopes"], json!(["reset.write", "reset.read"]));
}

#[tokio::test]
async fn identity_from_a_v1_token_falls_back() {
    let idp = Idp::start(default_jwks()).await;
    let oidc = OidcSettings {
        issuers: vec!["https://sts.windows.net/{tenantid}/".to_owned()],
        ..oidc_settings(&idp)
    };
    let verifier = Verifier::new(settings(Some(oidc)), http());
    let mut claims = good_claims();
    let map = claims.as_object_mut().unwrap();
    for gone in ["azp", "roles", "scp"] {
        map.remove(gone);
    }
    map.insert(
        "iss".to_owned(),
        json!(format!("https://sts.windows.net/{TENANT}/")),
    );
    map.insert("appid".to_owned(), json!("v1-app"));
    map.insert("upn".to_owned(), json!("agent@contoso.com"));
    let identity = verifier
        .verify(&rs256("rsa-1", &claims))
        .await
        .expect("accepted");
    assert_eq!(identity.app_id.as_deref(), Some("v1-app"));
    assert_eq!(identity.name.as_deref(), Some("agent@contoso.com"));
    assert!(identity.roles.is_empty() && identity.scopes.is_empty() && identity.groups.is_empty());
    claims["preferred_username"] = json!("preferred@contoso.com");
    let identity = verifier
        .verify(&rs256("rsa-1", &claims))
        .await
        .expect("accepted");
    assert_eq!(identity.name.as_deref(), Some("preferred@contoso.com"));
}

#[tokio::test]
async fn roles_that_are_not_an_array_refused() {
    let idp = Idp::start(default_jwks()).await;
    let mut claims = good_claims();
    claims["roles"] = json!("GuestReset.Write");
    assert_eq!(
        refused(verifier(&idp).verify(&rs256("rsa-1", &claims)).await),
        "malformed claims"
    );
}
