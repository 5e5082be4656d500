//! The one way a request reaches Graph: deadline, circuit breaker,
//! concurrency limit, token, one HTTP exchange; retried as far as the
//! request's [`Replay`] allows.

use bytes::Bytes;
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;
use tracing::instrument;

use super::budget::{Limit, Priority};
use super::bulk::{header, priority};
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
    /// The tenant limit each attempt counts against, if any.
    pub(crate) limit: Option<Limit>,
    /// An advanced query (`$count`, `endswith`): Graph answers it only with
    /// `ConsistencyLevel: eventual`.
    pub(crate) eventual: bool,
}

/// A failed attempt; `truncated` marks a 2xx body that ended mid-JSON.
pub(super) struct Failure {
    pub(super) error: GraphError,
    pub(super) truncated: bool,
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

pub(super) type Parse<T> = fn(&[u8]) -> Result<T, serde_json::Error>;

tokio::task_local! {
    /// Set for work no caller waits on (queued resets): an open circuit is
    /// waited out (up to [`PATIENCE`]) instead of failing the call.
    static PATIENT: bool;
}

/// How long a patient call waits for the circuit's trial at most.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(300);

/// Run `work` with its Graph calls waiting for an open circuit instead of
/// failing: for resets whose caller does not wait for the answer.
pub async fn patiently<F: std::future::Future>(work: F) -> F::Output {
    PATIENT.scope(true, work).await
}

impl GraphClient {
    /// Send `req` until Graph answers 2xx with a body `parse` accepts, or a
    /// failure that must not (or need not) be repeated, or the deadline. The
    /// circuit breaker admits and counts the logical call once, whatever
    /// its retries.
    #[instrument(skip_all, fields(method = %req.method, path = req.url.path(), attempts, request_id))]
    pub(crate) async fn send<T>(
        &self,
        req: Request<'_>,
        parse: Parse<T>,
    ) -> Result<Call<T>, GraphError> {
        Counters::bump(&self.counters.calls);
        self.admit().await?;
        let result = self.send_admitted(&req, parse).await;
        let trouble = result
            .as_ref()
            .err()
            .is_some_and(|(error, truncated)| retry::is_trouble(error, *truncated));
        if self.breaker.record(trouble, std::time::Instant::now()) {
            Counters::bump(&self.counters.circuit_opened);
            crate::metrics::graph_circuit_opened(&self.tenant);
            tracing::warn!("Graph circuit opened");
        }
        result.map_err(|(error, _)| error)
    }

    /// Let the logical call out, or refuse it while the circuit is open; a
    /// patient caller waits for the trial (or is the trial) instead.
    async fn admit(&self) -> Result<(), GraphError> {
        let patient = PATIENT.try_with(|p| *p).unwrap_or(false);
        let give_up = Instant::now() + PATIENCE;
        loop {
            let retry_after = match self.breaker.admit(std::time::Instant::now()) {
                Ok(()) => return Ok(()),
                Err(retry_after) => retry_after,
            };
            if !patient || Instant::now() + retry_after > give_up {
                Counters::bump(&self.counters.circuit_rejected);
                return Err(GraphError::CircuitOpen { retry_after });
            }
            tokio::time::sleep(retry_after.min(std::time::Duration::from_secs(1))).await;
        }
    }

    /// The retry loop of an admitted call; the error carries `truncated`.
    async fn send_admitted<T>(
        &self,
        req: &Request<'_>,
        parse: Parse<T>,
    ) -> Result<Call<T>, (GraphError, bool)> {
        let mut prepaid = self.prepay(req.limit).await.map_err(|e| (e, false))?;
        let deadline = Instant::now() + self.retry.deadline;
        let (mut attempts, mut refreshed, mut lagged) = (0u32, false, 0u32);
        loop {
            attempts += 1;
            let paid = std::mem::take(&mut prepaid);
            let failure = match self.attempt(req, deadline, parse, paid).await {
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
            let lag = retry::lag_retry(req.replay, &failure.error);
            lagged += u32::from(lag);
            let retries = attempts - u32::from(refreshed) - lagged;
            let wait = match lag {
                true => self.lag_wait(lagged, deadline),
                false => self.wait_before_retry(req, &failure, retries, deadline),
            };
            let Some(wait) = wait else {
                tracing::Span::current().record("attempts", attempts);
                tracing::warn!(error = %failure.error, attempts, "Graph call failed");
                return Err((failure.error, failure.truncated));
            };
            tracing::info!(error = %failure.error, wait_ms = wait.as_millis(), lag, "retrying Graph call");
            Counters::bump(&self.counters.retries);
            crate::metrics::graph_retry(&self.tenant, req.what);
            if lag {
                crate::metrics::graph_replication_lag_retry(&self.tenant);
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn lag_wait(&self, retry: u32, deadline: Instant) -> Option<std::time::Duration> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        retry::lag_wait(&self.retry, retry, remaining, retry::random_unit())
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

    /// One attempt: a concurrency slot, then the exchange (`prepaid`: its
    /// budget slot is taken already).
    async fn attempt<T>(
        &self,
        req: &Request<'_>,
        deadline: Instant,
        parse: Parse<T>,
        prepaid: bool,
    ) -> Result<Call<T>, Failure> {
        // A batched item holds no concurrency slot: its envelope takes one.
        if let Some(url) = self.batchable(req) {
            return self
                .exchange_batched(req, url, deadline, parse, prepaid)
                .await;
        }
        let _permit = self.slot(deadline).await?;
        Counters::bump(&self.counters.attempts);
        self.exchange(req, deadline, parse, prepaid).await
    }

    /// A token, got before the deadline (waiting on another caller's
    /// refresh included). Nothing has gone to Graph yet.
    async fn token(&self, deadline: Instant) -> Result<SecretString, GraphError> {
        tokio::time::timeout_at(deadline, self.tokens.token(&self.http))
            .await
            .unwrap_or_else(|_| Err(GraphError::not_sent("deadline passed getting a token")))
    }

    /// The HTTP exchange, bounded by the per-attempt timeout and the deadline.
    /// Every attempt counts against the tenant's limit for its kind:
    /// invitations (150 per 5 s per tenant) and user writes (3,000 per
    /// 150 s per app and tenant), graph.md §5. No slot before the deadline
    /// is a throttle of our own: nothing is sent.
    pub(crate) async fn take_slot(
        &self,
        limit: Limit,
        deadline: Instant,
    ) -> Result<(), GraphError> {
        let (budget, window) = match limit {
            Limit::Invitations => (&self.invitations, self.retry.invitations.window),
            Limit::UserWrites => (&self.user_writes, self.retry.user_writes.window),
        };
        let (started, priority) = (Instant::now(), priority());
        let taken = budget.take(deadline, priority).await;
        let names = (limit.name(), priority.name());
        crate::metrics::budget_wait(names.0, names.1, &self.tenant, started.elapsed());
        match taken {
            true => Ok(()),
            false => Err(GraphError::Budget {
                retry_after: window,
            }),
        }
    }

    pub(super) async fn exchange<T>(
        &self,
        req: &Request<'_>,
        deadline: Instant,
        parse: Parse<T>,
        prepaid: bool,
    ) -> Result<Call<T>, Failure> {
        let token = self.token(deadline).await?;
        if let Some(limit) = req.limit.filter(|_| !prepaid) {
            self.take_slot(limit, deadline).await?;
        }
        let started = Instant::now();
        let sent = self.request(req, &token, deadline).send().await;
        let status = sent.as_ref().ok().map(|r| r.status().as_u16());
        crate::metrics::graph_exchange(&self.tenant, req.what, status, started.elapsed());
        let response = sent.map_err(GraphError::transport)?;
        let (status, request_id) = (response.status(), header(&response, "request-id"));
        let retry_after = header(&response, "retry-after").and_then(|v| parse_retry_after(&v));
        if let Some(limit) = req.limit {
            let percentage = header(&response, "x-ms-throttle-limit-percentage");
            self.throttle_feedback(limit, status.as_u16(), retry_after, percentage.as_deref());
        }
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
        let request = match priority() {
            Priority::Low => request.header("x-ms-throttle-priority", "Low"),
            Priority::High => request,
        };
        let request = match req.eventual {
            true => request.header("ConsistencyLevel", "eventual"),
            false => request,
        };
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
