//! A scripted fake of Graph and its token endpoint on 127.0.0.1:0. Each
//! Graph request takes the next scripted reply (an empty script answers 200
//! with a body every client method can decode) and is counted.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

/// One scripted answer.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// This status with a Graph error body (a 2xx carries `body` instead).
    Status(u16, Option<&'static str>),
    /// A 400 with this Graph error message.
    BadRequest(&'static str),
    /// 200 after this delay: a stall when longer than the client waits.
    Slow(Duration),
    /// 200 whose JSON stops half-way (with a matching Content-Length).
    Truncated,
}

/// Counters and the script, shared with the handlers.
#[derive(Clone, Default)]
pub(crate) struct Fake {
    script: Arc<Mutex<VecDeque<Reply>>>,
    graph_hits: Arc<AtomicUsize>,
    token_hits: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    token_forms: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

/// A running fake; `url` serves as both authority and Graph root.
pub(crate) struct FakeGraph {
    pub(crate) url: String,
    fake: Fake,
}

impl FakeGraph {
    pub(crate) async fn start(script: impl IntoIterator<Item = Reply>) -> FakeGraph {
        let fake = Fake::default();
        fake.script.lock().unwrap().extend(script);
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/v1.0/{*rest}", any(graph))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeGraph { url, fake }
    }

    pub(crate) fn graph_hits(&self) -> usize {
        self.fake.graph_hits.load(SeqCst)
    }

    pub(crate) fn token_hits(&self) -> usize {
        self.fake.token_hits.load(SeqCst)
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.fake.max_in_flight.load(SeqCst)
    }

    pub(crate) fn token_forms(&self) -> Vec<HashMap<String, String>> {
        self.fake.token_forms.lock().unwrap().clone()
    }
}

async fn token(State(fake): State<Fake>, Form(form): Form<HashMap<String, String>>) -> Response {
    let n = fake.token_hits.fetch_add(1, SeqCst) + 1;
    fake.token_forms.lock().unwrap().push(form);
    let body =
        json!({ "token_type": "Bearer", "expires_in": 3599, "access_token": format!("tok-{n}") });
    axum::Json(body).into_response()
}

/// Decrements the in-flight count however the handler ends.
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

async fn graph(State(fake): State<Fake>) -> Response {
    fake.graph_hits.fetch_add(1, SeqCst);
    let now = fake.in_flight.fetch_add(1, SeqCst) + 1;
    fake.max_in_flight.fetch_max(now, SeqCst);
    let _guard = InFlight(Arc::clone(&fake.in_flight));
    let reply = fake.script.lock().unwrap().pop_front();
    match reply {
        None => ok(),
        Some(Reply::Status(status, retry_after)) => status_reply(status, retry_after),
        Some(Reply::BadRequest(message)) => error(400, "BadRequest", message, HeaderMap::new()),
        Some(Reply::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            ok()
        }
        Some(Reply::Truncated) => (
            [("content-type", "application/json")],
            r#"{"id":"obj-1","status":"Pend"#,
        )
            .into_response(),
    }
}

fn ok() -> Response {
    let body = json!({ "id": "obj-1", "status": "PendingAcceptance", "value": [] });
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

fn status_reply(status: u16, retry_after: Option<&'static str>) -> Response {
    let mut headers = HeaderMap::new();
    if let Some(v) = retry_after {
        headers.insert("retry-after", v.parse().unwrap());
    }
    match status {
        200..=299 => ok(),
        401 => error(status, "InvalidAuthenticationToken", "expired", headers),
        429 => error(
            status,
            "TooManyRequests",
            "Please retry again later.",
            headers,
        ),
        _ => error(status, "ServiceUnavailable", "scripted failure", headers),
    }
}

fn error(status: u16, code: &str, message: &str, headers: HeaderMap) -> Response {
    let body: Value = json!({ "error": { "code": code, "message": message } });
    let status = StatusCode::from_u16(status).unwrap();
    (status, headers, [("request-id", "req-1")], axum::Json(body)).into_response()
}

/// A "Graph" that reads each request in full, then closes the connection
/// without a word: the request was delivered, the outcome is unknown.
pub(crate) async fn dropping_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, SeqCst);
            read_request(&mut socket).await;
        }
    });
    (url, hits)
}

/// Headers, then as many body bytes as Content-Length says.
async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = socket.read(&mut buf).await {
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length = text[..end]
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if seen.len() >= end + 4 + length {
            return;
        }
    }
}

/// An address where nothing listens: connecting is refused.
pub(crate) async fn refused_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
