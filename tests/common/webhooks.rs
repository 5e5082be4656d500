//! Webhook test support: deliveries signed with an independent HMAC (not
//! the service's code), a callback receiver, and waiting for queued resets.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use guest_reset::config::{Callback, FieldMap, WebhookSource};
use guest_reset::webhook::Scheme;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::{TestApp, tenant};

/// Header name and value pairs of a delivery.
pub type Headers = Vec<(String, String)>;
/// What a callback receiver got: headers and body.
pub type Delivered = (axum::http::HeaderMap, Vec<u8>);

pub const WHSEC: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
pub const CALLBACK_WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const SHARED: &str = "It's a Secret to Everybody";
pub const ROTATED_OUT: &str = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

pub fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    parts.iter().for_each(|p| ctx.update(p));
    ctx.sign().as_ref().to_vec()
}

pub fn whsec_key(secret: &str) -> Vec<u8> {
    B64.decode(secret.trim_start_matches("whsec_")).unwrap()
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Headers of a Standard Webhooks delivery of `body`.
pub fn standard(id: &str, ts: i64, body: &[u8], secret: &str) -> Headers {
    let signature = B64.encode(mac(
        &whsec_key(secret),
        &[id.as_bytes(), b".", ts.to_string().as_bytes(), b".", body],
    ));
    vec![
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), ts.to_string()),
        ("webhook-signature".into(), format!("v1,{signature}")),
    ]
}

pub fn hub(body: &[u8], secret: &str) -> Headers {
    let hex: String = mac(secret.as_bytes(), &[body])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    vec![("x-hub-signature-256".into(), format!("sha256={hex}"))]
}

pub fn zendesk(ts: &str, body: &[u8], secret: &str) -> Headers {
    vec![
        (
            "x-zendesk-webhook-signature".into(),
            B64.encode(mac(secret.as_bytes(), &[ts.as_bytes(), body])),
        ),
        ("x-zendesk-webhook-signature-timestamp".into(), ts.into()),
    ]
}

pub fn fields() -> FieldMap {
    FieldMap {
        user: "/ticket/guest".into(),
        new_email: Some("/ticket/new_email".into()),
        ticket: Some("/ticket/key".into()),
        reason: Some("/ticket/summary".into()),
        requester: Some("/ticket/agent".into()),
        ..FieldMap::default()
    }
}

pub fn source(name: &str, scheme: Scheme, secret: &str, callback: Option<String>) -> WebhookSource {
    WebhookSource {
        tenant: None,
        name: name.into(),
        scheme,
        // A rotated-out secret first: any of the list may match.
        secrets: vec![SecretString::from(ROTATED_OUT), SecretString::from(secret)],
        tolerance_secs: 300,
        subject: format!("{name}-bot"),
        roles: vec!["GuestReset.Helpdesk".into()],
        apps: vec!["servicenow-client".into()],
        fields: fields(),
        callback: callback.map(|url| Callback {
            url: url.parse().unwrap(),
            secret: SecretString::from(CALLBACK_WHSEC),
        }),
    }
}

pub fn ticket(guest: &str, key: &str) -> Vec<u8> {
    let ticket = json!({ "ticket": { "key": key, "guest": guest, "new_email": tenant::ADELE_NEW_MAIL,
        "summary": "moved to Northwind", "agent": "agent.smith@contoso.example" } });
    serde_json::to_vec(&ticket).unwrap()
}

/// A receiver that answers `fail_first` requests with 503, then 204.
#[derive(Clone, Default)]
pub struct Receiver {
    seen: Arc<Mutex<Vec<Delivered>>>,
}

impl Receiver {
    pub async fn start(fail_first: usize) -> (Receiver, String) {
        let receiver = Receiver::default();
        let seen = Arc::clone(&receiver.seen);
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let seen = Arc::clone(&seen);
                    async move {
                        let mut seen = seen.lock().unwrap();
                        seen.push((headers, body.to_vec()));
                        match seen.len() <= fail_first {
                            true => axum::http::StatusCode::SERVICE_UNAVAILABLE,
                            false => axum::http::StatusCode::NO_CONTENT,
                        }
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    pub fn seen(&self) -> Vec<Delivered> {
        self.seen.lock().unwrap().clone()
    }
}

pub async fn deliver(
    app: &TestApp,
    source: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/v1/webhooks/{source}", app.base))
        .body(body.to_vec());
    request = request.header("content-type", "application/json");
    for (k, v) in headers {
        request = request.header(k, v);
    }
    request.send().await.unwrap()
}

/// The audit row of `id` once it is no longer pending.
pub async fn finished(app: &TestApp, id: &str) -> Value {
    for _ in 0..100 {
        let rows = app.audit_rows().await;
        if let Some(row) = rows
            .into_iter()
            .find(|r| r["id"] == id && !super::is_open(&r["status"]))
        {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("reset {id} did not finish");
}

pub async fn accepted_id(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/v1/resets/{}", body["id"].as_str().unwrap())
    );
    body["id"].as_str().unwrap().to_owned()
}

/// Every callback attempt recorded for `reset_id`: (attempt, HTTP status).
pub async fn callback_attempts(app: &TestApp, reset_id: &str) -> Vec<(i64, Option<i64>)> {
    let mut conn = app.database().await;
    sqlx::query_as(
        "select attempt, status from callback_attempts where reset_id = $1 order by attempt",
    )
    .bind(reset_id)
    .fetch_all(&mut conn)
    .await
    .unwrap()
}
