//! The guest lookup (`GET /v1/guests`, `GET /v1/guests/{id}`) through the
//! public API against the emulator: Graph's `$search` as an advanced query,
//! what the caller's rules say about each guest, sponsors, roles, the
//! guest's recent resets, and clear errors for bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestApp, expect_problem, tenant};
use serde_json::{Value, json};

async fn found(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app.get_as(token, &format!("/v1/guests?{query}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<&str> {
    let guests = list["guests"].as_array().unwrap();
    guests.iter().map(|g| g["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_search_asks_graph_with_search_as_an_advanced_query() {
    let app = TestApp::spawn().await;
    let list = found(&app, &app.token(), "search=adele").await;
    assert_eq!(ids(&list), [tenant::ADELE_ID], "{list}");
    let adele = &list["guests"][0];
    assert_eq!(adele["mail"], tenant::ADELE_MAIL);
    assert_eq!(adele["external_user_state"], "Accepted");
    assert_eq!(adele["within_rules"], true, "{adele}");
    let search = app.emulator.requests().into_iter().find(|r| {
        r.path == "/v1.0/users" && r.query.as_deref().is_some_and(|q| q.contains("%24search"))
    });
    let search = search.expect("a $search request");
    let eventual = search
        .headers
        .iter()
        .any(|(n, v)| n == "consistencylevel" && v == "eventual");
    assert!(eventual, "{:?}", search.headers);
    // The mail's start finds her, a word inside the mail does not (startswith).
    let by_mail = found(&app, &app.token(), "search=adele.vance%40fabrikam").await;
    assert_eq!(ids(&by_mail), [tenant::ADELE_ID]);
    let none = found(&app, &app.token(), "search=nobody-like-this").await;
    assert!(ids(&none).is_empty(), "{none}");
}

#[tokio::test]
async fn guests_outside_the_callers_rules_are_marked_and_members_are_not_listed() {
    let app = TestApp::spawn().await;
    // Diego's mail is at tailspin.example: no helpdesk rule reaches him.
    let list = found(&app, &app.token(), "search=diego").await;
    assert_eq!(ids(&list), [tenant::SHARED_GUEST_A_ID], "{list}");
    assert_eq!(list["guests"][0]["within_rules"], false);
    // Megan Bowen is a member: the lookup is for guests only.
    let members = found(&app, &app.token(), "search=megan").await;
    assert!(ids(&members).is_empty(), "{members}");
    let page = app.get(&format!("/v1/guests/{}", tenant::MEMBER_ID)).await;
    expect_problem(page, 404, "not-found").await;
}

#[tokio::test]
async fn a_guests_page_shows_sponsors_roles_reach_and_recent_resets() {
    let app = TestApp::spawn().await;
    let reset = app
        .post_reset(json!({ "user": tenant::ADELE_ID, "new_email": tenant::ADELE_NEW_MAIL }))
        .await;
    assert_eq!(reset.status(), 201);
    let page = app.get(&format!("/v1/guests/{}", tenant::ADELE_ID)).await;
    assert_eq!(page.status(), 200);
    let page: Value = page.json().await.unwrap();
    assert_eq!(page["display_name"], "Adele Vance");
    let sponsors: Vec<&str> = (page["sponsors"].as_array().unwrap().iter())
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(sponsors, [tenant::MEMBER_ID], "{page}");
    assert_eq!(page["directory_roles"], json!([]));
    assert_eq!(page["reach"]["blocked"], Value::Null);
    assert_eq!(
        page["reach"]["rules"],
        json!(["fabrikam-helpdesk", "moves-to-litware"])
    );
    assert_eq!(page["within_rules"], true);
    let recent = page["recent_resets"].as_array().unwrap();
    assert_eq!(recent.len(), 1, "{page}");
    assert_eq!(recent[0]["status"], "succeeded");
    // A guest holding a directory role: no rule can reach them.
    let grady = app
        .get(&format!("/v1/guests/{}", tenant::ROLE_GUEST_ID))
        .await;
    let grady: Value = grady.json().await.unwrap();
    assert!(
        grady["reach"]["blocked"]
            .as_str()
            .unwrap()
            .contains("directory role"),
        "{grady}"
    );
    assert_eq!(grady["within_rules"], false);
    assert!(!grady["directory_roles"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_lookups_are_clear_problems() {
    let app = TestApp::spawn().await;
    for query in [
        "",
        "search=",
        "search=%20%20",
        "search=a&foo=1",
        "search=%01x",
    ] {
        let response = app.get(&format!("/v1/guests?{query}")).await;
        let problem = expect_problem(response, 400, "invalid-request").await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("search") || detail.contains("foo"),
            "{query}: {detail}"
        );
    }
    let long = "x".repeat(121);
    let response = app.get(&format!("/v1/guests?search={long}")).await;
    expect_problem(response, 400, "invalid-request").await;
    let response = app.get("/v1/guests/not-a-guid").await;
    let problem = expect_problem(response, 400, "invalid-request").await;
    assert!(problem["detail"].as_str().unwrap().starts_with("id:"));
    let unknown = app
        .get(&format!("/v1/guests/{}", uuid::Uuid::new_v4()))
        .await;
    expect_problem(unknown, 404, "not-found").await;
    let response = app.get("/v1/guests?search=adele&tenant=nowhere").await;
    expect_problem(response, 422, "tenant-unknown").await;
    // A token without `guests:read` (no role at all) is refused.
    let nobody = app.token_with(json!({ "roles": [] }));
    let response = app.get_as(&nobody, "/v1/guests?search=adele").await;
    expect_problem(response, 403, "permission-denied").await;
}
