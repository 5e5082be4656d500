//! `dependsOn` in `$batch`: the three documented shapes, the 400s for others, and 424
//! for a request whose dependency failed.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::super::demo;
use super::Harness;
use super::batch::{get, item, patch, post_batch};

const UNKNOWN_USER: &str = "00000000-0000-4000-8000-999999999999";

fn after(mut request: Value, dependency: &str) -> Value {
    request["dependsOn"] = json!([dependency]);
    request
}

fn invite(id: &str, email: &str) -> Value {
    json!({
        "id": id, "method": "POST", "url": "/invitations",
        "headers": { "Content-Type": "application/json" },
        "body": super::reset_body(demo::ADELE_ID, email),
    })
}

#[tokio::test]
async fn requests_after_a_failed_one_get_424_and_do_not_run() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    harness.emulator.clear_requests();
    let requests = json!([
        patch("1", UNKNOWN_USER, &["x@fabrikam.example"]),
        after(patch("2", demo::ADELE_ID, &[demo::ADELE_NEW_MAIL]), "1"),
        after(invite("3", demo::ADELE_NEW_MAIL), "2"),
    ]);

    let reply = post_batch(&harness, &token, requests).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(item(&reply, "1")["status"], 404);
    for id in ["2", "3"] {
        let failed = item(&reply, id);
        assert_eq!(failed["status"], 424, "{id}: {failed}");
        assert_eq!(failed["body"]["error"]["code"], "FailedDependency");
    }
    assert_eq!(harness.adele_other_mails(), json!([]), "2 never ran");
    assert!(harness.emulator.applied_resets().is_empty(), "3 never ran");
    assert_eq!(harness.emulator.requests().len(), 2, "the batch and item 1");
}

#[tokio::test]
async fn a_request_runs_after_the_one_it_depends_on() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let requests = json!([
        patch("patch", demo::ADELE_ID, &[demo::ADELE_NEW_MAIL]),
        after(invite("invite", demo::ADELE_NEW_MAIL), "patch"),
    ]);

    let reply = post_batch(&harness, &token, requests).await;

    assert_eq!(item(&reply, "patch")["status"], 204, "{}", reply.body);
    assert!(
        item(&reply, "patch").get("body").is_none(),
        "a 204 has no body"
    );
    assert_eq!(item(&reply, "invite")["status"], 201, "{}", reply.body);
    let applied = harness.emulator.applied_resets();
    assert_eq!(
        applied.first().map(|r| r.email.as_str()),
        Some(demo::ADELE_NEW_MAIL)
    );
}

#[tokio::test]
async fn all_depending_on_the_same_request_is_a_documented_shape() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let user = format!("/users/{}", demo::ADELE_ID);
    let requests = json!([
        get("a", &user),
        get("b", &user),
        after(get("c", &user), "b"),
        after(get("d", &user), "B"),
    ]);

    let reply = post_batch(&harness, &token, requests).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    for id in ["a", "b", "c", "d"] {
        assert_eq!(item(&reply, id)["status"], 200, "{id}");
    }
}

async fn assert_malformed(harness: &Harness, requests: Value, message: &str) {
    let token = harness.token().await;
    let refused = post_batch(harness, &token, requests.clone()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{requests}");
    assert!(
        refused.message().starts_with(message),
        "{}",
        refused.message()
    );
}

#[tokio::test]
async fn a_dependency_must_be_one_earlier_request() {
    let harness = Harness::start().await;
    let user = format!("/users/{}", demo::ADELE_ID);
    let mut two = get("3", &user);
    two["dependsOn"] = json!(["1", "2"]);
    for requests in [
        json!([get("1", &user), get("2", &user), two]),
        json!([after(get("1", &user), "2"), get("2", &user)]),
        json!([get("1", &user), after(get("2", &user), "9")]),
        json!([after(get("1", &user), "1")]),
    ] {
        assert_malformed(&harness, requests, "Invalid dependency for request Id").await;
    }
}

#[tokio::test]
async fn pairs_of_dependent_requests_fit_no_documented_shape() {
    let harness = Harness::start().await;
    // "invite i after patch i" for two pairs: neither serial, parallel nor same.
    let requests = json!([
        patch("p1", demo::ADELE_ID, &["a@northwind.example"]),
        after(invite("i1", "a@northwind.example"), "p1"),
        patch("p2", demo::ADELE_ID, &["b@northwind.example"]),
        after(invite("i2", "b@northwind.example"), "p2"),
    ]);
    let message = "Batch should be either fully sequential or fully parallel.";
    assert_malformed(&harness, requests, message).await;
    assert_eq!(harness.adele_other_mails(), json!([]), "nothing ran");
}

#[tokio::test]
async fn a_body_needs_a_content_type() {
    let harness = Harness::start().await;
    let mut bare = patch("1", demo::ADELE_ID, &[demo::ADELE_NEW_MAIL]);
    bare["headers"] = json!({});
    assert_malformed(&harness, json!([bare]), "Request Id 1 is invalid").await;
    assert_eq!(harness.adele_other_mails(), json!([]));
}
