//! Microsoft Graph client: app-only token, user lookup, directory-role lookup,
//! `otherMails` update and the reset-redemption invitation. Knows nothing of
//! HTTP handlers or the audit store; the caller decides what a failure means.
//! Every call goes through `send.rs`: deadline, retries, concurrency limit and
//! circuit breaker live there, so the resource modules only say how safe a
//! request is to repeat.

mod assertion;
mod batch;
mod batch_shape;
mod breaker;
mod budget;
mod bulk;
mod coalesce;
mod directory;
mod invitations;
mod ledger;
mod probe;
mod retry;
mod send;
mod sponsors;
mod stats;
mod token;
mod users;

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use tokio::sync::Semaphore;

pub use assertion::{AssertionAlg, certificate_der_from_pem, check_private_key};
pub use batch::{BatchAnswer, BatchItem, MAX_BATCH_ITEMS};
pub use breaker::BreakerSettings;
pub use budget::BudgetSettings;
pub use bulk::in_bulk;
pub use invitations::{Invitation, InvitationRequest, MessageInfo, request_body};
pub use ledger::BudgetLedger;
pub use probe::TokenGrants;
pub use retry::RetrySettings;
pub use send::patiently;
pub use sponsors::{Sponsor, SponsorKind};
pub use stats::GraphStats;
pub use token::{ClientCredential, Credentials};
pub use users::{DirectoryRole, GraphUser, Memberships};

/// Connecting is quick or not at all; a slow handshake should not eat the
/// whole per-attempt budget.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A Graph answer together with Graph's `request-id` for the audit trail.
#[derive(Debug)]
pub struct Call<T> {
    pub value: T,
    pub request_id: Option<String>,
}

/// Everything that can go wrong talking to Graph or its token endpoint.
#[derive(Debug, Clone, thiserror::Error)]
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
    /// No HTTP answer. `maybe_sent` is false only when the request never
    /// left (connect error, token or deadline trouble before sending), i.e.
    /// Graph certainly did not act.
    #[error("no answer from Graph: {message}")]
    Transport { message: String, maybe_sent: bool },
    #[error("unexpected Graph answer: {0}")]
    Decode(String),
    /// Graph failed repeatedly; calls fail fast without being sent until
    /// `retry_after` has passed.
    #[error("Graph circuit open; retry after {retry_after:?}")]
    CircuitOpen { retry_after: Duration },
    /// A request Graph would refuse as a whole (e.g. a batch's shape);
    /// it was not sent, and sending it again would not help.
    #[error("not sent: {0}")]
    Refused(String),
    /// A write inside a `$batch` answered 429 while the batch answered 200.
    /// Unlike a 429 of its own, it may still have taken effect (graph.md
    /// §1: "read back before re-sending a write"), so it is never repeated
    /// blindly.
    #[error("Graph throttled a write inside a batch; it may have taken effect")]
    ThrottledInBatch {
        request_id: Option<String>,
        retry_after: Option<Duration>,
    },
    /// The tenant's budget for this kind of write (Graph's documented
    /// limit) had no slot before the call's deadline; nothing was sent.
    #[error("the tenant's write budget is used up; retry after {retry_after:?}")]
    Budget { retry_after: Duration },
}

impl GraphError {
    fn transport(e: reqwest::Error) -> GraphError {
        // Only a failed connect proves the request never left; a timeout or
        // a dropped connection may come after Graph read (and acted on) it.
        let maybe_sent = !e.is_connect();
        GraphError::Transport {
            message: e.without_url().to_string(),
            maybe_sent,
        }
    }

    fn not_sent(message: &str) -> GraphError {
        GraphError::Transport {
            message: message.to_owned(),
            maybe_sent: false,
        }
    }

    /// Graph's `request-id`, when Graph answered at all.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            GraphError::Api { request_id, .. }
            | GraphError::ThrottledInBatch { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}

/// Settings of the client, independent of where they come from.
#[derive(Debug, Clone)]
pub struct GraphSettings {
    /// The tenant's name, as metrics label it.
    pub tenant: String,
    /// Graph root, e.g. `https://graph.microsoft.com` (no version, no slash).
    pub graph_url: String,
    pub credentials: Credentials,
    /// Per attempt (connect to last body byte); the deadline in `retry`
    /// bounds the whole logical call.
    pub timeout: Duration,
    pub retry: RetrySettings,
}

/// Shared Graph client; clone freely (all state is behind `Arc`s).
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base: Url,
    tokens: Arc<token::TokenSource>,
    timeout: Duration,
    retry: RetrySettings,
    /// The tenant's name (metrics label).
    tenant: Arc<str>,
    limiter: Arc<Semaphore>,
    /// Bulk work's share of `limiter` (three quarters): single resets always
    /// find a concurrency slot while a job runs.
    bulk_limiter: Arc<Semaphore>,
    /// `POST /invitations` per window in this tenant.
    invitations: Arc<budget::Budget>,
    /// `PATCH /users/{id}` per window for this app in this tenant.
    user_writes: Arc<budget::Budget>,
    breaker: Arc<breaker::Breaker>,
    counters: Arc<stats::Counters>,
    /// Bulk work's requests waiting for a `$batch` envelope.
    batcher: Arc<coalesce::Batcher>,
}

impl GraphClient {
    pub fn new(settings: GraphSettings) -> Result<GraphClient, GraphError> {
        let base = Url::parse(&format!(
            "{}/v1.0/",
            settings.graph_url.trim_end_matches('/')
        ))
        .map_err(|e| GraphError::Decode(format!("Graph URL: {e}")))?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(settings.timeout))
            .timeout(settings.timeout)
            .user_agent(concat!("guest-reset/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(GraphError::transport)?;
        let retry = settings.retry;
        Ok(GraphClient {
            http,
            base,
            tokens: Arc::new(token::TokenSource::new(settings.credentials)?),
            timeout: settings.timeout,
            tenant: Arc::from(settings.tenant.as_str()),
            limiter: Arc::new(Semaphore::new(retry.max_concurrency.max(1))),
            bulk_limiter: Arc::new(Semaphore::new((retry.max_concurrency * 3 / 4).max(1))),
            invitations: Arc::new(budget::Budget::new(retry.invitations)),
            user_writes: Arc::new(budget::Budget::new(retry.user_writes)),
            breaker: Arc::new(breaker::Breaker::new(retry.breaker.clone())),
            retry,
            counters: Arc::default(),
            batcher: Arc::default(),
        })
    }

    /// Count this client's budgets in `ledger`, with every replica: the
    /// invitations per tenant (all apps), the user writes per app and
    /// tenant, as Graph counts them (graph.md §5).
    pub fn share_budgets(mut self, ledger: Arc<dyn BudgetLedger>) -> GraphClient {
        let credentials = self.tokens.credentials();
        let (tenant, app) = (&credentials.tenant_id, &credentials.client_id);
        let shared = |key: String| ledger::Shared {
            ledger: Arc::clone(&ledger),
            key,
        };
        self.invitations = Arc::new(budget::Budget::shared(
            self.retry.invitations,
            shared(format!("invitations/{tenant}")),
        ));
        self.user_writes = Arc::new(budget::Budget::shared(
            self.retry.user_writes,
            shared(format!("user_writes/{tenant}/{app}")),
        ));
        self
    }

    /// Counters since start, for metrics and tests.
    /// Whether a Graph token can be had (from the cache when it is fresh, so
    /// a readiness probe does not hit the token endpoint each time).
    pub async fn check_token(&self) -> Result<(), GraphError> {
        self.tokens.token(&self.http).await.map(drop)
    }

    /// Whether the circuit breaker is refusing calls (for `/metrics`).
    pub fn circuit_open(&self) -> bool {
        self.breaker.is_open()
    }

    /// How long until the circuit lets a call out; `None`: now. A queue
    /// worker waits this out before it takes work, instead of failing it.
    pub fn circuit_wait(&self) -> Option<Duration> {
        self.breaker.wait(std::time::Instant::now())
    }

    pub fn stats(&self) -> GraphStats {
        self.counters.snapshot()
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
}

/// `Retry-After` as delta-seconds, integer or fractional (Graph has sent
/// `2.128`). HTTP-dates are not seen from Graph and are ignored.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// The body parser for JSON answers (see [`GraphClient::send`]).
fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(body)
}

#[cfg(test)]
mod tests;
