//! GET /users/{id}/transitiveMemberOf.

use reqwest::StatusCode;
use serde_json::Value;

use super::super::demo;
use super::{Harness, Reply};

fn items(reply: &Reply) -> Vec<(String, String)> {
    let values = reply.body["value"].as_array().cloned().unwrap_or_default();
    let pair = |item: &Value| {
        let kind = item["@odata.type"].as_str().unwrap_or_default().to_owned();
        (kind, item["id"].as_str().unwrap_or_default().to_owned())
    };
    values.iter().map(pair).collect()
}

#[tokio::test]
async fn role_through_a_group_is_reported_with_its_template() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let path = format!(
        "/v1.0/users/{}/transitiveMemberOf",
        demo::GROUP_ROLE_GUEST_ID
    );
    let reply = harness.get(&token, &path).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#directoryObjects"
    );
    let expected = [
        (
            "#microsoft.graph.group".to_owned(),
            demo::ROLE_GROUP_ID.to_owned(),
        ),
        (
            "#microsoft.graph.directoryRole".to_owned(),
            demo::HELPDESK_ROLE_ID.to_owned(),
        ),
    ];
    assert_eq!(items(&reply), expected);
    assert_eq!(
        reply.body["value"][1]["roleTemplateId"],
        demo::HELPDESK_TEMPLATE_ID
    );
    assert_eq!(
        reply.body["value"][1]["displayName"],
        "Helpdesk Administrator"
    );
}

#[tokio::test]
async fn nested_groups_are_followed_and_direct_roles_found() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let reply = harness
        .get(
            &token,
            &format!("/v1.0/users/{}/transitiveMemberOf", demo::ADELE_ID),
        )
        .await;
    let ids: Vec<String> = items(&reply).into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids, [demo::PARTNERS_GROUP_ID, demo::ALL_PARTNERS_GROUP_ID]);

    let reply = harness
        .get(
            &token,
            &format!("/v1.0/users/{}/transitiveMemberOf", demo::ROLE_GUEST_ID),
        )
        .await;
    let role = (
        "#microsoft.graph.directoryRole".to_owned(),
        demo::GUEST_INVITER_ROLE_ID.to_owned(),
    );
    assert_eq!(items(&reply), [role]);
}

#[tokio::test]
async fn paging_follows_next_link_and_select_trims_items() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let path = format!(
        "/v1.0/users/{}/transitiveMemberOf?$top=1&$select=id,displayName",
        demo::ADELE_ID
    );
    let first = harness.get(&token, &path).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        first.body["value"][0].as_object().map(|o| o.len()),
        Some(3),
        "@odata.type, id, displayName"
    );

    let next = first.body["@odata.nextLink"]
        .as_str()
        .expect("nextLink")
        .to_owned();
    assert!(next.starts_with(&harness.base), "{next}");
    let second = super::send(harness.http.get(&next).bearer_auth(&token)).await;
    assert_eq!(second.body["value"][0]["id"], demo::ALL_PARTNERS_GROUP_ID);
    assert!(second.body.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn user_read_write_all_alone_cannot_read_memberships() {
    let harness = Harness::start().await;
    harness
        .emulator
        .set_app_roles(demo::CLIENT_ID, &["User.ReadWrite.All"]);
    let token = harness.token().await;
    let reply = harness
        .get(
            &token,
            &format!("/v1.0/users/{}/transitiveMemberOf", demo::ADELE_ID),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "Authorization_RequestDenied");
}

#[tokio::test]
async fn directory_role_cast_keeps_only_roles() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let path = format!(
        "/v1.0/users/{}/transitiveMemberOf/microsoft.graph.directoryRole",
        demo::GROUP_ROLE_GUEST_ID
    );
    let reply = harness.get(&token, &path).await;
    assert_eq!(
        reply.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#directoryRoles"
    );
    let role = (
        "#microsoft.graph.directoryRole".to_owned(),
        demo::HELPDESK_ROLE_ID.to_owned(),
    );
    assert_eq!(items(&reply), [role]);
}
