//! Graph refusals become named problems, never Graph's own body.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::{TestApp, expect_problem, tenant};
use secrecy::SecretString;
use serde_json::json;

#[tokio::test]
async fn wrong_client_secret_is_graph_credentials_invalid() {
    let app =
        TestApp::spawn_with(|c| c.graph.client_secret = SecretString::from("not-the-secret")).await;
    let problem = expect_problem(
        app.post_reset(json!({ "user": tenant::ADELE_MAIL })).await,
        502,
        "graph-credentials-invalid",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("7000215"),
        "{problem}"
    );
    assert!(
        !problem.to_string().contains("Trace ID"),
        "the token endpoint's text is not passed through"
    );
    assert_eq!(app.audit_rows().await[0]["status"], "failed");
}

#[tokio::test]
async fn expired_client_secret_is_graph_credentials_expired() {
    let app = TestApp::spawn_with(|c| {
        c.graph.client_id = tenant::EXPIRED_CLIENT_ID.into();
        c.graph.client_secret = SecretString::from(tenant::EXPIRED_CLIENT_SECRET);
    })
    .await;
    expect_problem(
        app.post_reset(json!({ "user": tenant::ADELE_MAIL })).await,
        502,
        "graph-credentials-expired",
    )
    .await;
}

#[tokio::test]
async fn app_with_only_user_invite_all_cannot_reset() {
    let app = TestApp::spawn_with(|c| {
        c.graph.client_id = tenant::INVITE_ONLY_CLIENT_ID.into();
        c.graph.client_secret = SecretString::from(tenant::INVITE_ONLY_CLIENT_SECRET);
    })
    .await;
    // Writing otherMails needs User.ReadWrite.All: refused by Graph, named.
    let patch = expect_problem(
        app.post_reset(json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL }))
            .await,
        502,
        "graph-permission-missing",
    )
    .await;
    assert!(
        patch["detail"]
            .as_str()
            .unwrap()
            .contains("User.ReadWrite.All"),
        "{patch}"
    );
    // Resetting with the current address: the invitation API refuses.
    let invite = app
        .post_reset(json!({ "user": tenant::PENDING_GUEST_MAIL }))
        .await;
    let problem = expect_problem(invite, 502, "graph-forbidden").await;
    assert!(
        !problem
            .to_string()
            .contains("Generic authorization exception"),
        "Graph's message is not passed through"
    );
    let rows = app.audit_rows().await;
    assert!(rows.iter().all(|r| r["status"] == "failed"));
    assert!(
        rows.iter()
            .all(|r| r["graph_request_ids"].as_str().unwrap().len() > 2),
        "Graph's request-id is kept on failures too"
    );
}

#[tokio::test]
async fn graph_unreachable_is_graph_unavailable() {
    let app = TestApp::spawn_with(|c| {
        c.graph.authority_url = "http://127.0.0.1:9".into();
        c.graph.graph_url = "http://127.0.0.1:9".into();
    })
    .await;
    expect_problem(
        app.post_reset(json!({ "user": tenant::ADELE_MAIL })).await,
        503,
        "graph-unavailable",
    )
    .await;
    assert_eq!(app.audit_rows().await[0]["status"], "failed");
}
