//! Several tenants on one router: the authority picks the tenant by path, Graph by the
//! token's `tid`, and each tenant keeps its own directory and keys.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, StatusCode};
use serde_json::Value;

use super::super::{Cloud, Emulator, demo};
use super::{GRAPH_SCOPE, Harness, Reply, send};
use demo::tailspin;

/// A harness over a whole cloud; `emulator` is the home tenant.
pub(super) async fn serve(cloud: &Cloud) -> Harness {
    let addr = cloud.spawn("127.0.0.1:0").await.expect("cloud binds");
    let http = Client::builder().no_proxy().build().expect("client builds");
    Harness {
        emulator: cloud.tenants()[0].clone(),
        base: format!("http://{addr}"),
        http,
    }
}

/// A client-credentials grant at `tenant`'s authority.
pub(super) async fn grant(harness: &Harness, tenant: &str, client: (&str, &str)) -> Reply {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client.0),
        ("client_secret", client.1),
        ("scope", GRAPH_SCOPE),
    ];
    send(harness.token_request(tenant, &form)).await
}

/// A Graph token of the shared (multi-tenant) app from `tenant`'s authority.
pub(super) async fn shared_app_token(harness: &Harness, tenant: &str) -> String {
    let reply = grant(harness, tenant, (demo::CLIENT_ID, demo::CLIENT_SECRET)).await;
    assert_eq!(reply.status, StatusCode::OK, "{tenant}: {}", reply.body);
    reply.body["access_token"].as_str().unwrap().to_owned()
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The same token with its payload's `tid` replaced; the signature is left as it was.
fn with_tid(token: &str, tid: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut payload = claims(token);
    payload["tid"] = Value::from(tid);
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
    parts.join(".")
}

#[tokio::test]
async fn the_shared_app_gets_a_token_from_each_tenants_authority_carrying_its_tid() {
    let harness = serve(&Cloud::demo()).await;
    let cases = [
        (
            demo::TENANT_ID,
            demo::TENANT_ID,
            "c667991c-00a1-4917-853c-3b5659ebcc1c",
        ),
        (
            tailspin::TENANT_ID,
            tailspin::TENANT_ID,
            tailspin::CLIENT_SP_ID,
        ),
        (
            tailspin::TENANT_DOMAIN,
            tailspin::TENANT_ID,
            tailspin::CLIENT_SP_ID,
        ),
    ];
    for (authority, tid, oid) in cases {
        let claims = claims(&shared_app_token(&harness, authority).await);
        assert_eq!(claims["tid"], tid, "{authority}: {claims}");
        assert_eq!(claims["oid"], oid, "{authority}: {claims}");
        assert_eq!(claims["appid"], demo::CLIENT_ID, "{authority}");
        assert_eq!(claims["iss"], format!("https://sts.windows.net/{tid}/"));
    }
    let own = (tailspin::OWN_CLIENT_ID, tailspin::OWN_CLIENT_SECRET);
    assert_eq!(grant(&harness, tailspin::TENANT_ID, own).await.status, 200);
    // Tailspin's own app is registered in Tailspin only.
    let refused = grant(&harness, demo::TENANT_ID, own).await;
    assert_eq!(refused.body["error_codes"], serde_json::json!([700016]));
}

#[tokio::test]
async fn graph_serves_each_token_the_directory_of_its_own_tenant() {
    let harness = serve(&Cloud::demo()).await;
    let contoso = shared_app_token(&harness, demo::TENANT_ID).await;
    let tailspin = shared_app_token(&harness, tailspin::TENANT_DOMAIN).await;
    let cases = [
        (&tailspin, tailspin::ALEX_ID, StatusCode::OK),
        (&tailspin, tailspin::PRADEEP_ID, StatusCode::OK),
        (&tailspin, demo::ADELE_ID, StatusCode::NOT_FOUND),
        (&contoso, demo::ADELE_ID, StatusCode::OK),
        (&contoso, tailspin::ALEX_ID, StatusCode::NOT_FOUND),
    ];
    for (token, user, status) in cases {
        let reply = harness.get(token, &format!("/v1.0/users/{user}")).await;
        assert_eq!(reply.status, status, "{user}: {}", reply.body);
    }
    // The same mail domain in both tenants: each token finds its own tenant's guests.
    let by_mail = format!("/v1.0/users?$filter=mail eq '{}'", tailspin::PRADEEP_MAIL);
    let found = harness.get(&tailspin, &by_mail).await;
    assert_eq!(found.body["value"][0]["id"], tailspin::PRADEEP_ID);
    let found = harness.get(&contoso, &by_mail).await;
    assert_eq!(found.body["value"], serde_json::json!([]), "{}", found.body);
}

#[tokio::test]
async fn a_token_whose_tid_was_edited_is_refused_by_the_tenant_it_names() {
    let cloud = Cloud::demo();
    let harness = serve(&cloud).await;
    let contoso = shared_app_token(&harness, demo::TENANT_ID).await;
    let forged = with_tid(&contoso, tailspin::TENANT_ID);
    let path = format!("/v1.0/users/{}", tailspin::ALEX_ID);
    let reply = harness.get(&forged, &path).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert_eq!(reply.code(), "InvalidAuthenticationToken");
    // Tailspin judged it (with its own key); Contoso never saw the Graph call.
    let tailspin_log = cloud.tenant(tailspin::TENANT_ID).unwrap().requests();
    assert!(
        tailspin_log
            .iter()
            .any(|r| r.path == path && r.status == 401)
    );
    assert!(harness.emulator.requests().iter().all(|r| r.path != path));
}

#[tokio::test]
async fn graph_without_a_readable_token_is_answered_by_the_home_tenant() {
    let cloud = Cloud::demo();
    let harness = serve(&cloud).await;
    for token in ["", "not-a-jwt", "a.%%%.c"] {
        let reply = harness.get(token, "/v1.0/users").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token:?}");
    }
    let tailspin = cloud.tenant(tailspin::TENANT_DOMAIN).unwrap();
    assert!(tailspin.requests().is_empty());
    assert_eq!(harness.emulator.requests().len(), 3);
}

/// Status, `error` and `error_codes` of an authority answer, and its message without
/// the per-request trace lines.
fn aad_outcome(reply: &Reply) -> (StatusCode, Value, Value, String) {
    let description = reply.body["error_description"].as_str().unwrap_or_default();
    let message = description.split("\r\n").next().unwrap_or_default();
    let body = &reply.body;
    let (error, codes) = (body["error"].clone(), body["error_codes"].clone());
    (reply.status, error, codes, message.to_owned())
}

#[tokio::test]
async fn names_no_tenant_knows_are_answered_as_a_lone_emulator_answers_them() {
    let cloud = serve(&Cloud::demo()).await;
    let lone = Harness::over(Emulator::demo()).await;
    let unknown = "00000000-0000-0000-0000-0000000000aa";
    for tenant in [
        unknown,
        "fabrikam.onmicrosoft.com",
        "common",
        "organizations",
    ] {
        let client = (demo::CLIENT_ID, demo::CLIENT_SECRET);
        let (ours, theirs) = (grant(&cloud, tenant, client), grant(&lone, tenant, client));
        let (ours, theirs) = (ours.await, theirs.await);
        assert_eq!(aad_outcome(&ours), aad_outcome(&theirs), "{tenant}");
        let path = format!("/{tenant}/v2.0/.well-known/openid-configuration");
        let (ours, theirs) = (cloud.get_anonymous(&path), lone.get_anonymous(&path));
        let (ours, theirs) = (ours.await, theirs.await);
        assert_eq!(ours.status, theirs.status, "{path}");
        assert_eq!(
            ours.body["error_codes"], theirs.body["error_codes"],
            "{path}"
        );
    }
    let outcome = aad_outcome(&grant(&cloud, unknown, (demo::CLIENT_ID, "x")).await);
    assert_eq!(outcome.2, serde_json::json!([90002]));
}

#[tokio::test]
async fn a_tenant_without_the_shared_apps_service_principal_refuses_it_as_unknown() {
    let cloud = Cloud::demo();
    let harness = serve(&cloud).await;
    let tailspin = cloud.tenant(tailspin::TENANT_DOMAIN).unwrap();
    assert!(tailspin.remove_app(demo::CLIENT_ID));
    assert!(!tailspin.remove_app(demo::CLIENT_ID));
    let client = (demo::CLIENT_ID, demo::CLIENT_SECRET);
    let reply = grant(&harness, tailspin::TENANT_ID, client).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.body["error"], "unauthorized_client");
    assert_eq!(reply.body["error_codes"], serde_json::json!([700016]));
    // Contoso still has it.
    shared_app_token(&harness, demo::TENANT_ID).await;
}

#[tokio::test]
async fn the_discovery_document_of_each_tenant_names_its_own_issuer() {
    let harness = serve(&Cloud::demo()).await;
    let path = format!(
        "/{}/v2.0/.well-known/openid-configuration",
        tailspin::TENANT_DOMAIN
    );
    let reply = harness.get_anonymous(&path).await;
    let issuer = format!("{}/{}/v2.0", harness.base, tailspin::TENANT_ID);
    assert_eq!(reply.body["issuer"], issuer.as_str(), "{}", reply.body);
}
