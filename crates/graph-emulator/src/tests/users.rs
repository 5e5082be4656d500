//! GET /users/{key} and GET /users?$filter.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::super::demo;
use super::Harness;

/// The guest UPN as it must travel in a URL path: `#` percent-encoded.
fn encoded_adele_upn() -> String {
    demo::ADELE_UPN.replace('#', "%23")
}

fn ids(reply_body: &Value) -> Vec<String> {
    let items = reply_body["value"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .filter_map(|u| u["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn get_by_id_returns_only_the_default_property_set() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let reply = harness
        .get(&token, &format!("/v1.0/users/{}", demo::ADELE_ID))
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users/$entity"
    );
    assert_eq!(reply.body["id"], demo::ADELE_ID);
    assert_eq!(reply.body["mail"], demo::ADELE_MAIL);
    assert_eq!(reply.body["userPrincipalName"], demo::ADELE_UPN);
    assert_eq!(reply.body["businessPhones"], json!([]));
    assert!(reply.body["jobTitle"].is_null() && reply.body.get("jobTitle").is_some());
    for hidden in [
        "otherMails",
        "userType",
        "externalUserState",
        "creationType",
        "identities",
    ] {
        assert!(
            reply.body.get(hidden).is_none(),
            "{hidden} must need $select"
        );
    }
}

#[tokio::test]
async fn get_by_percent_encoded_guest_upn_with_select() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let path = format!(
        "/v1.0/users/{}?$select=id,otherMails,userType,externalUserState,externalUserStateChangeDateTime",
        encoded_adele_upn()
    );
    let reply = harness.get(&token, &path).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let context = "https://graph.microsoft.com/v1.0/$metadata#users(id,otherMails,userType,externalUserState,externalUserStateChangeDateTime)/$entity";
    assert_eq!(reply.body["@odata.context"], context);
    assert_eq!(reply.body["id"], demo::ADELE_ID);
    assert_eq!(reply.body["otherMails"], json!([]));
    assert_eq!(reply.body["userType"], "Guest");
    assert_eq!(reply.body["externalUserState"], "Accepted");
    assert!(
        reply.body.get("displayName").is_none(),
        "unselected properties are omitted"
    );
}

#[tokio::test]
async fn upn_lookup_ignores_case() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let reply = harness
        .get(
            &token,
            &format!("/v1.0/users/{}", encoded_adele_upn().to_uppercase()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["id"], demo::ADELE_ID);
}

#[tokio::test]
async fn unknown_select_property_and_missing_user_are_graph_errors() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let reply = harness
        .get(
            &token,
            &format!("/v1.0/users/{}?$select=id,shoeSize", demo::ADELE_ID),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "BadRequest");
    assert_eq!(
        reply.message(),
        "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'."
    );

    let missing = "00000000-0000-0000-0000-00000000beef";
    let reply = harness.get(&token, &format!("/v1.0/users/{missing}")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "Request_ResourceNotFound");
    let message = format!(
        "Resource '{missing}' does not exist or one of its queried reference-property objects are not present."
    );
    assert_eq!(reply.message(), message);
}

#[tokio::test]
async fn filter_forms_find_users_case_insensitively() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let query = |filter: &str| {
        let request = harness
            .http
            .get(harness.url("/v1.0/users"))
            .bearer_auth(&token);
        super::send(request.query(&[("$filter", filter), ("$select", "id,mail,otherMails")]))
    };

    let reply = query("mail eq 'ADELE.VANCE@fabrikam.example'").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users(id,mail,otherMails)"
    );
    assert_eq!(ids(&reply.body), [demo::ADELE_ID]);

    let reply = query(&format!("userPrincipalName eq '{}'", demo::ADELE_UPN)).await;
    assert_eq!(ids(&reply.body), [demo::ADELE_ID]);

    let reply = query("otherMails/any(x:x eq 'Shared@tailspin.example')").await;
    assert_eq!(
        ids(&reply.body),
        [demo::SHARED_GUEST_A_ID, demo::SHARED_GUEST_B_ID]
    );

    let reply = query(
        "mail eq 'lee.gu@tailspin.example' or otherMails/any(a:a eq 'lee.gu@tailspin.example')",
    )
    .await;
    assert_eq!(ids(&reply.body), [demo::OTHER_DOMAIN_GUEST_ID]);

    let reply = query("mail eq 'liam.o''connor@fabrikam.example'").await;
    assert_eq!(ids(&reply.body), [demo::APOSTROPHE_GUEST_ID]);

    let reply = query("mail eq 'nobody@nowhere.example'").await;
    assert_eq!(reply.body["value"], json!([]));
}

#[tokio::test]
async fn unsupported_filter_is_refused() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let request = harness
        .http
        .get(harness.url("/v1.0/users"))
        .bearer_auth(&token);
    let reply = super::send(request.query(&[("$filter", "startswith(mail,'adele')")])).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "Request_UnsupportedQuery");
    assert_eq!(reply.message(), "Unsupported query.");
}
