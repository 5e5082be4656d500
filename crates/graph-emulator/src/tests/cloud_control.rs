//! The control surface of a cloud: `/_emulator/…` is the home tenant's, and
//! `/_emulator/tenants/{id or domain}/…` reaches any tenant's.

use reqwest::StatusCode;
use serde_json::json;

use super::super::{Cloud, Emulator, FaultRoute, demo};
use super::cloud::{serve, shared_app_token};
use super::{Harness, send};
use demo::tailspin;

const UNAVAILABLE_GET_USER: &str = r#"{"seed":1,"rules":[{"route":"get_user","fault":{"kind":"unavailable","status":503},"probability":1.0}]}"#;

fn tenant_path(tenant: &str, rest: &str) -> String {
    format!("/_emulator/tenants/{tenant}/{rest}")
}

#[tokio::test]
async fn the_request_log_of_a_tenant_shows_only_its_traffic() {
    let harness = serve(&Cloud::demo()).await;
    let contoso = shared_app_token(&harness, demo::TENANT_ID).await;
    let tailspin = shared_app_token(&harness, tailspin::TENANT_ID).await;
    harness
        .get(&contoso, &format!("/v1.0/users/{}", demo::ADELE_ID))
        .await;
    harness
        .get(&tailspin, &format!("/v1.0/users/{}", tailspin::ALEX_ID))
        .await;
    let path = tenant_path(tailspin::TENANT_DOMAIN, "requests");
    let log = harness.get_anonymous(&path).await.body;
    let paths: Vec<&str> = (log.as_array().unwrap().iter())
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    let token_path = format!("/{}/oauth2/v2.0/token", tailspin::TENANT_ID);
    let alex = format!("/v1.0/users/{}", tailspin::ALEX_ID);
    assert_eq!(paths, [token_path.as_str(), alex.as_str()]);
    // The plain control route is still the home tenant's.
    let home = harness.get_anonymous("/_emulator/requests").await.body;
    assert_eq!(home[1]["path"], format!("/v1.0/users/{}", demo::ADELE_ID));
    assert_eq!(home.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn faults_set_on_one_tenant_leave_the_other_alone() {
    let cloud = Cloud::demo();
    let harness = serve(&cloud).await;
    let put = harness
        .http
        .put(harness.url(&tenant_path(tailspin::TENANT_ID, "faults")));
    let reply = send(put.body(UNAVAILABLE_GET_USER)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let contoso = shared_app_token(&harness, demo::TENANT_ID).await;
    let tailspin = shared_app_token(&harness, tailspin::TENANT_DOMAIN).await;
    let alex = format!("/v1.0/users/{}", tailspin::ALEX_ID);
    let status = harness.get(&tailspin, &alex).await.status;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let adele = format!("/v1.0/users/{}", demo::ADELE_ID);
    assert_eq!(harness.get(&contoso, &adele).await.status, StatusCode::OK);
    assert!(harness.emulator.faults().is_none());
    let home = harness.get_anonymous("/_emulator/faults").await;
    assert_eq!(home.body, serde_json::Value::Null);
    let theirs = tenant_path(tailspin::TENANT_ID, "faults");
    let theirs = harness.get_anonymous(&theirs).await;
    assert_eq!(theirs.body["rules"][0]["route"], "get_user");
    let tailspin_tenant = cloud.tenant(tailspin::TENANT_ID).unwrap();
    assert!(tailspin_tenant.faults().is_some());
}

#[tokio::test]
async fn limits_and_users_are_per_tenant_over_http() {
    let harness = serve(&Cloud::demo()).await;
    let path = tenant_path(tailspin::TENANT_DOMAIN, "limits");
    let put = harness.http.put(harness.url(&path));
    let reply = send(put.json(&json!({ "invitations_per_window": 3 }))).await;
    assert_eq!(reply.body["invitations_per_window"], 3, "{}", reply.body);
    let home = harness.get_anonymous("/_emulator/limits").await;
    assert_eq!(home.body["invitations_per_window"], 150);
    let alex = tenant_path(tailspin::TENANT_ID, &format!("users/{}", tailspin::ALEX_ID));
    assert_eq!(harness.get_anonymous(&alex).await.status, StatusCode::OK);
    let adele = tenant_path(tailspin::TENANT_ID, &format!("users/{}", demo::ADELE_ID));
    assert_eq!(harness.get_anonymous(&adele).await.status, 404);
}

#[tokio::test]
async fn an_unknown_tenant_on_the_control_surface_is_a_json_404() {
    let harness = serve(&Cloud::demo()).await;
    let reply = harness
        .get_anonymous(&tenant_path("fabrikam.onmicrosoft.com", "requests"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body["error"], "no tenant 'fabrikam.onmicrosoft.com'");
}

#[tokio::test]
async fn the_tenants_are_listed_home_first() {
    let harness = serve(&Cloud::demo()).await;
    let reply = harness.get_anonymous("/_emulator/tenants").await;
    let expected = json!([
        { "id": demo::TENANT_ID, "domain": demo::TENANT_DOMAIN, "displayName": "Contoso", "home": true },
        { "id": tailspin::TENANT_ID, "domain": tailspin::TENANT_DOMAIN, "displayName": "Tailspin Toys", "home": false },
    ]);
    assert_eq!(reply.body, expected);
}

#[tokio::test]
async fn a_single_tenant_cloud_keeps_the_control_routes_and_the_graph_routes() {
    let harness = serve(&Cloud::single(Emulator::demo())).await;
    let token = harness.token().await;
    let reply = send(harness.graph_request(&token, FaultRoute::GetUser)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let put = harness.http.put(harness.url("/_emulator/faults"));
    assert_eq!(send(put.body(UNAVAILABLE_GET_USER)).await.status, 204);
    let reply = send(harness.graph_request(&token, FaultRoute::GetUser)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let log = harness.get_anonymous("/_emulator/requests").await.body;
    assert_eq!(log[2]["injected"], "unavailable", "{log}");
    let limits = harness.get_anonymous("/_emulator/limits").await;
    assert_eq!(limits.body["invitations_per_window"], 150);
    let adele = format!("/_emulator/users/{}", demo::ADELE_ID);
    let user = harness.get_anonymous(&adele).await;
    assert_eq!(user.body["mail"], demo::ADELE_MAIL);
    let same = tenant_path(demo::TENANT_DOMAIN, "faults");
    assert_eq!(harness.get_anonymous(&same).await.body["seed"], 1);
    let graph_404 = harness.get(&token, "/v1.0/groups").await;
    assert_eq!(graph_404.code(), "BadRequest");
}

#[tokio::test]
async fn a_single_tenant_cloud_answers_like_its_emulator_for_unknown_paths() {
    let cloud = serve(&Cloud::single(Emulator::demo())).await;
    let lone = Harness::over(Emulator::demo()).await;
    for path in ["/_emulator/nothing", "/beta/users", "/"] {
        let (ours, theirs) = (cloud.get_anonymous(path), lone.get_anonymous(path));
        let (ours, theirs) = (ours.await, theirs.await);
        assert_eq!(ours.status, theirs.status, "{path}");
        assert_eq!(
            ours.body["error"]["code"], theirs.body["error"]["code"],
            "{path}"
        );
    }
}
