//! The guest's sponsors approve: read from Graph when the request is made
//! (a user sponsor as is, a sponsor group as its users, transitively); only
//! they may approve; a guest without sponsors cannot be approved at all.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::approvals::{act, agent, ask, person, settled};
use common::{TestApp, tenant};
use serde_json::json;

const POLICY: &str = r#"
[[grant]]
caller = { roles = ["GuestReset.Helpdesk"] }
permissions = ["resets:create", "resets:read:own"]

[[grant]]
caller = { roles = ["GuestReset.Auditor"] }
permissions = ["resets:read:all"]

[[rule]]
name = "sponsor-approves-moves"
caller = { roles = ["GuestReset.Helpdesk"] }
target_domains = ["fabrikam.example"]
new_email_domains = ["litware.example", "northwind.example"]
approval = { when = "new-domain", approvers = "sponsors" }
"#;

/// A sponsor's own token: their object id, as Entra issues it.
fn sponsor(app: &TestApp, oid: &str) -> String {
    app.token_with(
        json!({ "sub": format!("sub-{oid}"), "oid": oid, "scp": "access_as_user", "roles": [] }),
    )
}

#[tokio::test]
async fn the_guests_sponsors_and_only_they_approve() {
    let app = TestApp::spawn_with_policy(POLICY).await;
    let body = json!({ "user": tenant::JOHANNA_MAIL, "new_email": tenant::JOHANNA_NEW_MAIL });
    let (status, waiting) = ask(&app, &agent(&app), body).await;
    assert_eq!(status, 202, "{waiting}");
    let approvers = &waiting["approval"]["approvers"];
    assert_eq!(approvers["kind"], "sponsors");
    let mut ids: Vec<&str> = approvers["object_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut want = vec![tenant::MEMBER_ID, tenant::PATTI_ID, tenant::MIRIAM_ID];
    want.sort_unstable();
    assert_eq!(ids, want, "Megan, and Partner Managers' members");
    let id = waiting["id"].as_str().unwrap();
    let stranger = person(&app, "stranger", &["GuestReset.Approver"]);
    let (status, p) = act(&app, &stranger, id, "approve", None).await;
    assert_eq!(
        (status, p["type"].as_str()),
        (403, Some("urn:guest-reset:problem:not-an-approver"))
    );
    // Patti is a sponsor through the Partner Managers group.
    let (status, record) = act(&app, &sponsor(&app, tenant::PATTI_ID), id, "approve", None).await;
    assert_eq!(
        (status, record["status"].as_str()),
        (200, Some("queued")),
        "{record}"
    );
    assert_eq!(settled(&app, id).await["status"], "succeeded");
    let calls = app.graph_calls();
    assert!(calls.iter().any(|c| c.contains("/sponsors")), "{calls:?}");
    assert!(
        calls.iter().any(|c| c.contains("/transitiveMembers")),
        "{calls:?}"
    );
}

#[tokio::test]
async fn a_guest_without_sponsors_cannot_be_approved() {
    let app = TestApp::spawn_with_policy(POLICY).await;
    let body = json!({ "user": tenant::PENDING_GUEST_MAIL, "new_email": "bianca@litware.example" });
    let (status, p) = ask(&app, &agent(&app), body).await;
    assert_eq!(
        (status, p["type"].as_str()),
        (403, Some("urn:guest-reset:problem:policy-denied")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("sponsors"), "{p}");
    let record = app.reset_record(p["reset_id"].as_str().unwrap()).await;
    assert_eq!(record["status"], "denied");
}
