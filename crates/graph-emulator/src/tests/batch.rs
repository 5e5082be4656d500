//! `POST /v1.0/$batch`: the 20-request cap, unique ids, per-item answers (throttling
//! included) inside a 200, and item URLs that stay among the Graph routes.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::super::{Fault, FaultRoute, demo};
use super::{Harness, Reply, always, reset_body, send};

/// Posts a batch of `requests` with `token`.
pub(super) async fn post_batch(harness: &Harness, token: &str, requests: Value) -> Reply {
    let body = json!({ "requests": requests });
    let url = harness.url("/v1.0/$batch");
    send(harness.http.post(url).bearer_auth(token).json(&body)).await
}

/// The answer to item `id`, found by id as clients must (the order is not the request's).
pub(super) fn item<'a>(reply: &'a Reply, id: &str) -> &'a Value {
    let responses = reply.body["responses"].as_array();
    let found = responses.and_then(|all| all.iter().find(|r| r["id"] == id));
    found.unwrap_or_else(|| panic!("no response {id}: {}", reply.body))
}

pub(super) fn get(id: &str, url: &str) -> Value {
    json!({ "id": id, "method": "GET", "url": url })
}

pub(super) fn patch(id: &str, user: &str, other_mails: &[&str]) -> Value {
    json!({
        "id": id, "method": "PATCH", "url": format!("/users/{user}"),
        "headers": { "Content-Type": "application/json" },
        "body": { "otherMails": other_mails },
    })
}

fn reset(id: &str) -> Value {
    json!({
        "id": id, "method": "POST", "url": "/invitations",
        "headers": { "Content-Type": "application/json" },
        "body": reset_body(demo::ADELE_ID, demo::ADELE_MAIL),
    })
}

#[tokio::test]
async fn a_batch_of_twenty_answers_each_request_by_id_in_reverse_order() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    harness.emulator.clear_requests();
    let user = format!("/users/{}?$select=id,mail", demo::ADELE_ID);
    let requests: Vec<Value> = (1..=20).map(|i| get(&i.to_string(), &user)).collect();

    let reply = post_batch(&harness, &token, json!(requests)).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let responses = reply.body["responses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ids: Vec<&str> = responses.iter().filter_map(|r| r["id"].as_str()).collect();
    let expected: Vec<String> = (1..=20).rev().map(|i| i.to_string()).collect();
    assert_eq!(ids, expected, "the documented choice: reverse order");
    for response in &responses {
        assert_eq!(response["status"], 200, "{response}");
        assert_eq!(response["body"]["mail"], demo::ADELE_MAIL);
        let content_type = response["headers"]["Content-Type"].as_str();
        assert!(content_type.is_some_and(|t| t.starts_with("application/json")));
    }
    let log = harness.emulator.requests();
    assert_eq!(log.len(), 21, "the batch, then each item");
    assert_eq!(
        (log[0].path.as_str(), log[0].batch_item.as_deref()),
        ("/v1.0/$batch", None)
    );
    assert_eq!(log[20].batch_item.as_deref(), Some("20"));
    assert_eq!(log[20].path, format!("/v1.0/users/{}", demo::ADELE_ID));
}

#[tokio::test]
async fn twenty_one_requests_or_none_are_a_malformed_batch() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    harness.emulator.clear_requests();
    let user = format!("/users/{}", demo::ADELE_ID);
    let requests: Vec<Value> = (1..=21).map(|i| get(&i.to_string(), &user)).collect();

    for batch in [json!(requests), json!([])] {
        let refused = post_batch(&harness, &token, batch).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.code(), "BadRequest");
        assert!(refused.message().contains("20"), "{}", refused.message());
    }
    assert_eq!(harness.emulator.requests().len(), 2, "no item ran");
}

#[tokio::test]
async fn ids_must_be_unique_ignoring_case() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let user = format!("/users/{}", demo::ADELE_ID);
    let requests = json!([get("a", &user), get("A", &user)]);

    let refused = post_batch(&harness, &token, requests).await;

    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.message(),
        "Request Id A has to be unique in a batch."
    );
}

#[tokio::test]
async fn item_urls_reach_neither_the_control_surface_nor_the_authority() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let plan = json!({ "seed": 1, "rules": [] });
    let put_plan = json!({
        "id": "faults", "method": "PUT", "url": "/_emulator/faults",
        "headers": { "Content-Type": "application/json" }, "body": plan,
    });
    let token_url = format!("/{}/oauth2/v2.0/token", demo::TENANT_ID);
    let requests = json!([
        put_plan,
        get("limits", "_emulator/limits"),
        get("token", &token_url)
    ]);

    let reply = post_batch(&harness, &token, requests).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    for id in ["faults", "limits", "token"] {
        assert_eq!(item(&reply, id)["status"], 404, "{id}: {}", reply.body);
    }
    assert!(harness.emulator.faults().is_none(), "no plan was set");
    for url in [
        "/../_emulator/faults",
        "/users/%2E%2E/%2e%2e/_emulator/limits",
        "http://127.0.0.1/_emulator/limits",
        "/$batch",
    ] {
        let refused = post_batch(&harness, &token, json!([get("1", url)])).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{url}");
    }
}

#[tokio::test]
async fn a_throttled_item_gets_its_own_429_and_retry_after_inside_a_200() {
    let harness = Harness::start().await;
    harness
        .emulator
        .set_invitation_rate(1, Duration::from_secs(60));
    let token = harness.token().await;

    let reply = post_batch(&harness, &token, json!([reset("1"), reset("2")])).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(item(&reply, "1")["status"], 201, "{}", reply.body);
    let throttled = item(&reply, "2");
    assert_eq!(throttled["status"], 429);
    let retry_after = throttled["headers"]["Retry-After"]
        .as_str()
        .unwrap_or_default();
    assert!(
        retry_after
            .parse::<u64>()
            .is_ok_and(|s| (1..=60).contains(&s)),
        "{retry_after}"
    );
    assert_eq!(throttled["body"]["error"]["code"], "TooManyRequests");
    assert_eq!(harness.emulator.applied_resets().len(), 1);
    let logged = harness.emulator.requests().pop().expect("logged");
    assert_eq!(logged.injected.as_deref(), Some("invitation_rate_limit"));
}

#[tokio::test]
async fn the_fault_plan_reaches_each_item_on_its_own_route() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let retry_after = Some("2.128".to_owned());
    let throttle = Fault::Throttle { retry_after };
    harness
        .emulator
        .set_faults(always(FaultRoute::PatchUser, throttle));
    let user = format!("/users/{}", demo::ADELE_ID);
    let requests = json!([
        patch("1", demo::ADELE_ID, &[demo::ADELE_NEW_MAIL]),
        get("2", &user)
    ]);

    let reply = post_batch(&harness, &token, requests).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(item(&reply, "1")["status"], 429);
    assert_eq!(
        item(&reply, "1")["headers"]["Retry-After"],
        "2.128",
        "verbatim"
    );
    assert_eq!(item(&reply, "2")["status"], 200);
    assert_eq!(harness.adele_other_mails(), json!([]), "not applied");
}

#[tokio::test]
async fn the_batch_route_faults_the_envelope_itself() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let throttle = Fault::Throttle {
        retry_after: Some("3".to_owned()),
    };
    harness
        .emulator
        .set_faults(always(FaultRoute::Batch, throttle));
    let requests = json!([patch("1", demo::ADELE_ID, &[demo::ADELE_NEW_MAIL])]);

    let whole = post_batch(&harness, &token, requests).await;

    assert_eq!(whole.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        (whole.header("retry-after"), whole.code()),
        ("3", "TooManyRequests")
    );
    assert_eq!(harness.adele_other_mails(), json!([]), "no item ran");
}

#[tokio::test]
async fn items_run_with_the_batchs_token() {
    let harness = Harness::start().await;
    let user = format!("/users/{}", demo::ADELE_ID);
    let anonymous = post_batch(&harness, "", json!([get("1", &user)])).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let read_only = harness
        .token_for(demo::READ_ONLY_CLIENT_ID, demo::READ_ONLY_CLIENT_SECRET)
        .await;
    let mut forged = patch("2", demo::ADELE_ID, &[demo::ADELE_NEW_MAIL]);
    forged["headers"]["Authorization"] = json!(format!("Bearer {}", harness.token().await));
    let reply = post_batch(&harness, &read_only, json!([get("1", &user), forged])).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(item(&reply, "1")["status"], 200);
    let refused = item(&reply, "2");
    assert_eq!(refused["status"], 403, "an item cannot bring its own token");
    assert_eq!(
        refused["body"]["error"]["code"],
        "Authorization_RequestDenied"
    );
}

#[tokio::test]
async fn an_item_dropped_after_it_was_applied_drops_the_whole_batch() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let dropped = always(FaultRoute::PatchUser, Fault::DropAfterApply);
    harness.emulator.set_faults(dropped);
    let requests = json!([patch("1", demo::ADELE_ID, &[demo::ADELE_NEW_MAIL])]);
    let body = json!({ "requests": requests });
    let request = harness.http.post(harness.url("/v1.0/$batch"));

    let outcome = super::send_raw(request.bearer_auth(&token).json(&body)).await;

    assert!(outcome.is_err(), "no answer at all");
    assert_eq!(
        harness.adele_other_mails(),
        json!([demo::ADELE_NEW_MAIL]),
        "applied"
    );
}

#[tokio::test]
async fn independent_requests_of_a_batch_run_at_once() {
    // Each read is held for a while: caught in flight, all twenty are held together,
    // as Graph runs a batch without dependencies "fully parallel".
    let harness = Harness::start().await;
    let token = harness.token().await;
    let hold = Fault::Latency { millis: 1500 };
    harness
        .emulator
        .set_faults(always(FaultRoute::GetUser, hold));
    harness.emulator.clear_requests();
    let user = format!("/users/{}?$select=id", demo::ADELE_ID);
    let requests: Vec<Value> = (1..=20).map(|i| get(&i.to_string(), &user)).collect();
    let sent = tokio::spawn({
        let (http, url) = (harness.http.clone(), harness.url("/v1.0/$batch"));
        let body = json!({ "requests": requests });
        async move { send(http.post(url).bearer_auth(token).json(&body)).await }
    });
    let mut most_in_flight = 0;
    for _ in 0..100 {
        let log = harness.emulator.requests();
        let in_flight = (log.iter())
            .filter(|r| r.batch_item.is_some() && r.status == 0)
            .count();
        most_in_flight = most_in_flight.max(in_flight);
        if most_in_flight == 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(most_in_flight, 20, "all twenty in flight together");
    let reply = sent.await.unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}
