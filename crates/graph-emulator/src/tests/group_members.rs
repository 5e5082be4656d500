//! GET /groups/{id}/transitiveMembers and its OData casts.

use reqwest::StatusCode;
use serde_json::Value;

use super::super::demo;
use super::{Harness, send, typed_ids};

const USER: &str = "#microsoft.graph.user";
const GROUP: &str = "#microsoft.graph.group";
/// Least privilege for transitiveMembers is GroupMember.ReadBasic.All; User.Read.All lets
/// the user members come back whole.
const READER: [&str; 2] = ["GroupMember.Read.All", "User.Read.All"];

fn members_path(group: &str) -> String {
    format!("/v1.0/groups/{group}/transitiveMembers")
}

fn pair(odata_type: &str, id: &str) -> (String, String) {
    (odata_type.to_owned(), id.to_owned())
}

fn ids(reply: &super::Reply) -> Vec<String> {
    typed_ids(reply).into_iter().map(|(_, id)| id).collect()
}

#[tokio::test]
async fn the_sponsor_group_lists_its_members() {
    let harness = Harness::start().await;
    let token = harness.token_with_roles(&READER).await;
    let path = members_path(demo::PARTNER_MANAGERS_GROUP_ID);
    let reply = harness.get(&token, &path).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#directoryObjects"
    );
    let expected = [pair(USER, demo::PATTI_ID), pair(USER, demo::MIRIAM_ID)];
    assert_eq!(typed_ids(&reply), expected);
    assert_eq!(reply.body["value"][0]["mail"], demo::PATTI_MAIL);
    assert_eq!(reply.body["value"][1]["mail"], demo::MIRIAM_MAIL);
}

#[tokio::test]
async fn nested_groups_are_expanded_into_one_flat_list() {
    let harness = Harness::start().await;
    let token = harness.token_with_roles(&READER).await;
    let reply = harness
        .get(&token, &members_path(demo::ALL_PARTNERS_GROUP_ID))
        .await;

    let expected = [
        pair(GROUP, demo::PARTNERS_GROUP_ID),
        pair(USER, demo::OTHER_DOMAIN_GUEST_ID),
        pair(USER, demo::ADELE_ID),
        pair(USER, demo::PENDING_GUEST_ID),
    ];
    assert_eq!(typed_ids(&reply), expected, "{}", reply.body);
    assert_eq!(reply.body["value"][0]["displayName"], "Fabrikam Partners");
}

#[tokio::test]
async fn casts_keep_one_type_and_name_its_entity_set() {
    let harness = Harness::start().await;
    let token = harness.token_with_roles(&READER).await;
    let all = demo::ALL_PARTNERS_GROUP_ID;
    // The docs' own example spells the segment in lower case.
    let path = format!("/v1.0/groups/{all}/transitivemembers/microsoft.graph.user");
    let users = harness.get(&token, &path).await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.body);
    assert_eq!(
        users.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users"
    );
    let expected = [
        demo::OTHER_DOMAIN_GUEST_ID,
        demo::ADELE_ID,
        demo::PENDING_GUEST_ID,
    ];
    assert_eq!(ids(&users), expected);
    assert!(users.body["value"][0].get("@odata.type").is_none());

    let path = format!(
        "{}/microsoft.graph.group?$select=id,displayName",
        members_path(all)
    );
    let groups = harness.get(&token, &path).await;
    assert_eq!(
        groups.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#groups(id,displayName)"
    );
    assert_eq!(ids(&groups), [demo::PARTNERS_GROUP_ID]);

    let path = format!("{}/microsoft.graph.directoryRole", members_path(all));
    let refused = harness.get(&token, &path).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.code(), "Request_UnsupportedQuery");
}

#[tokio::test]
async fn paging_follows_next_link() {
    let harness = Harness::start().await;
    let token = harness.token_with_roles(&READER).await;
    let path = format!("{}?$top=3", members_path(demo::ALL_PARTNERS_GROUP_ID));
    let first = harness.get(&token, &path).await;
    assert_eq!(typed_ids(&first).len(), 3, "{}", first.body);

    let next = first.body["@odata.nextLink"].as_str().expect("nextLink");
    let second = send(harness.http.get(next).bearer_auth(&token)).await;
    assert_eq!(ids(&second), [demo::PENDING_GUEST_ID]);
    assert!(second.body.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn unknown_group_is_not_found() {
    let harness = Harness::start().await;
    let token = harness.token_with_roles(&READER).await;
    let missing = "5d0c6a8e-7b1f-4f0e-9c3a-2e8d1b7a6f01";
    let reply = harness.get(&token, &members_path(missing)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "Request_ResourceNotFound");
    assert!(reply.message().contains(missing), "{}", reply.message());
}

#[tokio::test]
async fn user_permissions_alone_cannot_list_group_members() {
    let harness = Harness::start().await;
    // User.ReadWrite.All + User.Read.All, neither in the documented list.
    let user_only = ["User.ReadWrite.All", "User.Read.All"];
    harness.emulator.set_app_roles(demo::CLIENT_ID, &user_only);
    let token = harness.token().await;
    let path = members_path(demo::PARTNER_MANAGERS_GROUP_ID);
    let reply = harness.get(&token, &path).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "Authorization_RequestDenied");
}

#[tokio::test]
async fn users_are_limited_without_a_user_permission() {
    let harness = Harness::start().await;
    let token = harness.token_with_roles(&["GroupMember.Read.All"]).await;
    let path = members_path(demo::PARTNER_MANAGERS_GROUP_ID);
    let reply = harness.get(&token, &path).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let patti = &reply.body["value"][0];
    assert_eq!(patti["@odata.type"], USER);
    assert_eq!(patti["id"], demo::PATTI_ID);
    assert_eq!(patti["mail"], Value::Null);
    assert_eq!(patti["displayName"], Value::Null);
}
