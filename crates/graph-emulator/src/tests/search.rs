//! `$search` on `GET /users`: only with `ConsistencyLevel: eventual`, tokenized on
//! displayName, `startsWith` elsewhere, AND-ed with `$filter`, and the same in `$batch`.

use reqwest::StatusCode;
use serde_json::json;

use super::super::demo;
use super::batch::{get, item, post_batch};
use super::{Harness, Reply, send};

const SEARCH_NEEDS_EVENTUAL: &str = "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'";

async fn search(harness: &Harness, token: &str, options: &[(&str, &str)], eventual: bool) -> Reply {
    let mut request = harness.http.get(harness.url("/v1.0/users")).query(options);
    if eventual {
        request = request.header("ConsistencyLevel", "eventual");
    }
    send(request.bearer_auth(token)).await
}

fn ids(reply: &Reply) -> Vec<String> {
    let items = reply.body["value"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .filter_map(|u| u["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn search_without_consistency_level_is_the_documented_400() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let options = [("$search", "\"displayName:adele\""), ("$count", "true")];

    let reply = search(&harness, &token, &options, false).await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(
        (reply.code(), reply.message()),
        ("Request_UnsupportedQuery", SEARCH_NEEDS_EVENTUAL)
    );
}

#[tokio::test]
async fn search_or_filter_by_user_type_finds_adele() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let options = [
        ("$search", "\"displayName:adele\" OR \"mail:adele\""),
        ("$filter", "userType eq 'Guest'"),
        ("$select", "id,displayName,userType"),
    ];

    let reply = search(&harness, &token, &options, true).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(ids(&reply), [demo::ADELE_ID]);
    assert!(
        reply.body.get("@odata.count").is_none(),
        "no $count=true: no count"
    );
    let members = [
        ("$search", "\"displayName:adele\""),
        ("$filter", "userType eq 'Member'"),
    ];
    assert!(ids(&search(&harness, &token, &members, true).await).is_empty());
}

#[tokio::test]
async fn display_name_is_searched_by_token_and_mail_by_prefix() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let found = |clause: &'static str| {
        let (harness, token) = (&harness, &token);
        async move { ids(&search(harness, token, &[("$search", clause)], true).await) }
    };

    assert!(
        !found("\"mail:vance\"")
            .await
            .contains(&demo::ADELE_ID.to_owned())
    );
    assert_eq!(found("\"displayName:vance\"").await, [demo::ADELE_ID]);
    assert_eq!(found("\"displayName:VAN\"").await, [demo::ADELE_ID]);
    assert_eq!(found("\"mail:adele.v\"").await, [demo::ADELE_ID]);
    let shared = found("\"otherMails:shared@\"").await;
    assert_eq!(shared, [demo::SHARED_GUEST_A_ID, demo::SHARED_GUEST_B_ID]);
    let both = found("(\"displayName:miriam\" OR \"displayName:patti\") AND \"mail:m\"").await;
    assert_eq!(both, [demo::MIRIAM_ID]);
}

#[tokio::test]
async fn search_with_count_carries_the_count_and_pages() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let options = [
        ("$search", "\"mail:a\" OR \"mail:l\""),
        ("$count", "true"),
        ("$top", "2"),
    ];

    let reply = search(&harness, &token, &options, true).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // Adele, Lynne, Lee, Liam, and Lidia Holloway.
    assert_eq!(reply.body["@odata.count"], 5);
    assert_eq!(ids(&reply).len(), 2);
    assert!(reply.body["@odata.nextLink"].is_string());
}

#[tokio::test]
async fn malformed_and_unsupported_searches_are_refused() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let cases = [
        ("displayName:adele", "BadRequest"),
        ("\"displayName:adele", "BadRequest"),
        ("\"favouriteColour:teal\"", "Request_UnsupportedQuery"),
        ("\"adele\"", "Request_UnsupportedQuery"),
    ];
    for (text, code) in cases {
        let reply = search(&harness, &token, &[("$search", text)], true).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, code),
            "{text}"
        );
    }
    let expand = [
        ("$search", "\"displayName:adele\""),
        ("$expand", "sponsors"),
    ];
    let reply = search(&harness, &token, &expand, true).await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "no $expand in advanced queries"
    );
}

#[tokio::test]
async fn in_a_batch_the_search_item_carries_consistency_level() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let url = "/users?$search=\"displayName:adele\" OR \"mail:adele\"&$filter=userType eq 'Guest'&$select=id";
    let mut advanced = get("advanced", url);
    advanced["headers"] = json!({ "ConsistencyLevel": "eventual" });
    let requests = json!([advanced, get("plain", url)]);

    let reply = post_batch(&harness, &token, requests).await;

    let answer = item(&reply, "advanced");
    assert_eq!(answer["status"], 200, "{}", reply.body);
    assert_eq!(answer["body"]["value"], json!([{ "id": demo::ADELE_ID }]));
    let refused = item(&reply, "plain");
    assert_eq!(refused["status"], 400);
    assert_eq!(refused["body"]["error"]["message"], SEARCH_NEEDS_EVENTUAL);
}
