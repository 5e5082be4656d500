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

#[tokio::test]
async fn a_sponsor_reads_the_reset_they_approve_and_nobody_else_without_a_read_permission() {
    let app = TestApp::spawn_with_policy(POLICY).await;
    let body = json!({ "user": tenant::JOHANNA_MAIL, "new_email": tenant::JOHANNA_NEW_MAIL });
    let (_, waiting) = ask(&app, &agent(&app), body).await;
    let id = waiting["id"].as_str().unwrap();
    let path = format!("/v1/resets/{id}");
    // Megan holds no permission at all: her sponsorship lets her read this one.
    let megan = sponsor(&app, tenant::MEMBER_ID);
    let before = app.get_as(&megan, &path).await;
    assert_eq!(before.status(), 200);
    let (status, _) = act(&app, &megan, id, "approve", None).await;
    assert_eq!(status, 200);
    settled(&app, id).await;
    let after: serde_json::Value = app.get_as(&megan, &path).await.json().await.unwrap();
    assert_eq!(after["status"], "succeeded", "{after}");
    // Someone who is no approver and holds no read permission: 403, as before.
    let stranger = sponsor(&app, "00000000-0000-0000-0000-00000000abcd");
    let refused = app.get_as(&stranger, &path).await;
    common::expect_problem(refused, 403, "permission-denied").await;
    // A sponsor of this reset reads only this one: another guest's reset is refused.
    let other = json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL });
    let (_, adele) = ask(&app, &agent(&app), other).await;
    let patti = sponsor(&app, tenant::PATTI_ID);
    let not_hers = app
        .get_as(
            &patti,
            &format!("/v1/resets/{}", adele["id"].as_str().unwrap()),
        )
        .await;
    common::expect_problem(not_hers, 403, "permission-denied").await;
}
