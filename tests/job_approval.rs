//! A job approved as a whole (`[jobs] approval` in the policy): its items
//! wait until an approver who is not its submitter approves; a denial
//! cancels them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::time::Duration;

use common::jobs::{bulk_token, domain_move_csv, invitations_per_guest, job, submit, wait_over};
use common::{TestApp, expect_problem, tenant_with_guests};
use serde_json::{Value, json};

const JOBS: &str = "\n[jobs]\napproval = { approvers = { roles = [\"GuestReset.JobApprover\"] }, count = 1, expires_hours = 4 }\n";

async fn app() -> TestApp {
    TestApp::spawn_on(tenant_with_guests(6), |c| {
        let policy = format!("{}{JOBS}", guest_reset::demo::DEMO_POLICY);
        std::fs::write(&c.policy_file, policy).unwrap();
    })
    .await
}

/// A person of the change board, signed in (a delegated token).
fn approver(app: &TestApp) -> String {
    app.token_with(
        json!({ "sub": "change-board-1", "oid": "7c1e2d3f-0000-4000-8000-00000000cb01",
        "scp": "access_as_user", "name": "Change Board", "roles": ["GuestReset.JobApprover"] }),
    )
}

async fn rule(app: &TestApp, token: &str, id: &str, verb: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("{}/v1/jobs/{id}/{verb}", app.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_job_waits_for_its_approval_then_runs() {
    let app = app().await;
    let bulk = bulk_token(&app);
    let id = submit(&app, &bulk, "text/csv", domain_move_csv(0..6)).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let waiting = job(&app, &bulk, &id).await;
    assert_eq!(waiting["state"], "awaiting_approval", "{waiting}");
    assert_eq!(waiting["counts"]["queued"], 6);
    assert_eq!(waiting["approval"]["count"], 1);
    assert!(
        app.graph_writes().is_empty(),
        "nothing runs before the approval"
    );
    // Nothing runs yet, so there is nothing to pause or resume.
    let pause = app
        .client
        .post(format!("{}/v1/jobs/{id}/pause", app.base))
        .bearer_auth(&bulk)
        .send()
        .await
        .unwrap();
    expect_problem(pause, 409, "job-awaiting-approval").await;
    let own = rule(&app, &bulk, &id, "approve", json!({})).await;
    expect_problem(own, 403, "self-approval").await;
    let helpdesk = rule(&app, &app.token(), &id, "approve", json!({})).await;
    expect_problem(helpdesk, 404, "not-found").await;
    // The approver finds it among the jobs, and approves it.
    // An app holding the role is not a person: it never approves.
    let app_token =
        app.token_with(json!({ "sub": "board-app", "roles": ["GuestReset.JobApprover"] }));
    let by_app = rule(&app, &app_token, &id, "approve", json!({})).await;
    expect_problem(by_app, 403, "not-an-approver").await;
    let board = approver(&app);
    let listed: Value = app.get_as(&board, "/v1/jobs").await.json().await.unwrap();
    assert_eq!(listed["items"][0]["id"], id.as_str(), "{listed}");
    let approved = rule(
        &app,
        &board,
        &id,
        "approve",
        json!({ "comment": "CHG-7 approved" }),
    )
    .await;
    assert_eq!(approved.status(), 200);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!(
        approved["approval"]["decisions"][0]["verdict"], "approved",
        "{approved}"
    );
    let done = wait_over(&app, &bulk, &id, Duration::from_secs(30)).await;
    assert_eq!(done["counts"]["succeeded"], 6, "{done}");
    let again = rule(&app, &board, &id, "approve", json!({})).await;
    expect_problem(again, 409, "already-decided").await;
}

#[tokio::test]
async fn a_denied_job_cancels_its_items_and_sends_nothing() {
    let app = app().await;
    let bulk = bulk_token(&app);
    let id = submit(&app, &bulk, "text/csv", domain_move_csv(0..6)).await;
    let board = approver(&app);
    let bare = rule(&app, &board, &id, "deny", json!({})).await;
    expect_problem(bare, 400, "invalid-request").await;
    let denied = rule(
        &app,
        &board,
        &id,
        "deny",
        json!({ "comment": "not on the change calendar" }),
    )
    .await;
    assert_eq!(denied.status(), 200);
    let denied: Value = denied.json().await.unwrap();
    assert_eq!(denied["state"], "denied", "{denied}");
    assert_eq!(denied["counts"]["cancelled"], 6, "{denied}");
    assert!(invitations_per_guest(&app).is_empty());
    assert!(app.graph_writes().is_empty());
}
