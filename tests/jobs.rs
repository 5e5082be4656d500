//! Bulk jobs end to end: CSV, JSON and domain-move jobs against the
//! emulator, every item a reset with its own audit row, each guest invited
//! once; the dry run writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::time::Duration;

use common::jobs::{
    bulk_token, domain_move_csv, invitations_per_guest, post_job, submit, wait_over,
};
use common::{TestApp, guest_id, tenant_with_guests};
use serde_json::{Value, json};

#[tokio::test]
async fn a_csv_job_resets_every_guest_once_as_bulk_work() {
    let app = TestApp::spawn_on(tenant_with_guests(40), |_| {}).await;
    let token = bulk_token(&app);
    let id = submit(&app, &token, "text/csv", domain_move_csv(0..40)).await;
    let job = wait_over(&app, &token, &id, Duration::from_secs(60)).await;
    assert_eq!(job["state"], "finished", "{job}");
    assert_eq!(job["total"], 40);
    assert_eq!(job["done"], 40);
    assert_eq!(job["counts"]["succeeded"], 40, "{job}");
    let per_guest = invitations_per_guest(&app);
    assert_eq!(per_guest.len(), 40);
    assert!(per_guest.values().all(|n| *n == 1), "{per_guest:?}");
    for i in 0..40 {
        assert!(per_guest.contains_key(&guest_id(i)), "guest {i} invited");
    }
    // Bulk work says so to Graph.
    let invitations: Vec<_> = app
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/invitations"))
        .collect();
    assert!(invitations.iter().all(|r| {
        r.headers
            .iter()
            .any(|(k, v)| k == "x-ms-throttle-priority" && v == "Low")
    }));
    // Every item is a reset of its own, linked to the job, in the audit.
    let rows: Vec<Value> = app
        .audit_rows()
        .await
        .into_iter()
        .filter(|r| r["job_id"] == id.as_str())
        .collect();
    assert_eq!(rows.len(), 40);
    let mut items: Vec<u64> = rows
        .iter()
        .map(|r| r["job_item"].as_u64().unwrap())
        .collect();
    items.sort_unstable();
    assert_eq!(items, (1..=40).collect::<Vec<u64>>());
}

#[tokio::test]
async fn a_json_job_reports_each_item_and_results_come_as_csv() {
    let app = TestApp::spawn_on(tenant_with_guests(3), |_| {}).await;
    let token = bulk_token(&app);
    let body = json!({
        "ticket": "CHG-9", "reason": "partner domain move",
        "items": [
            { "user": "guest-0@fabrikam.example", "new_email": "guest-0@fabrikam.net" },
            { "user": "nobody@fabrikam.example", "new_email": "nobody@fabrikam.net" },
            { "user": "guest-2@fabrikam.example", "new_email": "guest-2@elsewhere.example" },
        ]
    });
    let id = submit(&app, &token, "application/json", body.to_string()).await;
    let job = wait_over(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(job["counts"]["succeeded"], 1, "{job}");
    assert_eq!(job["counts"]["failed"], 1, "{job}");
    assert_eq!(job["counts"]["denied"], 1, "{job}");
    let failed = app
        .get_as(&token, &format!("/v1/jobs/{id}/items?state=failed"))
        .await;
    let failed: Value = failed.json().await.unwrap();
    assert_eq!(failed["items"].as_array().unwrap().len(), 1, "{failed}");
    assert_eq!(failed["items"][0]["item"], 2);
    assert_eq!(
        failed["items"][0]["problem"]["type"],
        "urn:guest-reset:problem:user-not-found"
    );
    let csv = app
        .client
        .get(format!("{}/v1/jobs/{id}/items", app.base))
        .bearer_auth(&token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "item,user,new_email,tenant,status,problem_type,detail,reset_id"
    );
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].starts_with("1,guest-0@fabrikam.example,guest-0@fabrikam.net,"));
    assert!(
        lines[3].contains(",denied,urn:guest-reset:problem:policy-denied,"),
        "{text}"
    );
}

#[tokio::test]
async fn a_dry_run_reads_and_decides_but_records_and_writes_nothing() {
    let app = TestApp::spawn_on(tenant_with_guests(5), |_| {}).await;
    let token = bulk_token(&app);
    let mut csv = domain_move_csv(0..5);
    csv.push_str("nobody@fabrikam.example,nobody@fabrikam.net,CHG-7,partner domain move\n");
    let answer = post_job(&app, &token, "text/csv", csv, true).await;
    assert_eq!(answer.status(), 200);
    let report: Value = answer.json().await.unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["total"], 6);
    assert_eq!(report["counts"]["would_succeed"], 5, "{report}");
    assert_eq!(report["counts"]["refused"], 1);
    assert_eq!(
        report["refusals"]["urn:guest-reset:problem:user-not-found"],
        1
    );
    assert_eq!(report["items"][5]["outcome"], "refused");
    assert_eq!(report["items"][0]["new_email"], "guest-0@fabrikam.net");
    assert!(app.graph_writes().is_empty(), "{:?}", app.graph_writes());
    assert!(app.audit_rows().await.is_empty());
    let jobs: Value = app.get_as(&token, "/v1/jobs").await.json().await.unwrap();
    assert_eq!(jobs["items"], json!([]));
}

#[tokio::test]
async fn a_domain_move_lists_the_guests_with_an_advanced_query() {
    let app = TestApp::spawn_on(tenant_with_guests(25), |_| {}).await;
    let token = bulk_token(&app);
    let body = json!({
        "select": { "mail_domain": "fabrikam.example" }, "rewrite_domain": "fabrikam.net",
        "ticket": "CHG-11", "reason": "Fabrikam renamed its domain",
    });
    let dry = post_job(&app, &token, "application/json", body.to_string(), true).await;
    let dry: Value = dry.json().await.unwrap();
    let listed = dry["total"].as_u64().unwrap();
    assert!(listed >= 25, "{dry}");
    let query = app
        .emulator
        .requests()
        .into_iter()
        .find(|r| {
            r.path.ends_with("/users") && r.query.as_deref().is_some_and(|q| q.contains("endswith"))
        })
        .expect("an advanced query");
    assert!(query.query.as_deref().unwrap().contains("%24count=true"));
    assert!(
        query
            .headers
            .iter()
            .any(|(k, v)| k == "consistencylevel" && v == "eventual")
    );
    let id = submit(&app, &token, "application/json", body.to_string()).await;
    let job = wait_over(&app, &token, &id, Duration::from_secs(60)).await;
    assert_eq!(job["kind"], "domain_move");
    assert_eq!(job["select"]["mail_domain"], "fabrikam.example");
    assert_eq!(job["total"].as_u64(), Some(listed));
    assert_eq!(
        job["counts"]["succeeded"], dry["counts"]["would_succeed"],
        "{job} {dry}"
    );
    let per_guest = invitations_per_guest(&app);
    assert!(per_guest.values().all(|n| *n == 1));
    let guest = app.emulator.user(&guest_id(3)).unwrap();
    assert_eq!(
        guest["otherMails"],
        json!(["guest-3@fabrikam.net"]),
        "{guest}"
    );
}

#[tokio::test]
async fn job_items_wait_out_the_budget_window_instead_of_failing() {
    // 8 invitations per 2 s (6 of them for bulk work), and Graph calls that
    // give up after 1 s: the job's 20 items outlast several windows, and
    // each waits for its slot before its deadline starts.
    let app = TestApp::spawn_on(tenant_with_guests(20), |c| {
        c.graph.retry.invitations = guest_reset::graph::BudgetSettings {
            limit: 8,
            window: Duration::from_secs(2),
        };
        c.graph.retry.deadline = Duration::from_secs(1);
    })
    .await;
    let token = bulk_token(&app);
    let id = submit(&app, &token, "text/csv", domain_move_csv(0..20)).await;
    let job = wait_over(&app, &token, &id, Duration::from_secs(60)).await;
    assert_eq!(job["counts"]["succeeded"], 20, "{job}");
    assert!(invitations_per_guest(&app).values().all(|n| *n == 1));
}
