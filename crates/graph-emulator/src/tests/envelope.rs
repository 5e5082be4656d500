//! Headers every Graph response carries, unknown routes and methods, the request log,
//! the control surface and seed loading.

use reqwest::StatusCode;
use serde_json::json;

use super::super::{Emulator, demo};
use super::{Harness, send};

#[tokio::test]
async fn responses_carry_request_ids_and_echo_client_request_id() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let url = harness.url(&format!("/v1.0/users/{}", demo::ADELE_ID));
    let sent = "9e3f6a0c-58a4-4c8e-9d3f-1f2a3b4c5d6e";
    let reply = send(
        harness
            .http
            .get(&url)
            .bearer_auth(&token)
            .header("client-request-id", sent),
    )
    .await;

    assert!(
        uuid::Uuid::parse_str(reply.header("request-id")).is_ok(),
        "{:?}",
        reply.headers
    );
    assert_eq!(reply.header("client-request-id"), sent);
    assert!(
        reply
            .header("x-ms-ags-diagnostic")
            .starts_with(r#"{"ServerInfo":"#)
    );
    assert!(
        reply
            .header("content-type")
            .starts_with("application/json;odata.metadata=minimal")
    );

    let missing = send(
        harness
            .http
            .get(harness.url("/v1.0/users/nobody@x.example"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let request_id = missing.header("request-id");
    assert_eq!(
        missing.header("client-request-id"),
        request_id,
        "absent id falls back to request-id"
    );
    let inner = &missing.body["error"]["innerError"];
    assert_eq!(inner["request-id"], request_id);
    assert_eq!(inner["client-request-id"], request_id);
    let date = inner["date"].as_str().unwrap_or_default();
    assert!(
        date.len() == 19 && date.as_bytes()[10] == b'T' && !date.ends_with('Z'),
        "{date}"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_get_graph_errors() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let reply = harness.get(&token, "/v1.0/groups").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.message(),
        "Resource not found for the segment 'groups'."
    );
    assert!(!reply.header("request-id").is_empty());

    let url = harness.url(&format!("/v1.0/users/{}", demo::ADELE_ID));
    let reply = send(harness.http.delete(&url).bearer_auth(&token)).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.code(), "Request_BadRequest");
}

#[tokio::test]
async fn request_log_redacts_credentials() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let basic = [
        ("grant_type", "client_credentials"),
        ("scope", super::GRAPH_SCOPE),
    ];
    let request = harness
        .token_request(demo::TENANT_ID, &basic)
        .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET));
    assert_eq!(send(request).await.status, StatusCode::OK);
    harness
        .invite(&token, json!({ "invitedUserEmailAddress": "x" }))
        .await;

    let log = harness.emulator.requests();
    assert_eq!(log.len(), 3);
    let everything = serde_json::to_string(&log).unwrap_or_default();
    assert!(
        !everything.contains(demo::CLIENT_SECRET),
        "secret leaked: {everything}"
    );
    assert!(!everything.contains(&token), "bearer token leaked");
    let form = log[0].body.clone().unwrap_or_default();
    assert_eq!(
        form,
        json!({ "grant_type": "client_credentials", "client_id": demo::CLIENT_ID, "scope": super::GRAPH_SCOPE, "client_secret": "[redacted]" })
    );
    // A secret sent by HTTP Basic is not in the form: only the header shows it came.
    assert!(
        log[1]
            .body
            .clone()
            .unwrap_or_default()
            .get("client_secret")
            .is_none()
    );
    let authorization = |i: usize| {
        log[i]
            .headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .map(|(_, v)| v.clone())
    };
    assert_eq!(authorization(1).as_deref(), Some("[redacted]"));
    assert_eq!(authorization(2).as_deref(), Some("[redacted]"));
    assert_eq!(
        (log[2].method.as_str(), log[2].path.as_str(), log[2].status),
        ("POST", "/v1.0/invitations", 400)
    );
    assert_eq!(log[2].body, Some(json!({ "invitedUserEmailAddress": "x" })));

    harness.emulator.clear_requests();
    assert!(harness.emulator.requests().is_empty());
}

#[tokio::test]
async fn request_log_keeps_the_raw_encoded_path() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let encoded = demo::ADELE_UPN.replace('#', "%23");
    harness
        .get(&token, &format!("/v1.0/users/{encoded}?$select=id"))
        .await;
    let last = harness.emulator.requests().pop().expect("logged");
    assert_eq!(last.path, format!("/v1.0/users/{encoded}"));
    assert_eq!(last.query.as_deref(), Some("$select=id"));
    assert_eq!(last.status, 200);
}

#[tokio::test]
async fn control_surface_shows_user_state_and_is_not_logged() {
    let harness = Harness::start().await;
    let reply = send(
        harness
            .http
            .get(harness.url(&format!("/_emulator/users/{}", demo::ADELE_ID))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["otherMails"], json!([]));
    assert_eq!(reply.body["externalUserState"], "Accepted");
    let log = send(harness.http.get(harness.url("/_emulator/requests"))).await;
    assert_eq!(log.body, json!([]));
}

#[test]
fn seed_file_errors_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tenant.json");
    std::fs::write(
        &path,
        r#"{"tenant":{"id":"not-a-guid","domain":"x.example"}}"#,
    )
    .expect("write");
    let error = Emulator::from_seed_file(&path)
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        error.contains("tenant.json") && error.contains("not a GUID"),
        "{error}"
    );

    std::fs::write(&path, "{ nope").expect("write");
    let error = Emulator::from_seed_file(&path)
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        error.contains("tenant.json") && error.contains("line 1"),
        "{error}"
    );
}
