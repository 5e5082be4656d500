//! The reset flow through the public API, against the in-process emulator.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::{TestApp, expect_problem, tenant};
use serde_json::{Value, json};

fn adele_body() -> Value {
    json!({
        "user": tenant::ADELE_MAIL,
        "new_email": tenant::ADELE_NEW_MAIL,
        "ticket": "INC-1001",
        "reason": "moved to Northwind",
    })
}

#[tokio::test]
async fn headline_reset_adds_other_mail_then_resets_and_is_audited() {
    let app = TestApp::spawn().await;
    let response = app.post_reset(adele_body()).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "succeeded", "{body}");
    assert_eq!(body["other_mails_added"], true);
    assert_eq!(body["invitation"]["status"], "PendingAcceptance");
    assert_eq!(body["target"]["id"], tenant::ADELE_ID);
    assert_eq!(body["target"]["previous_email"], tenant::ADELE_MAIL);
    assert_eq!(body["target"]["external_user_state"], "Accepted");
    assert_eq!(body["requested_by"]["subject"], "helpdesk-agent-1");
    assert!(
        body.get("invite_redeem_url").is_none(),
        "the invitation email is sent, so no URL"
    );
    assert_eq!(
        location,
        format!("/v1/resets/{}", body["id"].as_str().unwrap())
    );

    let patch = format!("PATCH /v1.0/users/{}", tenant::ADELE_ID);
    assert_eq!(
        app.graph_writes(),
        [patch.as_str(), "POST /v1.0/invitations"]
    );
    let invite = app
        .emulator
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1.0/invitations")
        .unwrap();
    let sent = invite.body.unwrap();
    assert_eq!(sent["resetRedemption"], true);
    assert_eq!(sent["invitedUser"]["id"], tenant::ADELE_ID);
    assert_eq!(sent["invitedUserEmailAddress"], tenant::ADELE_NEW_MAIL);
    assert_eq!(sent["sendInvitationMessage"], true);
    let user = app.emulator.user(tenant::ADELE_ID).unwrap();
    assert_eq!(user["externalUserState"], "PendingAcceptance");
    assert!(
        user["otherMails"]
            .as_array()
            .unwrap()
            .contains(&json!(tenant::ADELE_NEW_MAIL))
    );

    let fetched: Value = app.get(&location).await.json().await.unwrap();
    assert_eq!(fetched, body);
    let rows = app.audit_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "succeeded");
    assert_eq!(rows[0]["ticket"], "INC-1001");
    let ids: Vec<String> =
        serde_json::from_str(rows[0]["graph_request_ids"].as_str().unwrap()).unwrap();
    assert_eq!(
        ids.len(),
        4,
        "user, roles, PATCH and POST each leave Graph's request-id: {ids:?}"
    );
    assert!(rows[0]["completed_at"].is_string());
}

#[tokio::test]
async fn every_graph_call_carries_a_fresh_client_request_id() {
    let app = TestApp::spawn().await;
    assert_eq!(app.post_reset(adele_body()).await.status(), 201);
    let graph: Vec<_> = app
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1.0"))
        .collect();
    let ids: std::collections::HashSet<String> = graph
        .iter()
        .map(|r| {
            r.headers
                .iter()
                .find(|(k, _)| k == "client-request-id")
                .expect("client-request-id sent")
                .1
                .clone()
        })
        .collect();
    assert_eq!(ids.len(), graph.len());
}

#[tokio::test]
async fn graph_token_is_fetched_once_and_reused() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        let r = app
            .post_reset(json!({ "user": tenant::PENDING_GUEST_MAIL }))
            .await;
        assert_eq!(r.status(), 201);
    }
    let token_calls = app
        .graph_calls()
        .iter()
        .filter(|c| c.ends_with("/oauth2/v2.0/token"))
        .count();
    assert_eq!(token_calls, 1, "{:?}", app.graph_calls());
    let token_request = app
        .emulator
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/token"))
        .unwrap();
    assert_eq!(
        token_request.body.unwrap()["scope"],
        format!("{}/.default", app.config.graph.graph_url)
    );
}

#[tokio::test]
async fn guest_can_be_named_by_object_id_or_upn() {
    let app = TestApp::spawn().await;
    let by_id = app
        .post_reset(json!({ "user": tenant::PENDING_GUEST_ID }))
        .await;
    assert_eq!(by_id.status(), 201);
    let body: Value = by_id.json().await.unwrap();
    assert_eq!(
        body["new_email"],
        tenant::PENDING_GUEST_MAIL,
        "defaults to the current mail"
    );
    assert_eq!(body["other_mails_added"], false);
    let by_upn = app
        .post_reset(json!({ "user": tenant::ADELE_UPN, "new_email": tenant::ADELE_MAIL }))
        .await;
    assert_eq!(by_upn.status(), 201);
    assert!(
        app.graph_calls().iter().any(|c| c.contains("%23EXT%23")),
        "{:?}",
        app.graph_calls()
    );
}

#[tokio::test]
async fn refusals_are_named_recorded_and_write_nothing_to_graph() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({ "user": tenant::MEMBER_MAIL }),
            422,
            "not-a-guest",
            "denied",
        ),
        (
            json!({ "user": tenant::ROLE_GUEST_MAIL }),
            422,
            "target-has-directory-role",
            "denied",
        ),
        (
            json!({ "user": tenant::GROUP_ROLE_GUEST_MAIL }),
            422,
            "target-has-directory-role",
            "denied",
        ),
        (
            json!({ "user": "lee.gu@tailspin.example" }),
            403,
            "policy-denied",
            "denied",
        ),
        (
            json!({ "user": tenant::ADELE_MAIL, "new_email": "adele@evil.example" }),
            403,
            "policy-denied",
            "denied",
        ),
        (
            json!({ "user": "nobody@fabrikam.example" }),
            422,
            "user-not-found",
            "failed",
        ),
        (
            json!({ "user": tenant::SHARED_MAIL }),
            422,
            "user-ambiguous",
            "failed",
        ),
    ];
    for (i, (body, status, slug, row_status)) in cases.into_iter().enumerate() {
        let problem = expect_problem(app.post_reset(body).await, status, slug).await;
        let rows = app.audit_rows().await;
        assert_eq!(rows.len(), i + 1, "every refusal is recorded");
        let row = rows
            .iter()
            .find(|r| r["id"] == problem["reset_id"])
            .expect("problem names its audit row");
        assert_eq!(row["status"], row_status, "{slug}");
        assert_eq!(
            row["problem_type"],
            format!("urn:guest-reset:problem:{slug}")
        );
    }
    assert!(app.graph_writes().is_empty(), "{:?}", app.graph_writes());
}

#[tokio::test]
async fn policy_denial_explains_itself() {
    let app = TestApp::spawn().await;
    let problem = expect_problem(
        app.post_reset(json!({ "user": "lee.gu@tailspin.example" }))
            .await,
        403,
        "policy-denied",
    )
    .await;
    let reasons = problem["policy"]["reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r.as_str().unwrap().contains("tailspin.example")),
        "{problem}"
    );
    let row = &app.audit_rows().await[0];
    assert_eq!(row["policy_allowed"], 0);
}

#[tokio::test]
async fn email_not_on_user_when_other_mails_writes_are_forbidden() {
    let app = TestApp::spawn_with(|c| c.reset.allow_other_mails_write = false).await;
    expect_problem(app.post_reset(adele_body()).await, 422, "email-not-on-user").await;
    assert!(app.graph_writes().is_empty());
    // The current address is on the user: that reset needs no write and works.
    let current = json!({ "user": tenant::ADELE_MAIL });
    assert_eq!(app.post_reset(current).await.status(), 201);
}

#[tokio::test]
async fn dry_run_plans_without_writing_to_graph() {
    let app = TestApp::spawn().await;
    let mut body = adele_body();
    body["dry_run"] = json!(true);
    let response = app.post_reset(body).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["dry_run"], true);
    let plan = answer["plan"].as_array().unwrap();
    assert_eq!(plan.len(), 2, "{answer}");
    assert_eq!(plan[0]["method"], "PATCH");
    assert_eq!(plan[1]["body"]["resetRedemption"], true);
    assert!(app.graph_writes().is_empty(), "{:?}", app.graph_writes());
    assert_eq!(
        app.emulator.user(tenant::ADELE_ID).unwrap()["externalUserState"],
        "Accepted"
    );
    assert_eq!(app.audit_rows().await[0]["dry_run"], 1);
}

#[tokio::test]
async fn redeem_url_is_returned_once_and_never_stored() {
    let app = TestApp::spawn().await;
    let body = json!({ "user": tenant::PENDING_GUEST_MAIL, "send_invitation_message": false });
    let response = app.post_reset(body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let url = created["invite_redeem_url"]
        .as_str()
        .expect("URL handed to the caller")
        .to_owned();
    assert!(url.starts_with("https://"), "{url}");
    let fetched = app
        .get(&format!("/v1/resets/{}", created["id"].as_str().unwrap()))
        .await
        .text()
        .await
        .unwrap();
    assert!(!fetched.contains("redeem"), "{fetched}");
    let listed = app.get("/v1/resets").await.text().await.unwrap();
    assert!(!listed.contains("redeem"), "{listed}");
    let ticket = url.split("ticket").nth(1).unwrap().to_owned();
    let stored = app.database_text().await;
    assert!(
        !stored.contains(&url) && !stored.contains(&ticket),
        "redeem URL stored in the database"
    );
}

#[tokio::test]
async fn bad_input_gets_a_problem_and_is_recorded() {
    let app = TestApp::spawn().await;
    let raw = |body: &'static str, content_type: &'static str| {
        app.client
            .post(format!("{}/v1/resets", app.base))
            .bearer_auth(app.token())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    expect_problem(
        raw("{\"user\": ", "application/json").await.unwrap(),
        400,
        "invalid-json",
    )
    .await;
    let unknown = expect_problem(
        raw(r#"{"user":"a@b.example","usr":1}"#, "application/json")
            .await
            .unwrap(),
        400,
        "invalid-request",
    )
    .await;
    assert!(
        unknown["detail"].as_str().unwrap().contains("usr"),
        "{unknown}"
    );
    expect_problem(
        raw(r#"{"ticket":"x"}"#, "application/json").await.unwrap(),
        400,
        "invalid-request",
    )
    .await;
    expect_problem(
        raw(r#"{"user":"not an email"}"#, "application/json")
            .await
            .unwrap(),
        400,
        "invalid-request",
    )
    .await;
    expect_problem(
        raw(r#"{"user":"a@b.example"}"#, "text/plain")
            .await
            .unwrap(),
        415,
        "unsupported-media-type",
    )
    .await;
    let rows = app.audit_rows().await;
    assert_eq!(
        rows.len(),
        4,
        "JSON and validation failures are recorded; a wrong media type is not"
    );
    assert!(rows.iter().all(|r| r["status"] == "failed"));
    assert!(app.graph_calls().is_empty(), "nothing reached Graph");
}

#[tokio::test]
async fn oversized_body_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let huge = json!({ "user": tenant::ADELE_MAIL, "reason": "x".repeat(100 * 1024) });
    expect_problem(app.post_reset(huge).await, 413, "payload-too-large").await;
}

#[tokio::test]
async fn unknown_routes_and_methods_get_problems() {
    let app = TestApp::spawn().await;
    expect_problem(app.get("/v1/nothing").await, 404, "not-found").await;
    expect_problem(app.get("/v1/resets/not-a-uuid").await, 404, "not-found").await;
    expect_problem(
        app.get(&format!("/v1/resets/{}", uuid::Uuid::now_v7()))
            .await,
        404,
        "not-found",
    )
    .await;
    let delete = app
        .client
        .delete(format!("{}/v1/resets", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        delete.headers().get("allow").is_some(),
        "405 keeps the Allow header"
    );
    expect_problem(delete, 405, "method-not-allowed").await;
    // An id routing cannot read (not UTF-8) is a problem too, on every kind
    // of route that takes one.
    let unreadable = [
        (reqwest::Method::GET, "/v1/resets/%FF%00"),
        (reqwest::Method::POST, "/v1/resets/%FF/approve"),
        (reqwest::Method::POST, "/v1/jobs/%FF/pause"),
        (reqwest::Method::GET, "/v1/jobs/%FF/items"),
    ];
    for (method, path) in unreadable {
        let answer = app
            .client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(app.token())
            .send()
            .await
            .unwrap();
        let problem = expect_problem(answer, 400, "invalid-request").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("path"),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn health_readiness_and_spec_are_served() {
    let app = TestApp::spawn().await;
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready: Value = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["checks"]["database"], "ok");
    let spec = app
        .client
        .get(format!("{}/openapi.yaml", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(spec.headers()["content-type"], "application/yaml");
    assert!(spec.text().await.unwrap().contains("openapi: 3.1"));
}

#[tokio::test]
async fn request_id_is_echoed_and_recorded() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(format!("{}/v1/resets", app.base))
        .bearer_auth(app.token())
        .header("x-request-id", "ticket-webhook-42")
        .json(&adele_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "ticket-webhook-42");
    assert_eq!(app.audit_rows().await[0]["request_id"], "ticket-webhook-42");
}

/// Named by object id, the guest and its roles are read together: the
/// `transitiveMemberOf` request reaches Graph while the user read is still
/// held there (one Graph round trip fewer before the decision).
#[tokio::test]
async fn a_guest_named_by_id_and_its_roles_are_read_together() {
    let hold = guest_reset::emulator::Fault::Latency { millis: 1500 };
    let emulator =
        common::demo_with_fault(guest_reset::emulator::FaultRoute::GetUser, hold, Some(1));
    let app = TestApp::spawn_on(emulator, |_| {}).await;
    let body = json!({ "user": tenant::ADELE_ID, "new_email": tenant::ADELE_NEW_MAIL });
    let reset = app.post_reset(body);
    let watch = async {
        loop {
            let log = app.emulator.requests();
            let roles = log.iter().any(|r| r.path.contains("transitiveMemberOf"));
            let user = log
                .iter()
                .find(|r| r.method == "GET" && r.path.ends_with(tenant::ADELE_ID));
            if roles {
                return user.map(|u| u.status);
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    let (response, user_status) = tokio::join!(reset, watch);
    assert_eq!(response.status(), 201);
    assert_eq!(
        user_status,
        Some(0),
        "the user read was still in Graph when the roles read arrived"
    );
}

/// Every reset that sent its invitation records its first attempt: with no
/// email to add, the decision's commit carries it (one durable write fewer);
/// with one, it is committed after the `otherMails` write, before the call.
#[tokio::test]
async fn the_first_invitation_attempt_is_recorded_with_or_without_an_email_to_add() {
    let app = TestApp::spawn().await;
    for new_email in [tenant::ADELE_MAIL, tenant::ADELE_NEW_MAIL] {
        let body = json!({ "user": tenant::ADELE_ID, "new_email": new_email });
        let response = app.post_reset(body).await;
        assert_eq!(response.status(), 201);
        let record: Value = response.json().await.unwrap();
        let at = record["invite_attempted_at"].as_str().unwrap();
        assert!(record["created_at"].as_str().unwrap() <= at, "{record}");
        assert!(at <= record["completed_at"].as_str().unwrap(), "{record}");
        let added = new_email == tenant::ADELE_NEW_MAIL;
        assert_eq!(record["other_mails_added"], added, "{record}");
    }
}
