//! The two demo tenants (Contoso, Tailspin Toys) behind one service, with a
//! policy in which each tenant's helpdesk may act in its own tenant only.

use guest_reset::emulator::Cloud;
use serde_json::{Value, json};

use super::{TestApp, tenant};
use tenant::tailspin;

pub const POLICY: &str = r#"
[[grant]]
caller = { roles = ["Contoso.Helpdesk"] }
permissions = ["resets:create", "resets:read:all"]
tenants = ["contoso"]

[[grant]]
caller = { roles = ["Tailspin.Helpdesk"] }
permissions = ["resets:create", "resets:read:all"]
tenants = ["tailspin"]

[[grant]]
caller = { roles = ["GuestReset.Auditor"] }
permissions = ["resets:read:all"]

[[rule]]
name = "partner-guests"
caller = { roles = ["Contoso.Helpdesk", "Tailspin.Helpdesk"] }
target_domains = ["fabrikam.example", "litware.example"]
new_email_domains = ["northwind.example"]
"#;

pub async fn two_tenants() -> TestApp {
    TestApp::spawn_cloud(Cloud::demo(), |c| {
        std::fs::write(&c.policy_file, POLICY).unwrap();
    })
    .await
}

pub fn helpdesk(app: &TestApp, tenant: &str) -> String {
    let role = match tenant {
        "contoso" => "Contoso.Helpdesk",
        _ => "Tailspin.Helpdesk",
    };
    app.token_with(json!({ "sub": format!("{tenant}-agent"), "roles": [role] }))
}

pub fn tailspin_emulator(app: &TestApp) -> &guest_reset::emulator::Emulator {
    app.cloud
        .as_ref()
        .unwrap()
        .tenant(tailspin::TENANT_ID)
        .unwrap()
}

pub fn adele() -> Value {
    json!({ "tenant": "contoso", "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL })
}

pub fn alex() -> Value {
    json!({ "tenant": "tailspin", "user": tailspin::ALEX_MAIL, "new_email": tailspin::ALEX_NEW_MAIL })
}

pub fn applied(e: &guest_reset::emulator::Emulator) -> Vec<String> {
    e.applied_resets().into_iter().map(|a| a.user_id).collect()
}

pub async fn problem_type(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let kind = body["type"].as_str().unwrap_or_default().to_owned();
    (status, kind, body)
}

pub async fn list(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let response = app.get_as(token, &format!("/v1/resets{query}")).await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

pub fn tenants_of(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|r| r["tenant"].as_str().unwrap().to_owned())
        .collect()
}
