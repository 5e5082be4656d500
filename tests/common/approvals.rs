//! A policy whose rule needs a second person when a guest moves to a new
//! domain, people's (delegated) tokens, and the approval calls.

use std::time::Duration;

use serde_json::{Value, json};

use super::{TestApp, is_open, tenant};

/// The helpdesk may reset Fabrikam guests; moving one to another domain
/// needs `count` distinct approvers with the role GuestReset.Approver.
pub fn policy(count: u32) -> String {
    format!(
        r#"
[[grant]]
caller = {{ roles = ["GuestReset.Helpdesk"] }}
permissions = ["resets:create", "resets:read:own"]

[[grant]]
caller = {{ roles = ["GuestReset.Auditor"] }}
permissions = ["resets:read:all"]

[[rule]]
name = "partner-moves"
caller = {{ roles = ["GuestReset.Helpdesk"] }}
target_domains = ["fabrikam.example"]
new_email_domains = ["northwind.example", "fabrikam.example"]
approval = {{ when = "new-domain", approvers = {{ roles = ["GuestReset.Approver"] }}, count = {count} }}
"#
    )
}

/// A person's own (delegated) token: `oid` and `scp`, with app `roles`.
pub fn person(app: &TestApp, name: &str, roles: &[&str]) -> String {
    app.token_with(json!({
        "sub": format!("sub-{name}"), "oid": format!("oid-{name}"), "name": name,
        "scp": "access_as_user", "roles": roles,
    }))
}

pub fn agent(app: &TestApp) -> String {
    person(app, "agent", &["GuestReset.Helpdesk"])
}

pub fn approver(app: &TestApp, n: u32) -> String {
    person(app, &format!("approver-{n}"), &["GuestReset.Approver"])
}

/// Adele to Northwind: a new domain.
pub fn adele_moves() -> Value {
    json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL })
}

pub async fn ask(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let response = app.post_reset_as(token, body).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

/// `POST /v1/resets/{id}/{action}` with `body` (approve, deny, cancel).
pub async fn act(
    app: &TestApp,
    token: &str,
    id: &str,
    action: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .post(format!("{}/v1/resets/{id}/{action}", app.base))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The record once it is no longer open (queued, pending, running).
pub async fn settled(app: &TestApp, id: &str) -> Value {
    for _ in 0..100 {
        let record = app.reset_record(id).await;
        if !is_open(&record["status"]) {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("reset {id} did not finish");
}
