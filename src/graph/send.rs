//! The one way a request reaches Graph: deadline, circuit breaker,
//! concurrency limit, token, one HTTP exchange; retried as far as the
//! request's [`Replay`] allows.

use bytes::Bytes;
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::SemaphorePermit;
use tokio::time::Instant;
use tracing::instrument;

use super::retry::{self, Replay};
use super::stats::Counters;
use super::{Call, GraphClient, GraphError, parse_retry_after};

/// One logical Graph request.
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) body: Option<&'a serde_json::Value>,
    pub(crate) replay: Replay,
    /// What the answer is, for decode errors ("user", "invitation").
    pub(crate) what: &'static str,
}

/// A failed attempt; `truncated` marks a 2xx body that ended mid-JSON.
struct Failure {
    error: GraphError,
    truncated: bool,
}

impl From<GraphError> for Failure {
    fn from(error: GraphError) -> Failure {
        Failure {
            error,
            truncated: false,
        }
    }
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

type Parse<T> = fn(&[u8]) -> Result<T, serde_json::Error>;

impl GraphClient {
    /// Send `req` until Graph answers 2xx with a body `parse` accepts, or a
    /// failure that must not (or need not) be repeated, or the deadline.
    #[instrument(skip_all, fields(method = %req.method, path = req.url.path(), attempts, request_id))]
    pub(crate) async fn send<T>(
        &self,
        req: Request<'_>,
        parse: Parse<T>,
    ) -> Result<Call<T>, GraphError> {
        Counters::bump(&self.counters.calls);
        let deadline = Instant::now() + self.retry.deadline;
        let (mut attempts, mut refreshed) = (0u32, false);
        loop {
            attempts += 1;
            let failure = match self.attempt(&req, deadline, parse).await {
                Ok(call) => return Ok(finish(call, attempts)),
                Err(failure) => failure,
            };
            // A 401 means Graph did not act: renew the token once, at once.
            if !refreshed && matches!(failure.error, GraphError::Api { status: 401, .. }) {
                refreshed = true;
                Counters::bump(&self.counters.token_refreshes);
                self.tokens.invalidate().await;
                continue;
            }
            let retries = attempts - u32::from(refreshed);
            let wait = self.wait_before_retry(&req, &failure, retries, deadline);
            let Some(wait) = wait else {
                tracing::Span::current().record("attempts", attempts);
                tracing::warn!(error = %failure.error, attempts, "Graph call failed");
                return Err(failure.error);
            };
            tracing::info!(error = %failure.error, wait_ms = wait.as_millis(), "retrying Graph call");
            Counters::bump(&self.counters.retries);
            crate::metrics::graph_retry(req.what);
            tokio::time::sleep(wait).await;
        }
    }

    /// The wait before repeating a failed attempt, or `None` to give up.
    fn wait_before_retry(
        &self,
        req: &Request<'_>,
        failure: &Failure,
        retries: u32,
        deadline: Instant,
    ) -> Option<std::time::Duration> {
        if retries >= self.retry.max_attempts
            || !retry::may_retry(req.replay, &failure.error, failure.truncated)
        {
            return None;
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        retry::next_wait(
            &self.retry,
            retries,
            &failure.error,
            remaining,
            retry::random_unit(),
        )
    }

    /// One attempt: breaker, a concurrency slot, then the exchange.
    async fn attempt<T>(
        &self,
        req: &Request<'_>,
        deadline: Instant,
        parse: Parse<T>,
    ) -> Result<Call<T>, Failure> {
        if let Err(retry_after) = self.breaker.admit(std::time::Instant::now()) {
            Counters::bump(&self.counters.circuit_rejected);
            return Err(GraphError::CircuitOpen { retry_after }.into());
        }
        let _permit = self.slot(deadline).await?;
        Counters::bump(&self.counters.attempts);
        let result = self.exchange(req, deadline, parse).await;
        let trouble = result
            .as_ref()
            .err()
            .is_some_and(|f| retry::is_trouble(&f.error, f.truncated));
        if self.breaker.record(trouble, std::time::Instant::now()) {
            Counters::bump(&self.counters.circuit_opened);
            tracing::warn!("Graph circuit opened");
        }
        result
    }

    /// A concurrency slot, waited for no longer than the deadline.
    async fn slot(&self, deadline: Instant) -> Result<SemaphorePermit<'_>, GraphError> {
        match tokio::time::timeout_at(deadline, self.limiter.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(GraphError::not_sent(
                "deadline passed waiting for a Graph slot",
            )),
        }
    }

    /// A token, got before the deadline (waiting on another caller's
    /// refresh included). Nothing has gone to Graph yet.
    async fn token(&self, deadline: Instant) -> Result<SecretString, GraphError> {
        tokio::time::timeout_at(deadline, self.tokens.token(&self.http))
            .await
            .unwrap_or_else(|_| Err(GraphError::not_sent("deadline passed getting a token")))
    }

    /// The HTTP exchange, bounded by the per-attempt timeout and the deadline.
    async fn exchange<T>(
        &self,
        req: &Request<'_>,
        deadline: Instant,
        parse: Parse<T>,
    ) -> Result<Call<T>, Failure> {
        let token = self.token(deadline).await?;
        let started = Instant::now();
        let sent = self.request(req, &token, deadline).send().await;
        let status = sent.as_ref().ok().map(|r| r.status().as_u16());
        crate::metrics::graph_exchange(req.what, status, started.elapsed());
        let response = sent.map_err(GraphError::transport)?;
        let (status, request_id) = (response.status(), header(&response, "request-id"));
        let retry_after = header(&response, "retry-after").and_then(|v| parse_retry_after(&v));
        let body = response.bytes().await.map_err(GraphError::transport)?;
        if !status.is_success() {
            return Err(self
                .api_error(status, request_id, retry_after, &body)
                .into());
        }
        match parse(&body) {
            Ok(value) => Ok(Call { value, request_id }),
            Err(e) => Err(Failure {
                error: GraphError::Decode(format!("{}: {e}", req.what)),
                truncated: e.is_eof(),
            }),
        }
    }

    /// The request with a fresh `client-request-id`, timed out by the
    /// per-attempt timeout or the deadline, whichever comes first.
    fn request(
        &self,
        req: &Request<'_>,
        token: &SecretString,
        deadline: Instant,
    ) -> reqwest::RequestBuilder {
        let budget = self
            .timeout
            .min(deadline.saturating_duration_since(Instant::now()));
        let request = self
            .http
            .request(req.method.clone(), req.url.clone())
            .timeout(budget)
            .bearer_auth(token.expose_secret())
            .header("client-request-id", uuid::Uuid::new_v4().to_string());
        match req.body {
            Some(body) => request.json(body),
            None => request,
        }
    }

    fn api_error(
        &self,
        status: StatusCode,
        request_id: Option<String>,
        retry_after: Option<std::time::Duration>,
        body: &Bytes,
    ) -> GraphError {
        if status == StatusCode::TOO_MANY_REQUESTS {
            Counters::bump(&self.counters.throttled);
        }
        let parsed = serde_json::from_slice::<ErrorEnvelope>(body).ok();
        let (code, message) =
            parsed.map_or_else(Default::default, |e| (e.error.code, e.error.message));
        GraphError::Api {
            status: status.as_u16(),
            code,
            message,
            request_id,
            retry_after,
        }
    }
}

fn finish<T>(call: Call<T>, attempts: u32) -> Call<T> {
    let span = tracing::Span::current();
    span.record("attempts", attempts);
    span.record("request_id", call.request_id.as_deref());
    call
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
