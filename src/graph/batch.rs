//! JSON batching: up to 20 Graph requests in one `POST /v1.0/$batch`, for
//! bulk jobs. The rules followed are Microsoft's, from
//! microsoft-graph-docs-contrib `concepts/json-batching.md` (request and
//! answer shape, 20 items, answers in any order, 424 for a failed
//! dependency), `concepts/known-issues.md` "JSON batching" (relative URLs,
//! one dependency per item in three shapes only) and `concepts/throttling.md`
//! "Throttling and batching" (each item throttled on its own, with its own
//! `Retry-After`; nothing retries batched items for us).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;
use tracing::instrument;

use super::batch_shape;
use super::budget::Limit;
use super::retry::Replay;
use super::send::Request;
use super::stats::Counters;
use super::{Call, GraphClient, GraphError, InvitationRequest, json, parse_retry_after};

/// json-batching.md "Batch size limitations": 20 requests per batch.
pub const MAX_BATCH_ITEMS: usize = 20;

/// Keep in step with `USER_SELECT` in users.rs: a batched read must decode
/// into the same `GraphUser` as a single one.
const USER_SELECT: &str = "id,displayName,userPrincipalName,mail,otherMails,userType,\
    externalUserState,externalUserStateChangeDateTime,creationType";

/// One request inside a batch; `url` is relative to `/v1.0` (known-issues.md:
/// "Always specify relative URIs in batch requests").
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    pub id: String,
    pub method: Method,
    pub url: String,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
    /// Graph takes one dependency per item (known-issues.md).
    pub depends_on: Option<String>,
}

impl BatchItem {
    /// `GET /users/{user}` with the properties the reset needs.
    pub fn get_user(id: impl Into<String>, user: &str) -> BatchItem {
        let url = format!("/users/{}?$select={USER_SELECT}", segment(user));
        BatchItem::new(id, Method::GET, url, None)
    }

    /// `PATCH /users/{user_id}` replacing `otherMails` (Graph has no append).
    pub fn patch_other_mails(id: impl Into<String>, user_id: &str, list: &[String]) -> BatchItem {
        let body = serde_json::json!({ "otherMails": list });
        let url = format!("/users/{}", segment(user_id));
        BatchItem::new(id, Method::PATCH, url, Some(body))
    }

    /// The reset-redemption invitation, with the body a single call sends.
    pub fn invitation(id: impl Into<String>, req: &InvitationRequest) -> BatchItem {
        let body = super::request_body(req);
        BatchItem::new(id, Method::POST, "/invitations".into(), Some(body))
    }

    /// This item runs only after `id` succeeded (else Graph answers 424).
    pub fn after(mut self, id: impl Into<String>) -> BatchItem {
        self.depends_on = Some(id.into());
        self
    }

    /// json-batching.md: "When a body is included with the request, the
    /// headers object must contain a value for Content-Type".
    pub(super) fn new(
        id: impl Into<String>,
        method: Method,
        url: String,
        body: Option<Value>,
    ) -> BatchItem {
        let headers = match body {
            Some(_) => vec![("Content-Type".into(), "application/json".into())],
            None => Vec::new(),
        };
        BatchItem {
            id: id.into(),
            method,
            url,
            body,
            headers,
            depends_on: None,
        }
    }
}

/// Graph's answer to one item. A 2xx envelope says nothing about the items
/// (json-batching.md), so each carries its own status.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchAnswer {
    pub id: String,
    pub status: u16,
    /// Header names lower-cased (Graph writes them in mixed case).
    pub headers: BTreeMap<String, String>,
    /// `Value::Null` when Graph sent none (a 204).
    pub body: Value,
    /// The item's own `Retry-After` (throttling.md "Throttling and batching").
    pub retry_after: Option<Duration>,
}

impl BatchAnswer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A failed item as the error a single call would have returned, so the
    /// rules in retry.rs apply to it alike; `None` for a 2xx.
    pub fn error(&self) -> Option<GraphError> {
        if self.is_success() {
            return None;
        }
        let error = &self.body["error"];
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let request_id = self.headers.get("request-id").cloned().or_else(|| {
            error["innerError"]["request-id"]
                .as_str()
                .map(str::to_owned)
        });
        Some(GraphError::Api {
            status: self.status,
            code: text(&error["code"]),
            message: text(&error["message"]),
            request_id,
            retry_after: self.retry_after,
        })
    }
}

#[derive(Deserialize)]
pub(super) struct Answers {
    pub(super) responses: Vec<WireAnswer>,
}

#[derive(Deserialize)]
pub(super) struct WireAnswer {
    id: String,
    status: u16,
    #[serde(default)]
    headers: serde_json::Map<String, Value>,
    #[serde(default)]
    body: Value,
}

impl GraphClient {
    /// Send `items` as one `$batch`; the answers come in the order of
    /// `items`, matched by id. Refused before sending: no items, more than
    /// [`MAX_BATCH_ITEMS`], clashing ids, a dependency shape Graph refuses,
    /// or a write with no slot in the tenant's budget.
    #[instrument(skip_all, fields(items = items.len()))]
    pub async fn batch(&self, items: &[BatchItem]) -> Result<Call<Vec<BatchAnswer>>, GraphError> {
        let shape: Vec<_> = items
            .iter()
            .map(|i| (i.id.as_str(), i.depends_on.as_deref()))
            .collect();
        batch_shape::check(&shape).map_err(GraphError::Refused)?;
        self.take_write_budgets(items).await?;
        let body = envelope_body(items);
        let call = self
            .send(self.envelope(&body, replay(items)), json::<Answers>)
            .await?;
        let answers = match_answers(items, call.value.responses)?;
        for _ in answers.iter().filter(|a| a.status == 429) {
            Counters::bump(&self.counters.throttled);
        }
        Ok(Call {
            value: answers,
            request_id: call.request_id,
        })
    }

    /// The `POST /$batch` carrying `body` ([`envelope_body`]). No budget
    /// limit of its own: each write item takes its slot before it leaves.
    pub(super) fn envelope<'a>(&self, body: &'a Value, replay: Replay) -> Request<'a> {
        Request {
            method: Method::POST,
            url: self.url(&["$batch"]),
            body: Some(body),
            replay,
            what: "batch",
            limit: None,
            eventual: false,
        }
    }

    /// A slot per write item, before the envelope leaves: Graph counts each
    /// item against its limits (throttling.md "Throttling and batching").
    async fn take_write_budgets(&self, items: &[BatchItem]) -> Result<(), GraphError> {
        let deadline = Instant::now() + self.retry.deadline;
        for limit in items.iter().filter_map(write_limit) {
            self.take_slot(limit, deadline).await?;
        }
        Ok(())
    }
}

/// The tenant limit a write item counts against (graph.md §5); `None`: a
/// read, or a write that is none of ours.
fn write_limit(item: &BatchItem) -> Option<Limit> {
    let path = item.url.split('?').next().unwrap_or_default();
    match (&item.method, path.trim_start_matches('/')) {
        (&Method::POST, "invitations") => Some(Limit::Invitations),
        (&Method::PATCH, p) if p.starts_with("users/") => Some(Limit::UserWrites),
        _ => None,
    }
}

/// Reads may be repeated after any transient failure; a batch with a write
/// only when Graph demonstrably did not act on the envelope (429, 503, not
/// sent): a second reset would send a second email.
fn replay(items: &[BatchItem]) -> Replay {
    match items.iter().all(|i| i.method == Method::GET) {
        true => Replay::Idempotent,
        false => Replay::OnlyIfNotActed {
            replication_lag: false,
        },
    }
}

/// The envelope's body: `{"requests": [...]}`, each item as [`wire`] writes it.
pub(super) fn envelope_body(items: &[BatchItem]) -> Value {
    serde_json::json!({ "requests": items.iter().map(wire).collect::<Vec<_>>() })
}

/// One item as json-batching.md writes it; `dependsOn` is an array of ids,
/// though Graph takes only one.
fn wire(item: &BatchItem) -> Value {
    let mut wire =
        serde_json::json!({ "id": item.id, "method": item.method.as_str(), "url": item.url });
    if !item.headers.is_empty() {
        let headers = item
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())));
        wire["headers"] = Value::Object(headers.collect());
    }
    if let Some(body) = &item.body {
        wire["body"] = body.clone();
    }
    if let Some(on) = &item.depends_on {
        wire["dependsOn"] = serde_json::json!([on]);
    }
    wire
}

/// The answers in the order of `items`, matched by id, never by position
/// (json-batching.md: "Individual responses might appear in a different
/// order"). A missing, doubled or unasked-for answer leaves every item's
/// outcome unknown, so the whole call fails.
pub(super) fn match_answers(
    items: &[BatchItem],
    answers: Vec<WireAnswer>,
) -> Result<Vec<BatchAnswer>, GraphError> {
    let count = answers.len();
    let mut by_id: HashMap<String, WireAnswer> = answers
        .into_iter()
        .map(|a| (a.id.to_lowercase(), a))
        .collect();
    // Unique answer ids, as many as items, each item's found: no stray ones.
    let unique = by_id.len() == count && count == items.len();
    items
        .iter()
        .map(|item| match by_id.remove(&item.id.to_lowercase()) {
            Some(answer) if unique => Ok(answer_from(item, answer)),
            _ => Err(GraphError::Decode(format!(
                "batch: {count} answers for {} items do not match their ids",
                items.len()
            ))),
        })
        .collect()
}

fn answer_from(item: &BatchItem, answer: WireAnswer) -> BatchAnswer {
    let headers: BTreeMap<String, String> = answer
        .headers
        .into_iter()
        .map(|(name, v)| {
            (
                name.to_ascii_lowercase(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        })
        .collect();
    let retry_after = headers
        .get("retry-after")
        .and_then(|v| parse_retry_after(v));
    BatchAnswer {
        id: item.id.clone(),
        status: answer.status,
        headers,
        body: answer.body,
        retry_after,
    }
}

/// A path segment, percent-encoded: a guest UPN's `#` must be `%23` (a raw
/// `#` would cut the URL at a fragment), the rest of RFC 3986's reserved
/// characters likewise; `@` stays, as it may in a segment.
fn segment(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
