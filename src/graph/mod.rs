//! Microsoft Graph client: app-only token, user lookup, directory-role lookup,
//! `otherMails` update and the reset-redemption invitation. Knows nothing of
//! HTTP handlers or the audit store; the caller decides what a failure means.

mod invitations;
mod token;
mod users;

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use tracing::instrument;

pub use invitations::{Invitation, InvitationRequest, MessageInfo, request_body};
pub use token::Credentials;
pub use users::{DirectoryRole, GraphUser, Memberships};

/// A Graph answer together with Graph's `request-id` for the audit trail.
#[derive(Debug)]
pub struct Call<T> {
    pub value: T,
    pub request_id: Option<String>,
}

/// Everything that can go wrong talking to Graph or its token endpoint.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("token endpoint refused ({status} {error}, AADSTS {codes:?})")]
    Token {
        status: u16,
        error: String,
        codes: Vec<u64>,
    },
    #[error("Graph answered {status} {code}")]
    Api {
        status: u16,
        code: String,
        /// Graph's human text: for logs only, never passed to our callers.
        message: String,
        request_id: Option<String>,
        retry_after: Option<Duration>,
    },
    /// No HTTP answer. `maybe_sent` is false only when the connection was
    /// never made, i.e. Graph certainly did not act.
    #[error("no answer from Graph: {message}")]
    Transport { message: String, maybe_sent: bool },
    #[error("unexpected Graph answer: {0}")]
    Decode(String),
}

impl GraphError {
    fn transport(e: reqwest::Error) -> GraphError {
        let maybe_sent = !e.is_connect();
        GraphError::Transport {
            message: e.without_url().to_string(),
            maybe_sent,
        }
    }

    /// Graph's `request-id`, when Graph answered at all.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            GraphError::Api { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}

/// Settings of the client, independent of where they come from.
#[derive(Debug, Clone)]
pub struct GraphSettings {
    /// Graph root, e.g. `https://graph.microsoft.com` (no version, no slash).
    pub graph_url: String,
    pub credentials: Credentials,
    pub timeout: Duration,
}

/// Shared Graph client; clone freely.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base: Url,
    tokens: std::sync::Arc<token::TokenSource>,
}

/// A raw successful answer before decoding.
struct Answer {
    status: StatusCode,
    request_id: Option<String>,
    body: bytes::Bytes,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl GraphClient {
    pub fn new(settings: GraphSettings) -> Result<GraphClient, GraphError> {
        let base = Url::parse(&format!(
            "{}/v1.0/",
            settings.graph_url.trim_end_matches('/')
        ))
        .map_err(|e| GraphError::Decode(format!("Graph URL: {e}")))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(settings.timeout)
            .user_agent(concat!("guest-reset/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(GraphError::transport)?;
        Ok(GraphClient {
            http,
            base,
            tokens: std::sync::Arc::new(token::TokenSource::new(settings.credentials)),
        })
    }

    /// `v1.0/` + path segments, each percent-encoded (a guest UPN's `#`
    /// becomes `%23`; a raw `#` would cut the URL at a fragment).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Send one request with a fresh `client-request-id`. A 401 from Graph
    /// means it did not act, so the token is renewed and the call made once more.
    #[instrument(skip_all, fields(method = %method, path = url.path(), status, request_id))]
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, GraphError> {
        let mut result = self.attempt(method.clone(), url.clone(), body).await;
        if matches!(&result, Err(GraphError::Api { status: 401, .. })) {
            self.tokens.invalidate().await;
            result = self.attempt(method, url, body).await;
        }
        let span = tracing::Span::current();
        match &result {
            Ok(a) => {
                span.record("status", a.status.as_u16());
                span.record("request_id", a.request_id.as_deref());
            }
            Err(e) => tracing::warn!(error = %e, "Graph call failed"),
        }
        result
    }

    async fn attempt(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, GraphError> {
        use secrecy::ExposeSecret;
        let token = self.tokens.token(&self.http).await?;
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(token.expose_secret())
            .header("client-request-id", uuid::Uuid::new_v4().to_string());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(GraphError::transport)?;
        let status = response.status();
        let request_id = header(&response, "request-id");
        let retry_after = header(&response, "retry-after").and_then(|v| parse_retry_after(&v));
        let body = response.bytes().await.map_err(GraphError::transport)?;
        if status.is_success() {
            return Ok(Answer {
                status,
                request_id,
                body,
            });
        }
        let parsed = serde_json::from_slice::<ErrorEnvelope>(&body).ok();
        let (code, message) =
            parsed.map_or_else(Default::default, |e| (e.error.code, e.error.message));
        Err(GraphError::Api {
            status: status.as_u16(),
            code,
            message,
            request_id,
            retry_after,
        })
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `Retry-After` as delta-seconds, integer or fractional (Graph has sent
/// `2.128`). HTTP-dates are not seen from Graph and are ignored.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

fn decode<T: serde::de::DeserializeOwned>(answer: &Answer, what: &str) -> Result<T, GraphError> {
    serde_json::from_slice(&answer.body).map_err(|e| GraphError::Decode(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_integer_and_fraction() {
        assert_eq!(parse_retry_after("10"), Some(Duration::from_secs(10)));
        assert_eq!(
            parse_retry_after(" 2.128"),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
