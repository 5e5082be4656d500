//! Bulk jobs from the outside: a bulk operator's token, submitting a job
//! and waiting for it to finish.

use std::time::Duration;

use serde_json::{Value, json};

use super::TestApp;

/// A token with the demo policy's bulk role (jobs:create for Contoso).
pub fn bulk_token(app: &TestApp) -> String {
    app.token_with(json!({ "sub": "bulk-operator-1", "roles": ["GuestReset.BulkOperator"] }))
}

/// CSV rows moving Fabrikam guests `from..to` to fabrikam.net.
pub fn domain_move_csv(guests: std::ops::Range<usize>) -> String {
    let mut csv = String::from("user,new_email,ticket,reason\n");
    for i in guests {
        csv.push_str(&format!(
            "guest-{i}@fabrikam.example,guest-{i}@fabrikam.net,CHG-7,partner domain move\n"
        ));
    }
    csv
}

/// POST a job body with `content_type` (a dry run when asked).
pub async fn post_job(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
    dry_run: bool,
) -> reqwest::Response {
    let query = if dry_run { "?dry_run=true" } else { "" };
    app.client
        .post(format!("{}/v1/jobs{query}", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Submit a job (201 expected); its id.
pub async fn submit(app: &TestApp, token: &str, content_type: &str, body: String) -> String {
    let answer = post_job(app, token, content_type, body, false).await;
    assert_eq!(answer.status(), 201);
    let job: Value = answer.json().await.unwrap();
    job["id"].as_str().unwrap().to_owned()
}

pub async fn job(app: &TestApp, token: &str, id: &str) -> Value {
    let answer = app.get_as(token, &format!("/v1/jobs/{id}")).await;
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

/// Poll until the job is finished or cancelled (within `limit`).
pub async fn wait_over(app: &TestApp, token: &str, id: &str, limit: Duration) -> Value {
    let until = tokio::time::Instant::now() + limit;
    loop {
        let job = job(app, token, id).await;
        if job["state"] == "finished" || job["state"] == "cancelled" {
            return job;
        }
        assert!(tokio::time::Instant::now() < until, "job not over: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many `POST /invitations` the emulator received for each guest id.
pub fn invitations_per_guest(app: &TestApp) -> std::collections::BTreeMap<String, usize> {
    let mut per = std::collections::BTreeMap::new();
    for r in app.emulator.requests() {
        if r.method == "POST" && r.path.ends_with("/invitations") && r.status == 201 {
            let id = r
                .body
                .as_ref()
                .and_then(|b| b["invitedUser"]["id"].as_str());
            *per.entry(id.unwrap_or_default().to_owned()).or_default() += 1;
        }
    }
    per
}
