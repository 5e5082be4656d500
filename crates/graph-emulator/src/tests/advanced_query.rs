//! Advanced queries on `GET /users`: `endsWith` only with `ConsistencyLevel: eventual`
//! and `$count=true`, `@odata.count`, paging, and the same inside `$batch`.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::super::{Emulator, demo};
use super::batch::{get, item, post_batch};
use super::{Harness, Reply, send};

const FABRIKAM: &str = "/v1.0/users?$filter=endswith(mail,'@fabrikam.example')";
const MISSING: &str = "Operator 'endsWith' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information";
/// Adele, Bianca, Grady, Lynne, Liam and Johanna.
const SEEDED_FABRIKAM_MAILS: u64 = 6;

async fn eventual(harness: &Harness, token: &str, path_or_url: &str) -> Reply {
    let url = if path_or_url.starts_with("http") {
        path_or_url.to_owned()
    } else {
        harness.url(path_or_url)
    };
    let request = harness.http.get(url).bearer_auth(token);
    send(request.header("ConsistencyLevel", "eventual")).await
}

fn ids(reply: &Reply) -> Vec<String> {
    let items = reply.body["value"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .filter_map(|u| u["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn ends_with_needs_both_advanced_query_parameters() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let counted = format!("{FABRIKAM}&$count=true");
    for refused in [
        harness.get(&token, FABRIKAM).await,
        harness.get(&token, &counted).await,
        eventual(&harness, &token, FABRIKAM).await,
    ] {
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            (refused.code(), refused.message()),
            ("Request_UnsupportedQuery", MISSING)
        );
    }

    let reply = eventual(&harness, &token, &counted).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["@odata.count"], SEEDED_FABRIKAM_MAILS);
    let mails = reply.body["value"].as_array().cloned().unwrap_or_default();
    assert_eq!(mails.len() as u64, SEEDED_FABRIKAM_MAILS);
    assert!(mails.iter().all(|u| {
        u["mail"]
            .as_str()
            .is_some_and(|m| m.ends_with("@fabrikam.example"))
    }));
}

#[tokio::test]
async fn count_is_silently_ignored_without_consistency_level() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let path = format!(
        "/v1.0/users?$filter=mail eq '{}'&$count=true",
        demo::ADELE_MAIL
    );

    let plain = harness.get(&token, &path).await;
    let advanced = eventual(&harness, &token, &path).await;

    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.body.get("@odata.count").is_none(), "{}", plain.body);
    assert_eq!(
        advanced.body["@odata.count"], 1,
        "eq works in advanced queries too"
    );
    let expand = eventual(&harness, &token, &format!("{path}&$expand=sponsors")).await;
    assert_eq!(
        expand.status,
        StatusCode::BAD_REQUEST,
        "no $expand in advanced queries"
    );
}

#[tokio::test]
async fn top_pages_an_advanced_query_and_every_page_keeps_the_count() {
    let harness = Harness::over(Emulator::demo_with_guests(5)).await;
    let token = harness.token().await;
    let total = SEEDED_FABRIKAM_MAILS + 5;
    let mut next = Some(format!("{FABRIKAM}&$count=true&$top=4&$select=id,mail"));
    let mut seen = Vec::new();
    while let Some(url) = next.take() {
        let page = eventual(&harness, &token, &url).await;
        assert_eq!(page.status, StatusCode::OK, "{url}: {}", page.body);
        assert_eq!(page.body["@odata.count"], total);
        seen.extend(ids(&page));
        next = page.body["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len() as u64, total);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        seen.len(),
        "no duplicates"
    );
    assert!(seen.contains(&demo::guest_id(4)));
}

#[tokio::test]
async fn ends_with_works_on_user_principal_name_and_address_collections() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let guests = "/v1.0/users?$count=true&$filter=endswith(userPrincipalName,'%23EXT%23@contoso.onmicrosoft.com')";
    let shared =
        "/v1.0/users?$count=true&$filter=otherMails/any(m:endswith(m,'@tailspin.example'))";
    let proxies =
        "/v1.0/users?$count=true&$filter=proxyAddresses/any(p:endsWith(p,'@nowhere.example'))";

    assert_eq!(
        eventual(&harness, &token, guests).await.body["@odata.count"],
        9
    );
    let shared = eventual(&harness, &token, shared).await;
    let mut found = ids(&shared);
    found.sort();
    assert_eq!(found, [demo::SHARED_GUEST_A_ID, demo::SHARED_GUEST_B_ID]);
    let none = eventual(&harness, &token, proxies).await;
    assert_eq!(
        (none.status, none.body["@odata.count"].clone()),
        (StatusCode::OK, json!(0))
    );
}

#[tokio::test]
async fn in_a_batch_the_item_carries_consistency_level() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let url = "/users?$filter=endswith(mail,'@fabrikam.example')&$count=true&$select=id";
    let mut advanced: Value = get("advanced", url);
    advanced["headers"] = json!({ "ConsistencyLevel": "eventual" });
    let requests = json!([advanced, get("plain", url)]);

    let reply = post_batch(&harness, &token, requests).await;

    let answer = item(&reply, "advanced");
    assert_eq!(answer["status"], 200, "{}", reply.body);
    assert_eq!(answer["body"]["@odata.count"], SEEDED_FABRIKAM_MAILS);
    let refused = item(&reply, "plain");
    assert_eq!(refused["status"], 400);
    assert_eq!(refused["body"]["error"]["message"], MISSING);
}
