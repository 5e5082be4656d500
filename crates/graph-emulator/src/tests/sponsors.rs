//! GET /users/{id | UPN}/sponsors, `$expand=sponsors`, and sponsors in the seed.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::super::{Seed, demo};
use super::{Harness, send, typed_ids};

const USER: &str = "#microsoft.graph.user";
const GROUP: &str = "#microsoft.graph.group";

fn sponsors_path(key: &str) -> String {
    format!("/v1.0/users/{key}/sponsors")
}

fn pair(odata_type: &str, id: &str) -> (String, String) {
    (odata_type.to_owned(), id.to_owned())
}

#[tokio::test]
async fn user_and_group_sponsors_carry_their_type() {
    let harness = Harness::start().await;
    let token = harness
        .token_with_roles(&["User.Read.All", "GroupMember.Read.All"])
        .await;
    let reply = harness.get(&token, &sponsors_path(demo::JOHANNA_ID)).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#directoryObjects"
    );
    let expected = [
        pair(USER, demo::MEMBER_ID),
        pair(GROUP, demo::PARTNER_MANAGERS_GROUP_ID),
    ];
    assert_eq!(typed_ids(&reply), expected);
    let (megan, managers) = (&reply.body["value"][0], &reply.body["value"][1]);
    assert_eq!(megan["displayName"], "Megan Bowen");
    assert_eq!(megan["mail"], demo::MEMBER_MAIL);
    assert_eq!(
        megan["userPrincipalName"],
        "megan.bowen@contoso.onmicrosoft.com"
    );
    assert!(megan.get("otherMails").is_none(), "the default set only");
    assert_eq!(managers["displayName"], "Partner Managers");
    assert_eq!(managers["securityEnabled"], true);
}

#[tokio::test]
async fn a_group_sponsor_is_limited_without_a_group_permission() {
    let harness = Harness::start().await;
    // User.ReadWrite.All + User.Read.All: enough for /sponsors, not for groups.
    let user_only = ["User.ReadWrite.All", "User.Read.All"];
    harness.emulator.set_app_roles(demo::CLIENT_ID, &user_only);
    let token = harness.token().await;
    let reply = harness.get(&token, &sponsors_path(demo::JOHANNA_ID)).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let managers = &reply.body["value"][1];
    assert_eq!(managers["@odata.type"], GROUP);
    assert_eq!(managers["id"], demo::PARTNER_MANAGERS_GROUP_ID);
    assert_eq!(managers["displayName"], Value::Null);
    assert_eq!(reply.body["value"][0]["displayName"], "Megan Bowen");
}

#[tokio::test]
async fn sponsors_page_with_top_and_the_user_is_found_by_upn() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let upn = demo::JOHANNA_UPN.replace('#', "%23");
    let first = harness
        .get(&token, &format!("{}?$top=1", sponsors_path(&upn)))
        .await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(typed_ids(&first), [pair(USER, demo::MEMBER_ID)]);
    let next = first.body["@odata.nextLink"].as_str().expect("nextLink");
    assert!(next.starts_with(&harness.base), "{next}");
    let second = send(harness.http.get(next).bearer_auth(&token)).await;
    let group = pair(GROUP, demo::PARTNER_MANAGERS_GROUP_ID);
    assert_eq!(typed_ids(&second), [group]);
    assert!(second.body.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn unknown_user_is_not_found_and_a_user_without_sponsors_has_none() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let missing = "0b7f1c9e-1d2a-4c55-9a7e-3f7c2d1e0a99";
    let reply = harness.get(&token, &sponsors_path(missing)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "Request_ResourceNotFound");
    assert!(reply.message().contains(missing), "{}", reply.message());

    let reply = harness
        .get(&token, &sponsors_path(demo::PENDING_GUEST_ID))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["value"], json!([]));
}

#[tokio::test]
async fn a_token_without_user_read_is_refused() {
    let harness = Harness::start().await;
    let token = harness.token_with_roles(&["User.Invite.All"]).await;
    let reply = harness.get(&token, &sponsors_path(demo::ADELE_ID)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "Authorization_RequestDenied");
}

#[tokio::test]
async fn select_trims_items_and_filter_is_refused() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let path = format!("{}?$select=id,displayName", sponsors_path(demo::ADELE_ID));
    let reply = harness.get(&token, &path).await;
    assert_eq!(
        reply.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#directoryObjects(id,displayName)"
    );
    let megan = json!({ "@odata.type": USER, "id": demo::MEMBER_ID, "displayName": "Megan Bowen" });
    assert_eq!(reply.body["value"], json!([megan]));

    let path = format!("{}?$filter=id eq 'x'", sponsors_path(demo::ADELE_ID));
    let reply = harness.get(&token, &path).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "Request_UnsupportedQuery");
}

#[tokio::test]
async fn expand_embeds_sponsors_in_user_reads() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let path = format!(
        "/v1.0/users/{}?$expand=sponsors($select=id)",
        demo::ADELE_ID
    );
    let reply = harness.get(&token, &path).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let megan = json!({ "@odata.type": USER, "id": demo::MEMBER_ID });
    assert_eq!(reply.body["sponsors"], json!([megan]));

    let filter = format!("mail eq '{}'", demo::JOHANNA_MAIL);
    let reply = send(
        harness
            .http
            .get(harness.url("/v1.0/users"))
            .query(&[("$filter", filter.as_str()), ("$expand", "sponsors")])
            .bearer_auth(&token),
    )
    .await;
    let sponsors = reply.body["value"][0]["sponsors"].as_array().cloned();
    assert_eq!(sponsors.map(|s| s.len()), Some(2), "{}", reply.body);
}

#[test]
fn seed_validation_rejects_a_dangling_sponsor() {
    let mut seed = Seed::demo();
    let dangling = "00000000-0000-0000-0000-00000000d00d";
    seed.users[1].insert("sponsors".to_owned(), json!([dangling]));
    let err = seed.validate().unwrap_err();
    assert!(err.contains("users[1]") && err.contains(dangling), "{err}");

    let mut seed = Seed::demo();
    seed.users[1].insert("sponsors".to_owned(), json!(demo::MEMBER_ID));
    assert!(seed.validate().unwrap_err().contains("array of object ids"));

    // A directory role is neither a user nor a group: no sponsor.
    let mut seed = Seed::demo();
    let role = json!([demo::HELPDESK_ROLE_ID]);
    seed.users[1].insert("sponsors".to_owned(), role);
    assert!(seed.validate().is_err());
}

#[test]
fn sponsors_stay_out_of_the_stored_user() {
    let emulator = super::super::Emulator::demo();
    let adele = emulator.user(demo::ADELE_ID).unwrap_or_default();
    assert!(adele.get("sponsors").is_none(), "{adele}");
}
