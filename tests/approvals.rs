//! Approvals, rule by rule, through the public API: a reset the policy
//! allows only with a second person waits (202, `awaiting_approval`, nothing
//! written to Graph); approvers are people, never the requester; `count`
//! distinct approvers; one denial ends it; the last approval queues it and
//! the whole flow runs again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::approvals::*;
use common::{TestApp, tenant};
use serde_json::json;

async fn app(count: u32) -> TestApp {
    TestApp::spawn_with_policy(&policy(count)).await
}

#[tokio::test]
async fn a_new_domain_waits_for_approval_and_the_same_domain_does_not() {
    let app = app(1).await;
    let (status, record) = ask(&app, &agent(&app), adele_moves()).await;
    assert_eq!(status, 202, "{record}");
    assert_eq!(record["status"], "awaiting_approval");
    let approval = &record["approval"];
    assert_eq!(approval["count"], 1);
    assert!(
        approval["reason"]
            .as_str()
            .unwrap()
            .contains("northwind.example"),
        "{approval}"
    );
    assert!(approval["expires_at"].is_string());
    assert!(
        app.graph_writes().is_empty(),
        "nothing written while it waits"
    );
    let same =
        json!({ "user": tenant::PENDING_GUEST_MAIL, "new_email": "bianca.p@fabrikam.example" });
    let (status, record) = ask(&app, &agent(&app), same).await;
    assert_eq!(
        (status, record["status"].as_str()),
        (201, Some("succeeded")),
        "{record}"
    );
}

#[tokio::test]
async fn an_approval_queues_it_and_the_whole_flow_runs_once() {
    let app = app(1).await;
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    let id = waiting["id"].as_str().unwrap();
    let (status, approved) = act(
        &app,
        &approver(&app, 1),
        id,
        "approve",
        Some(json!({ "comment": "ok, ticket checked" })),
    )
    .await;
    assert_eq!(status, 200, "{approved}");
    let record = settled(&app, id).await;
    assert_eq!(record["status"], "succeeded", "{record}");
    let decision = &record["approval"]["decisions"][0];
    assert_eq!(decision["approver"]["subject"], "sub-approver-1");
    assert_eq!(decision["verdict"], "approved");
    assert_eq!(decision["comment"], "ok, ticket checked");
    assert!(
        decision["policy_version"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(app.emulator.applied_resets().len(), 1);
    // Filterable by approver.
    let listed = app
        .get_as(&app.auditor_token(), "/v1/resets?approver=sub-approver-1")
        .await;
    let listed: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn approvers_are_people_and_never_the_requester() {
    let app = app(1).await;
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    let id = waiting["id"].as_str().unwrap();
    // An app-only token with the approver role never approves.
    let app_only = app.token_with(json!({ "sub": "portal", "roles": ["GuestReset.Approver"] }));
    let (status, p) = act(&app, &app_only, id, "approve", None).await;
    assert_eq!(
        (status, p["type"].as_str()),
        (403, Some("urn:guest-reset:problem:not-an-approver"))
    );
    // The requester, even holding the approver role, does not approve itself.
    let both = person(
        &app,
        "agent",
        &["GuestReset.Helpdesk", "GuestReset.Approver"],
    );
    let (status, p) = act(&app, &both, id, "approve", None).await;
    assert_eq!(
        (status, p["type"].as_str()),
        (403, Some("urn:guest-reset:problem:self-approval"))
    );
    // A person without the approver role is not an approver either.
    let other = person(&app, "bystander", &["GuestReset.Helpdesk"]);
    let (status, p) = act(&app, &other, id, "approve", None).await;
    assert_eq!(
        (status, p["type"].as_str()),
        (403, Some("urn:guest-reset:problem:not-an-approver"))
    );
    assert_eq!(app.reset_record(id).await["status"], "awaiting_approval");
}

#[tokio::test]
async fn count_distinct_approvers_the_same_one_twice_counts_once() {
    let app = app(2).await;
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    let id = waiting["id"].as_str().unwrap();
    for _ in 0..2 {
        let (status, record) = act(&app, &approver(&app, 1), id, "approve", None).await;
        assert_eq!(
            (status, record["status"].as_str()),
            (200, Some("awaiting_approval"))
        );
        assert_eq!(record["approval"]["decisions"].as_array().unwrap().len(), 1);
    }
    let (status, record) = act(&app, &approver(&app, 2), id, "approve", None).await;
    assert_eq!(
        (status, record["status"].as_str()),
        (200, Some("queued")),
        "{record}"
    );
    assert_eq!(settled(&app, id).await["status"], "succeeded");
}

#[tokio::test]
async fn one_denial_ends_it_and_needs_a_comment() {
    let app = app(2).await;
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    let id = waiting["id"].as_str().unwrap();
    act(&app, &approver(&app, 1), id, "approve", None).await;
    let (status, p) = act(&app, &approver(&app, 2), id, "deny", Some(json!({}))).await;
    assert_eq!(
        (status, p["type"].as_str()),
        (400, Some("urn:guest-reset:problem:invalid-request"))
    );
    assert!(p["detail"].as_str().unwrap().starts_with("comment"), "{p}");
    let deny = json!({ "comment": "the caller could not confirm the ticket" });
    let (status, record) = act(&app, &approver(&app, 2), id, "deny", Some(deny)).await;
    assert_eq!(
        (status, record["status"].as_str()),
        (200, Some("denied")),
        "{record}"
    );
    assert!(
        record["problem"]["detail"]
            .as_str()
            .unwrap()
            .contains("could not confirm")
    );
    let (status, p) = act(&app, &approver(&app, 3), id, "approve", None).await;
    assert_eq!(
        (status, p["type"].as_str()),
        (409, Some("urn:guest-reset:problem:already-decided"))
    );
    assert!(app.emulator.applied_resets().is_empty());
}

#[tokio::test]
async fn the_requester_cancels_and_nobody_else_can() {
    let app = app(1).await;
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    let id = waiting["id"].as_str().unwrap();
    let (status, _) = act(&app, &approver(&app, 1), id, "cancel", None).await;
    assert_eq!(status, 403);
    let (status, record) = act(&app, &agent(&app), id, "cancel", None).await;
    assert_eq!(
        (status, record["status"].as_str()),
        (200, Some("cancelled"))
    );
    let (status, p) = act(&app, &approver(&app, 1), id, "approve", None).await;
    assert_eq!(
        (status, p["type"].as_str()),
        (409, Some("urn:guest-reset:problem:already-decided"))
    );
}

#[tokio::test]
async fn the_inbox_shows_an_approver_what_they_may_approve() {
    let app = app(1).await;
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    let inbox = |token: String| {
        let app = &app;
        async move {
            let page: serde_json::Value = app
                .get_as(&token, "/v1/approvals")
                .await
                .json()
                .await
                .unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(inbox(approver(&app, 1)).await, [waiting["id"].clone()]);
    assert!(inbox(agent(&app)).await.is_empty(), "not one's own request");
    let app_only = app.token_with(json!({ "sub": "portal", "roles": ["GuestReset.Approver"] }));
    assert!(inbox(app_only).await.is_empty(), "apps never approve");
}

#[tokio::test]
async fn two_approvals_at_once_start_the_reset_once() {
    let app = app(1).await;
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    let id = waiting["id"].as_str().unwrap().to_owned();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 1..=4 {
        let request = app
            .client
            .post(format!("{}/v1/resets/{id}/approve", app.base))
            .bearer_auth(approver(&app, n));
        tasks.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    let mut statuses = tasks.join_all().await;
    statuses.sort_unstable();
    assert_eq!(statuses[0], 200, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(settled(&app, &id).await["status"], "succeeded");
    assert_eq!(app.emulator.applied_resets().len(), 1, "started once");
    println!("approvals: 4 approvers at once ({statuses:?}); 1 reset applied");
}

#[tokio::test]
async fn at_execution_the_flow_runs_again_and_a_new_directory_role_refuses_it() {
    let app = app(1).await;
    let (_, waiting) = ask(&app, &agent(&app), adele_moves()).await;
    let id = waiting["id"].as_str().unwrap();
    // Between the request and the approval, Adele becomes a Guest Inviter.
    let guest_inviter = "418c0b90-fd77-4ad6-95cb-6ab485b523cd";
    assert!(
        app.emulator
            .assign_directory_role(guest_inviter, tenant::ADELE_ID)
    );
    let (status, _) = act(&app, &approver(&app, 1), id, "approve", None).await;
    assert_eq!(status, 200);
    let record = settled(&app, id).await;
    assert_eq!(record["status"], "denied", "{record}");
    assert_eq!(
        record["problem"]["type"],
        "urn:guest-reset:problem:target-has-directory-role"
    );
    assert!(app.emulator.applied_resets().is_empty());
}
