//! `$batch`, against a Graph of our own that records each envelope and
//! answers it with whatever the test's closure makes of it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::{api, client, invitation, quick};
use crate::graph::{BatchItem, BudgetSettings, GraphError, RetrySettings};

/// The envelope's status and body, from the envelope sent and its number.
type Answer = Arc<dyn Fn(&Value, usize) -> (u16, Value) + Send + Sync>;

#[derive(Clone)]
struct Graph {
    answer: Answer,
    seen: Arc<Mutex<Vec<Value>>>,
}

impl Graph {
    async fn start(
        answer: impl Fn(&Value, usize) -> (u16, Value) + Send + Sync + 'static,
    ) -> (String, Graph) {
        let graph = Graph {
            answer: Arc::new(answer),
            seen: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/v1.0/$batch", post(batch))
            .with_state(graph.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, graph)
    }

    fn seen(&self) -> Vec<Value> {
        self.seen.lock().unwrap().clone()
    }
}

async fn token() -> Response {
    axum::Json(json!({ "token_type": "Bearer", "expires_in": 3599, "access_token": "tok" }))
        .into_response()
}

async fn batch(State(graph): State<Graph>, axum::Json(envelope): axum::Json<Value>) -> Response {
    let n = {
        let mut seen = graph.seen.lock().unwrap();
        seen.push(envelope.clone());
        seen.len()
    };
    let (status, body) = (graph.answer)(&envelope, n);
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

/// Every item answered 200 with its own id in the body, in reverse order.
fn reversed(envelope: &Value, _: usize) -> (u16, Value) {
    let mut answers: Vec<Value> = envelope["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!({ "id": r["id"], "status": 200, "body": { "id": r["id"] } }))
        .collect();
    answers.reverse();
    (200, json!({ "responses": answers }))
}

fn reads(n: usize) -> Vec<BatchItem> {
    (1..=n)
        .map(|i| BatchItem::get_user(i.to_string(), &format!("user-{i}")))
        .collect()
}

#[tokio::test]
async fn answers_in_reverse_order_are_matched_by_id() {
    let (url, _graph) = Graph::start(reversed).await;
    let call = client(&url, quick()).batch(&reads(3)).await.unwrap();
    let ids: Vec<_> = call.value.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"], "in the order of the items");
    for answer in &call.value {
        assert_eq!(answer.body["id"], answer.id.as_str(), "{answer:?}");
        assert!(answer.is_success() && answer.error().is_none());
    }
}

#[tokio::test]
async fn a_throttled_item_carries_its_own_fractional_retry_after() {
    let (url, _graph) = Graph::start(|_, _| {
        let throttled = json!({ "id": "2", "status": 429,
            "headers": { "Retry-After": "2.128", "Content-Type": "application/json" },
            "body": { "error": { "code": "TooManyRequests", "message": "slow down" } } });
        let ok = json!({ "id": "1", "status": 200, "body": {} });
        (200, json!({ "responses": [throttled, ok] }))
    })
    .await;
    let graph = client(&url, quick());
    let call = graph.batch(&reads(2)).await.unwrap();
    let item = &call.value[1];
    assert_eq!(
        (item.status, item.retry_after),
        (429, Some(Duration::from_millis(2128)))
    );
    assert_eq!(
        item.headers["content-type"], "application/json",
        "names lower-cased"
    );
    assert_eq!(
        api(&item.error().unwrap()),
        (429, Some(Duration::from_millis(2128)))
    );
    assert_eq!(call.value[0].retry_after, None);
    assert_eq!(graph.stats().throttled, 1);
    assert_eq!(graph.stats().retries, 0, "a 200 envelope is not repeated");
}

#[tokio::test]
async fn a_failed_dependency_424_is_passed_through() {
    let (url, _graph) = Graph::start(|_, _| {
        let failed = json!({ "id": "1", "status": 400,
            "body": { "error": { "code": "Request_BadRequest", "message": "no" } } });
        let dependent = json!({ "id": "2", "status": 424,
            "body": { "error": { "code": "FailedDependency", "message": "1 failed" } } });
        (200, json!({ "responses": [dependent, failed] }))
    })
    .await;
    let items = [
        BatchItem::patch_other_mails("1", "obj-1", &["new@example.com".into()]),
        BatchItem::invitation("2", &invitation()).after("1"),
    ];
    let call = client(&url, quick()).batch(&items).await.unwrap();
    let statuses: Vec<_> = call.value.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [400, 424]);
    assert_eq!(api(&call.value[1].error().unwrap()).0, 424);
}

#[tokio::test]
async fn more_than_twenty_items_are_refused_without_sending() {
    let (url, graph) = Graph::start(reversed).await;
    let err = client(&url, quick()).batch(&reads(21)).await.unwrap_err();
    assert!(matches!(err, GraphError::Refused(_)), "{err:?}");
    assert!(graph.seen().is_empty());
    assert!(
        client(&url, quick()).batch(&reads(20)).await.is_ok(),
        "20 is allowed"
    );
}

#[tokio::test]
async fn clashing_ids_and_unsupported_dependency_shapes_are_refused_without_sending() {
    let (url, graph) = Graph::start(reversed).await;
    let graph_client = client(&url, quick());
    let mut clash = reads(2);
    clash[1].id = "1".into();
    // "invite i after patch i" for two pairs: none of Graph's three shapes.
    let pairs = vec![
        BatchItem::get_user("a", "x"),
        BatchItem::get_user("b", "x").after("a"),
        BatchItem::get_user("c", "y"),
        BatchItem::get_user("d", "y").after("c"),
    ];
    let unknown = vec![BatchItem::get_user("a", "x").after("zz")];
    for items in [clash, pairs, unknown, Vec::new()] {
        let err = graph_client.batch(&items).await.unwrap_err();
        assert!(matches!(err, GraphError::Refused(_)), "{err:?}");
    }
    assert!(graph.seen().is_empty());
    let serial = vec![
        BatchItem::get_user("a", "x"),
        BatchItem::get_user("b", "x").after("a"),
        BatchItem::get_user("c", "x").after("B"),
    ];
    assert!(
        graph_client.batch(&serial).await.is_ok(),
        "serial, ids case-insensitive"
    );
}

#[tokio::test]
async fn the_envelope_has_the_documented_shape() {
    let (url, graph) = Graph::start(reversed).await;
    let items = [
        BatchItem::get_user("1", "adele_fabrikam.example#EXT#@contoso.example"),
        BatchItem::patch_other_mails("2", "obj-1", &["new@example.com".into()]),
        BatchItem::invitation("3", &invitation()).after("2"),
    ];
    client(&url, quick()).batch(&items).await.unwrap();
    let sent = &graph.seen()[0]["requests"];
    let get = &sent[0];
    assert_eq!(get["method"], "GET");
    let get_url = get["url"].as_str().unwrap();
    assert!(
        get_url.starts_with("/users/adele_fabrikam.example%23EXT%23@contoso.example?$select=id,"),
        "{get_url}"
    );
    assert!(
        get.get("headers").is_none() && get.get("body").is_none() && get.get("dependsOn").is_none()
    );
    assert_eq!(sent[1]["method"], "PATCH");
    assert_eq!(sent[1]["url"], "/users/obj-1");
    assert_eq!(
        sent[1]["body"],
        json!({ "otherMails": ["new@example.com"] })
    );
    assert_eq!(
        sent[1]["headers"],
        json!({ "Content-Type": "application/json" })
    );
    assert_eq!(sent[2]["url"], "/invitations");
    assert_eq!(sent[2]["headers"]["Content-Type"], "application/json");
    assert_eq!(sent[2]["body"], crate::graph::request_body(&invitation()));
    assert_eq!(sent[2]["dependsOn"], json!(["2"]), "an array of ids");
}

#[tokio::test]
async fn a_write_item_takes_a_slot_from_the_tenants_budget() {
    let (url, graph) = Graph::start(reversed).await;
    let one = BudgetSettings {
        limit: 1,
        window: Duration::from_secs(600),
    };
    let graph_client = client(
        &url,
        RetrySettings {
            user_writes: one,
            invitations: one,
            ..quick()
        },
    );
    let patch = |id: &str| BatchItem::patch_other_mails(id, "obj-1", &["a@example.com".into()]);
    graph_client.batch(&[patch("1")]).await.unwrap();
    let err = graph_client.batch(&[patch("1")]).await.unwrap_err();
    assert!(
        matches!(err, GraphError::Budget { retry_after } if retry_after == one.window),
        "{err:?}"
    );
    assert_eq!(graph.seen().len(), 1, "nothing sent for the refused batch");
    assert!(
        graph_client.batch(&reads(20)).await.is_ok(),
        "reads take no write slot"
    );
    let invite = [BatchItem::invitation("1", &invitation())];
    assert!(graph_client.batch(&invite).await.is_ok(), "its own budget");
    let err = graph_client.batch(&invite).await.unwrap_err();
    assert!(matches!(err, GraphError::Budget { .. }), "{err:?}");
}

#[tokio::test]
async fn a_write_batch_is_resent_only_when_graph_did_not_act() {
    let (url, graph) = Graph::start(|envelope, n| match n {
        1 => (
            503,
            json!({ "error": { "code": "ServiceUnavailable", "message": "" } }),
        ),
        2 => (
            500,
            json!({ "error": { "code": "InternalServerError", "message": "" } }),
        ),
        _ => reversed(envelope, n),
    })
    .await;
    let graph_client = client(&url, quick());
    let err = graph_client
        .batch(&[BatchItem::invitation("1", &invitation())])
        .await
        .unwrap_err();
    assert_eq!(api(&err).0, 500, "a 500 may have acted: not re-sent");
    assert_eq!(graph.seen().len(), 2, "the 503 was re-sent once");
}

#[tokio::test]
async fn a_read_batch_is_resent_after_a_500() {
    let (url, graph) = Graph::start(|envelope, n| match n {
        1 => (
            500,
            json!({ "error": { "code": "InternalServerError", "message": "" } }),
        ),
        _ => reversed(envelope, n),
    })
    .await;
    assert!(client(&url, quick()).batch(&reads(2)).await.is_ok());
    assert_eq!(graph.seen().len(), 2);
}

#[tokio::test]
async fn a_missing_answer_fails_the_call() {
    let (url, _graph) =
        Graph::start(|_, _| (200, json!({ "responses": [{ "id": "1", "status": 204 }] }))).await;
    let err = client(&url, quick()).batch(&reads(2)).await.unwrap_err();
    assert!(matches!(err, GraphError::Decode(_)), "{err:?}");
}
