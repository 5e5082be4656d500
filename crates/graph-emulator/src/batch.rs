//! `POST /v1.0/$batch` (json-batching.md): up to 20 requests in one call, each run
//! through the emulator's own Graph routes (`routes::batch_items`) with the batch's
//! bearer token, so each is authenticated, authorised, limited, faulted and logged as a
//! request of its own: "Requests in a batch are evaluated individually against the
//! applicable throttling limits and if any request exceeds the limits, it fails with a
//! status of `429`" (json-batching.md, "Batch size limitations"), inside a batch that
//! answers `200` (throttling.md, "Throttling and batching").
//!
//! Requests run in waves: all those without a pending dependency at once, then those that
//! depended on them (the documented dependency shapes always name an earlier request). Responses come back in the reverse order: "Individual
//! responses might appear in a different order than the requests" (json-batching.md), so
//! a client that pairs them by position rather than by `id` fails here, not in
//! production. A request whose dependency failed is not run and gets `424`: "If an
//! individual request fails, any request that depends on that request fails with status
//! code `424` (Failed Dependency)" (json-batching.md, "Sequencing requests with the
//! dependsOn property"); failed means any status outside 2xx, a 424 included.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use tower::ServiceExt as _;

use super::batch_request::{self, Item};
use super::envelope::{GRAPH_JSON, graph_json};
use super::errors::GraphError;
use super::recording::BatchItem;
use super::{Emulator, faults, routes};

/// No item answer the emulator gives comes near this.
const MAX_ITEM_BODY: usize = 4 * 1024 * 1024;

pub(super) async fn post_batch(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, GraphError> {
    let items = batch_request::parse(&body)?;
    let router = routes::batch_items(&emulator);
    let answers = run_in_waves(&router, items, &headers).await;
    let responses: Vec<Value> = answers.iter().rev().map(Answer::to_json).collect();
    let response = graph_json(StatusCode::OK, json!({ "responses": responses }));
    // An item whose connection was dropped after it was applied drops the whole batch:
    // the client learns nothing about any item, as when Graph's connection breaks.
    if answers.iter().any(|a| a.dropped) {
        return Ok(faults::dropped(response).await);
    }
    Ok(response)
}

/// Runs the items in waves: every item whose dependency is answered (or that has none)
/// runs at once with the others of its wave, as Graph runs a batch "either fully
/// sequential or fully parallel" (a Microsoft answer on Q&A 1532547; json-batching.md:
/// independent requests "can be placed into the batch request in any order", and batching
/// saves "significant network latency"). So a batch of 20 independent reads takes about as
/// long as one, and a serial chain one item after another. The answers are in item order.
async fn run_in_waves(router: &Router, items: Vec<Item>, outer: &HeaderMap) -> Vec<Answer> {
    let items: Vec<std::sync::Arc<Item>> = items.into_iter().map(std::sync::Arc::new).collect();
    let mut answers: Vec<Option<Answer>> = items.iter().map(|_| None).collect();
    loop {
        let ready: Vec<usize> = (0..items.len())
            .filter(|&i| answers[i].is_none())
            .filter(|&i| items[i].depends_on.is_none_or(|d| answers[d].is_some()))
            .collect();
        if ready.is_empty() {
            break;
        }
        let mut wave = tokio::task::JoinSet::new();
        for i in ready {
            let item = std::sync::Arc::clone(&items[i]);
            let failed = item
                .depends_on
                .is_some_and(|d| answers[d].as_ref().is_none_or(|a| !a.succeeded()));
            let (router, outer) = (router.clone(), outer.clone());
            wave.spawn(async move {
                let answer = match failed {
                    true => Answer::failed_dependency(&item.id),
                    false => run(router, &item, &outer).await,
                };
                (i, answer)
            });
        }
        while let Some(done) = wave.join_next().await {
            if let Ok((i, answer)) = done {
                answers[i] = Some(answer);
            }
        }
    }
    // A task that panicked leaves its item unanswered: a 500, as Graph's gateway would.
    (answers.into_iter().zip(&items))
        .map(|(answer, item)| answer.unwrap_or_else(|| Answer::internal_error(&item.id)))
        .collect()
}

/// Runs one item with the batch's bearer token and host (for `@odata.nextLink`).
async fn run(router: Router, item: &Item, outer: &HeaderMap) -> Answer {
    let mut request = Request::new(Body::from(item.body.clone()));
    *request.method_mut() = item.method.clone();
    *request.uri_mut() = item.target.clone();
    let headers = request.headers_mut();
    headers.extend(item.headers.iter().map(|(n, v)| (n.clone(), v.clone())));
    for name in [header::AUTHORIZATION, header::HOST] {
        if let Some(value) = outer.get(&name) {
            headers.insert(name, value.clone());
        }
    }
    request.extensions_mut().insert(BatchItem(item.id.clone()));
    let response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    Answer::read(&item.id, response).await
}

/// One entry of `responses`: "Rather than **method** and **url**, individual responses
/// have a **status** property", and "headers" holds "the headers returned by the server"
/// (json-batching.md).
struct Answer {
    id: String,
    status: u16,
    headers: Map<String, Value>,
    body: Option<Value>,
    /// The item's answer could not be read: a `drop_after_apply` fault.
    dropped: bool,
}

impl Answer {
    fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }

    async fn read(id: &str, response: Response) -> Answer {
        let (parts, body) = response.into_parts();
        let headers = (parts.headers.iter())
            .filter(|(name, _)| !is_framing(name))
            .filter_map(|(name, value)| {
                let value = value.to_str().ok()?;
                Some((shown_name(name), Value::from(value)))
            })
            .collect();
        let bytes = axum::body::to_bytes(body, MAX_ITEM_BODY).await;
        let (body, dropped) = match bytes {
            Ok(bytes) => (item_body(&bytes), false),
            Err(_) => (None, true),
        };
        let status = parts.status.as_u16();
        Answer {
            id: id.to_owned(),
            status,
            headers,
            body,
            dropped,
        }
    }

    /// The 424 of a request whose dependency failed. Its body is not documented; the
    /// emulator sends Graph's error shape with the status's name as code (UNVERIFIED).
    fn failed_dependency(id: &str) -> Answer {
        let message = "The request depends on a request of this batch that failed.";
        Answer::error(
            id,
            StatusCode::FAILED_DEPENDENCY,
            "FailedDependency",
            message,
        )
    }

    /// An item whose run failed inside the emulator.
    fn internal_error(id: &str) -> Answer {
        let message = "The item could not be run.";
        Answer::error(
            id,
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            message,
        )
    }

    /// An answer the batch gives for an item itself, in Graph's error shape.
    fn error(id: &str, status: StatusCode, code: &'static str, message: &'static str) -> Answer {
        let request_id = uuid::Uuid::new_v4().to_string();
        let error = GraphError::new(status, code, message);
        let mut headers = Map::new();
        headers.insert("Content-Type".to_owned(), Value::from(GRAPH_JSON));
        headers.insert("request-id".to_owned(), Value::from(request_id.as_str()));
        Answer {
            id: id.to_owned(),
            status: status.as_u16(),
            headers,
            body: Some(error.body(&request_id, &request_id)),
            dropped: false,
        }
    }

    fn to_json(&self) -> Value {
        let mut entry = json!({ "id": self.id, "status": self.status, "headers": self.headers });
        if let Some(body) = &self.body {
            entry["body"] = body.clone();
        }
        entry
    }
}

/// JSON as JSON; anything else (a corrupting fault's answer) base64-encoded, the form
/// the docs give for bodies that are not JSON (json-batching.md, request properties).
fn item_body(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    let json = serde_json::from_slice(bytes).ok();
    Some(json.unwrap_or_else(|| Value::from(STANDARD.encode(bytes))))
}

/// Headers about the item's own HTTP framing, meaningless inside the batch's body.
fn is_framing(name: &HeaderName) -> bool {
    [
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::CONNECTION,
    ]
    .contains(name)
}

/// Names spelled as the documented example spells them ("Cache-Control",
/// "Content-Type", "OData-Version", and "x-ms-resource-unit" in lower case,
/// json-batching.md); the emulator's other headers keep their lower-case form. Header
/// names are case-insensitive, so clients should compare them that way.
fn shown_name(name: &HeaderName) -> String {
    let shown = match name.as_str() {
        "content-type" => "Content-Type",
        "cache-control" => "Cache-Control",
        "odata-version" => "OData-Version",
        "retry-after" => "Retry-After",
        "location" => "Location",
        "www-authenticate" => "WWW-Authenticate",
        other => other,
    };
    shown.to_owned()
}
