//! Who really asked: a person's own (delegated) token names its agent; a
//! portal's app token may name one only with `resets:act-for-agents`; the
//! agent is recorded, filterable, counted by `quota_per = "agent"`, and
//! never approves a request made for them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::approvals::{act, approver, ask, person};
use common::{TestApp, tenant};
use serde_json::{Value, json};

const POLICY: &str = r#"
[[grant]]
caller = { roles = ["GuestReset.Helpdesk"] }
permissions = ["resets:create", "resets:read:own"]

[[grant]]
caller = { apps = ["portal-app"], roles = ["GuestReset.Portal"] }
permissions = ["resets:act-for-agents"]

[[grant]]
caller = { roles = ["GuestReset.Auditor"] }
permissions = ["resets:read:all"]

[[rule]]
name = "per-agent"
caller = { roles = ["GuestReset.Helpdesk"] }
target_domains = ["fabrikam.example"]
new_email_domains = ["northwind.example", "fabrikam.example"]
max_resets_per_hour = 1
quota_per = "agent"
approval = { when = "new-domain", approvers = { roles = ["GuestReset.Approver"] } }
"#;

/// The portal's app token (no `scp`): it acts for its agents.
fn portal(app: &TestApp, may_act_for_agents: bool) -> String {
    let roles = match may_act_for_agents {
        true => json!(["GuestReset.Helpdesk", "GuestReset.Portal"]),
        false => json!(["GuestReset.Helpdesk"]),
    };
    app.token_with(json!({ "sub": "portal-sp", "roles": roles }))
}

fn same_domain(user: &str, agent: Option<&str>) -> Value {
    let mut body =
        json!({ "user": user, "new_email": format!("{}.2@fabrikam.example", &user[..4]) });
    if let Some(agent) = agent {
        body["on_behalf_of"] = json!(agent);
    }
    body
}

#[tokio::test]
async fn a_delegated_token_names_its_agent_and_lists_filter_by_it() {
    let app = TestApp::spawn_with_policy(POLICY).await;
    let me = person(&app, "alice", &["GuestReset.Helpdesk"]);
    let (status, record) = ask(&app, &me, same_domain(tenant::ADELE_MAIL, None)).await;
    assert_eq!(status, 201, "{record}");
    assert_eq!(
        record["requested_by"]["agent"],
        json!({ "id": "oid-alice", "via": "delegated" })
    );
    let listed: Value = app
        .get_as(&app.auditor_token(), "/v1/resets?agent=OID-ALICE")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    // A delegated token is its person already.
    let (status, p) = ask(
        &app,
        &me,
        same_domain(tenant::PENDING_GUEST_MAIL, Some("bob@contoso.example")),
    )
    .await;
    assert_eq!(
        (status, p["type"].as_str()),
        (400, Some("urn:guest-reset:problem:invalid-request"))
    );
}

#[tokio::test]
async fn a_portal_names_its_agent_only_with_act_for_agents() {
    let app = TestApp::spawn_with_policy(POLICY).await;
    let body = same_domain(tenant::ADELE_MAIL, Some("alice@contoso.example"));
    let (status, p) = ask(&app, &portal(&app, false), body.clone()).await;
    assert_eq!(
        (status, p["type"].as_str()),
        (403, Some("urn:guest-reset:problem:permission-denied"))
    );
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("resets:act-for-agents"),
        "{p}"
    );
    let (status, record) = ask(&app, &portal(&app, true), body).await;
    assert_eq!(status, 201, "{record}");
    let agent = &record["requested_by"]["agent"];
    assert_eq!(
        *agent,
        json!({ "id": "alice@contoso.example", "via": "on_behalf_of" })
    );
    assert_eq!(record["requested_by"]["subject"], "portal-sp");
}

#[tokio::test]
async fn a_quota_per_agent_counts_each_person_behind_one_portal() {
    let app = TestApp::spawn_with_policy(POLICY).await;
    let portal = portal(&app, true);
    let cases = [
        (tenant::ADELE_MAIL, "alice@contoso.example", 201),
        (tenant::PENDING_GUEST_MAIL, "alice@contoso.example", 429),
        (tenant::PENDING_GUEST_MAIL, "bob@contoso.example", 201),
    ];
    for (user, agent, want) in cases {
        let (status, body) = ask(&app, &portal, same_domain(user, Some(agent))).await;
        assert_eq!(status, want, "{agent}: {body}");
    }
}

#[tokio::test]
async fn the_agent_a_request_was_made_for_does_not_approve_it() {
    let app = TestApp::spawn_with_policy(POLICY).await;
    let body = json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL, "on_behalf_of": "oid-approver-1" });
    let (status, waiting) = ask(&app, &portal(&app, true), body).await;
    assert_eq!(status, 202, "{waiting}");
    let id = waiting["id"].as_str().unwrap();
    let (status, p) = act(&app, &approver(&app, 1), id, "approve", None).await;
    assert_eq!(
        (status, p["type"].as_str()),
        (403, Some("urn:guest-reset:problem:self-approval"))
    );
    let (status, _) = act(&app, &approver(&app, 2), id, "approve", None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_agent_named_by_sign_in_name_does_not_approve_either() {
    let app = TestApp::spawn_with_policy(POLICY).await;
    let body = json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL, "on_behalf_of": "Miriam@Contoso.example" });
    let (status, waiting) = ask(&app, &portal(&app, true), body).await;
    assert_eq!(status, 202, "{waiting}");
    let miriam = app.token_with(
        json!({ "sub": "s-miriam", "oid": "oid-miriam", "scp": "access_as_user",
        "preferred_username": "miriam@contoso.example", "roles": ["GuestReset.Approver"] }),
    );
    let (status, p) = act(
        &app,
        &miriam,
        waiting["id"].as_str().unwrap(),
        "approve",
        None,
    )
    .await;
    assert_eq!(
        (status, p["type"].as_str()),
        (403, Some("urn:guest-reset:problem:self-approval"))
    );
}
