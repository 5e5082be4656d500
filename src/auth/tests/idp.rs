//! The local IdP: one axum server on 127.0.0.1:0 serving a discovery document
//! (at any path ending in `/.well-known/openid-configuration`) and `/keys`.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A local IdP. Every request is counted; `/keys` can be switched to fail.
pub(super) struct Idp {
    pub(super) base: String,
    state: Arc<IdpState>,
}

#[derive(Default)]
struct IdpState {
    jwks: Mutex<Value>,
    failing: AtomicBool,
    delay_ms: AtomicU64,
    jwks_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
    all_hits: AtomicUsize,
    paths: Mutex<Vec<String>>,
    base: Mutex<String>,
}

impl Idp {
    pub(super) async fn start(jwks: Value) -> Idp {
        let state = Arc::new(IdpState {
            jwks: Mutex::new(jwks),
            ..IdpState::default()
        });
        let app = axum::Router::new()
            .fallback(serve)
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        *state.base.lock().unwrap() = base.clone();
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serves") });
        Idp { base, state }
    }

    pub(super) fn jwks_uri(&self) -> String {
        format!("{}/keys", self.base)
    }

    pub(super) fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.base)
    }

    pub(super) fn set_jwks(&self, jwks: Value) {
        *self.state.jwks.lock().unwrap() = jwks;
    }

    pub(super) fn fail(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    /// Make `/keys` answer this much later.
    pub(super) fn delay(&self, delay: Duration) {
        self.state
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub(super) fn jwks_hits(&self) -> usize {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }

    pub(super) fn discovery_hits(&self) -> usize {
        self.state.discovery_hits.load(Ordering::SeqCst)
    }

    pub(super) fn all_hits(&self) -> usize {
        self.state.all_hits.load(Ordering::SeqCst)
    }

    /// Every path requested so far, in order.
    pub(super) fn paths(&self) -> Vec<String> {
        self.state.paths.lock().unwrap().clone()
    }
}

async fn serve(State(state): State<Arc<IdpState>>, uri: Uri) -> Response {
    state.all_hits.fetch_add(1, Ordering::SeqCst);
    let path = uri.path();
    state.paths.lock().unwrap().push(path.to_owned());
    if path.ends_with("/.well-known/openid-configuration") {
        state.discovery_hits.fetch_add(1, Ordering::SeqCst);
        let base = state.base.lock().unwrap().clone();
        return axum::Json(json!({"issuer": "ignored", "jwks_uri": format!("{base}/keys")}))
            .into_response();
    }
    if path != "/keys" {
        return StatusCode::NOT_FOUND.into_response();
    }
    state.jwks_hits.fetch_add(1, Ordering::SeqCst);
    let delay = state.delay_ms.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(delay)).await;
    if state.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    axum::Json(state.jwks.lock().unwrap().clone()).into_response()
}
