//! Bad job input gets a problem that names the line; who may submit and
//! read jobs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::jobs::{bulk_token, domain_move_csv, post_job, submit};
use common::{TestApp, expect_problem, tenant_with_guests};
use serde_json::json;

async fn refused_csv(app: &TestApp, csv: &[u8], line: u64, names: &str) {
    let answer = post_job(app, &bulk_token(app), "text/csv", csv.to_vec(), false).await;
    let problem = expect_problem(answer, 400, "job-invalid").await;
    assert_eq!(problem["line"], line, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("line {line}")), "{detail}");
    assert!(detail.contains(names), "{detail}");
}

#[tokio::test]
async fn bad_csv_names_the_line() {
    let app = TestApp::spawn_with(|c| c.reset.job_max_items = 3).await;
    refused_csv(
        &app,
        b"new_email,ticket\nx@fabrikam.net,CHG-1\n",
        1,
        "no `user` column",
    )
    .await;
    refused_csv(
        &app,
        b"user,colour\na@fabrikam.example,red\n",
        1,
        "unknown column",
    )
    .await;
    let twice = b"user,new_email\nA@fabrikam.example,a@fabrikam.net\nb@fabrikam.example,\na@fabrikam.example,c@fabrikam.net\n";
    refused_csv(&app, twice, 4, "already in line 2").await;
    refused_csv(
        &app,
        b"user\nok@fabrikam.example\n\xff\xfe@x\n",
        3,
        "not UTF-8",
    )
    .await;
    let many = domain_move_csv(0..4);
    refused_csv(&app, many.as_bytes(), 5, "at most 3 items").await;
    refused_csv(
        &app,
        b"user,reason\na@fabrikam.example,\"open\n",
        2,
        "not closed",
    )
    .await;
    refused_csv(&app, b"user,reason\na@fabrikam.example\n", 2, "1 cells").await;
    refused_csv(
        &app,
        b"user,new_email\na@fabrikam.example,not-an-email\n",
        2,
        "new_email",
    )
    .await;
    refused_csv(&app, b"", 1, "header row is missing").await;
    assert!(app.audit_rows().await.is_empty(), "nothing recorded");
}

#[tokio::test]
async fn bad_json_and_media_types() {
    let app = TestApp::spawn().await;
    let token = bulk_token(&app);
    let both = json!({ "items": [{ "user": "a@fabrikam.example" }], "select": { "mail_domain": "fabrikam.example" } });
    let answer = post_job(&app, &token, "application/json", both.to_string(), false).await;
    expect_problem(answer, 400, "job-invalid").await;
    let answer = post_job(&app, &token, "application/json", "[1]", false).await;
    expect_problem(answer, 400, "invalid-json").await;
    let typo = json!({ "items": [{ "user": "a@fabrikam.example", "new_mail": "x" }] });
    let answer = post_job(&app, &token, "application/json", typo.to_string(), false).await;
    let problem = expect_problem(answer, 400, "job-invalid").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("items[0]"),
        "{problem}"
    );
    let empty = json!({ "items": [] });
    let answer = post_job(&app, &token, "application/json", empty.to_string(), false).await;
    expect_problem(answer, 400, "job-invalid").await;
    let bad_domain =
        json!({ "select": { "mail_domain": "not a domain" }, "rewrite_domain": "x.example" });
    let answer = post_job(
        &app,
        &token,
        "application/json",
        bad_domain.to_string(),
        false,
    )
    .await;
    let problem = expect_problem(answer, 400, "job-invalid").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("select.mail_domain"),
        "{problem}"
    );
    let answer = post_job(&app, &token, "text/plain", "user\n", false).await;
    expect_problem(answer, 415, "unsupported-media-type").await;
    let answer = app
        .client
        .post(format!("{}/v1/jobs?dry_run=maybe", app.base))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body("user\na@fabrikam.example\n")
        .send()
        .await
        .unwrap();
    expect_problem(answer, 400, "invalid-request").await;
    let unknown_tenant = "user,tenant\na@fabrikam.example,nowhere\n";
    let answer = post_job(&app, &token, "text/csv", unknown_tenant, false).await;
    expect_problem(answer, 422, "tenant-unknown").await;
}

#[tokio::test]
async fn jobs_need_their_permission_and_are_seen_by_their_creator() {
    let app = TestApp::spawn_on(tenant_with_guests(2), |_| {}).await;
    // The helpdesk may reset guests one by one, not in bulk.
    let answer = post_job(&app, &app.token(), "text/csv", domain_move_csv(0..2), false).await;
    let problem = expect_problem(answer, 403, "permission-denied").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("jobs:create"),
        "{problem}"
    );
    let token = bulk_token(&app);
    let id = submit(&app, &token, "text/csv", domain_move_csv(0..2)).await;
    // Another caller cannot see it (404, not 403: its existence is not told).
    let other = app.get_as(&app.token(), &format!("/v1/jobs/{id}")).await;
    expect_problem(other, 404, "not-found").await;
    let listed: serde_json::Value = app
        .get_as(&app.token(), "/v1/jobs")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
    // An auditor sees it, and may not cancel it.
    let auditor = app.auditor_token();
    assert_eq!(
        app.get_as(&auditor, &format!("/v1/jobs/{id}"))
            .await
            .status(),
        200
    );
    let cancel = app
        .client
        .post(format!("{}/v1/jobs/{id}/cancel", app.base))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    expect_problem(cancel, 403, "permission-denied").await;
    let missing = app.get_as(&token, "/v1/jobs/job-nope").await;
    expect_problem(missing, 404, "not-found").await;
}

#[tokio::test]
async fn job_items_need_a_rule_that_allows_bulk() {
    // A bulk grant, but the only rule has no max_job_items: every item is
    // refused by the policy, recorded as denied.
    let policy = "[[grant]]\ncaller = { roles = ['GuestReset.BulkOperator'] }\n\
        permissions = ['jobs:create', 'resets:create', 'resets:read:own']\n\
        [[rule]]\nname = 'singles'\ncaller = { roles = ['GuestReset.BulkOperator'] }\n\
        target_domains = ['fabrikam.example']\nnew_email_domains = ['fabrikam.net']\nallow_email_change = true\n";
    let app = TestApp::spawn_on(tenant_with_guests(2), move |c| {
        std::fs::write(&c.policy_file, policy).unwrap();
    })
    .await;
    let token = bulk_token(&app);
    let id = submit(&app, &token, "text/csv", domain_move_csv(0..2)).await;
    let job = common::jobs::wait_over(&app, &token, &id, std::time::Duration::from_secs(20)).await;
    assert_eq!(job["counts"]["denied"], 2, "{job}");
    let items: serde_json::Value = app
        .get_as(&token, &format!("/v1/jobs/{id}/items"))
        .await
        .json()
        .await
        .unwrap();
    let detail = items["items"][0]["problem"]["detail"].as_str().unwrap();
    assert!(detail.contains("max_job_items"), "{detail}");
    assert!(app.graph_writes().is_empty());
}
