//! Assembly: the router with its middleware (no socket), and `run`, which
//! takes its listener and shutdown signal from the caller so tests, the demo
//! and `serve` share one path.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::Verifier;
use crate::config::{Config, TenantConfig};
use crate::graph::{BudgetLedger, ClientCredential, Credentials, GraphClient, GraphSettings};
use crate::http::problem::{self, Problem};
use crate::http::{AppState, request_id, routes};
use crate::policy::Policy;
use crate::problem::ProblemType;
use crate::reset::ResetService;
use crate::store::Store;
use crate::tenants::{Tenant, Tenants};

/// How long shutdown waits for running resets: beyond every Graph deadline.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Request bodies above this are refused with 413 (a reset request is tiny).
pub const BODY_LIMIT: usize = 64 * 1024;

/// The complete HTTP application for `state`.
pub fn build_router(state: AppState) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &axum::extract::Request| {
            let id = req.headers().get(request_id::X_REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id, caller = tracing::field::Empty)
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    // A timed-out handler is dropped, but a reset runs detached to its end.
    let timeout = axum::middleware::from_fn_with_state(state.request_timeout, time_limit);
    // Outermost last: sensitive marking, then the request id, then bare
    // errors made problems (inside the request id's scope), then tracing.
    let console = state.console.is_some();
    let mut router = routes();
    if console {
        router = router.merge(crate::http::console::routes());
    }
    router
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(timeout)
        .layer(CatchPanicLayer::custom(panic_problem))
        .layer(trace)
        .layer(axum::middleware::from_fn(problem::for_bare_errors))
        .layer(axum::middleware::from_fn(request_id::scope))
        .layer(SetSensitiveRequestHeadersLayer::new([AUTHORIZATION]))
}

/// How long `POST /v1/jobs` may take: a job is planned whole (a dry run
/// reads every guest) before it answers, far beyond one reset's time.
pub const JOB_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(900);

/// Middleware: an answer not ready within `limit` (within
/// [`JOB_REQUEST_TIMEOUT`] for a job) is a bare 504, made a
/// `request-timeout` problem further out.
async fn time_limit(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // A job is planned whole before it answers, from the API or the console.
    let job = request.method() == axum::http::Method::POST
        && ["/v1/jobs", "/console/jobs", "/console/jobs/plan"].contains(&request.uri().path());
    let limit = if job {
        JOB_REQUEST_TIMEOUT.max(limit)
    } else {
        limit
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::GATEWAY_TIMEOUT.into_response(),
    }
}

fn panic_problem(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    Problem::new(
        ProblemType::Internal,
        "Unexpected error; the request id identifies it in the logs.",
    )
    .into_response()
}

/// Open the store, load the policy, build the Graph client. The store is
/// also returned for the composition root's own use (start-up clean-up,
/// background tasks, closing it at the end); the HTTP state reaches it only
/// through the use case.
pub async fn build_state(config: &Config) -> anyhow::Result<(AppState, Store)> {
    let store = Store::connect(&config.database)
        .await?
        .with_lease_ttl(config.lease_ttl);
    let policy = Policy::load(&config.policy_file)?;
    let tenants = tenants(config, crate::budget_ledger::for_store(&store))?;
    check_sources(config, &tenants)?;
    tracing::info!(version = %policy.version, rules = policy.rules.len(), "policy loaded");
    let notifier = config.notify.clone().map(crate::callback::Notifier::new);
    let resets = ResetService::new(tenants, store.clone(), policy, config.reset.clone())
        .with_policy_file(config.policy_file.clone())
        .with_notifier(notifier)
        .with_audit(config.audit.clone())?;
    resets.record_start().await;
    let state = AppState {
        resets: Arc::new(resets),
        auth: Arc::new(Verifier::new(config.auth.clone(), key_client()?)),
        idempotency_retention: config.idempotency_retention,
        in_flight: Arc::default(),
        limiter: Arc::new(crate::http::limits::Limiter::new(config.rate_limit)),
        request_timeout: config.request_timeout,
        metrics_elsewhere: config.metrics_addr.is_some(),
        webhooks: Arc::new(config.webhooks.sources.clone()),
        queue_wake: Arc::default(),
        closing: Arc::new(tokio::sync::watch::Sender::new(false)),
        console: match &config.console {
            Some(c) => Some(Arc::new(crate::http::console::Console::new(
                c.clone(),
                &config.auth,
            )?)),
            None => None,
        },
    };
    Ok((state, store))
}

/// Every configured tenant with a Graph client of its own, its budgets
/// counted in `ledger` when replicas share them.
pub fn tenants(config: &Config, ledger: Option<Arc<dyn BudgetLedger>>) -> anyhow::Result<Tenants> {
    let list = config
        .tenant_configs()
        .iter()
        .map(|t| tenant(t, ledger.clone()).map_err(|e| anyhow::anyhow!("tenant {:?}: {e}", t.name)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let names: Vec<&str> = list.iter().map(|t| t.name.as_str()).collect();
    tracing::info!(tenants = ?names, "tenants configured");
    Ok(Tenants::new(list))
}

/// A webhook source that fixes its tenant must name a configured one, or
/// every delivery would be refused.
fn check_sources(config: &Config, tenants: &Tenants) -> anyhow::Result<()> {
    for source in &config.webhooks.sources {
        if let Some(t) = source.tenant.as_deref()
            && tenants.resolve(Some(t)).is_err()
        {
            anyhow::bail!(
                "GUEST_RESET_WEBHOOKS_FILE: source {:?} names tenant {t:?}, which is not configured",
                source.name
            );
        }
    }
    Ok(())
}

/// One tenant and its own Graph client (token cache, breaker, budgets).
pub fn tenant(
    t: &TenantConfig,
    ledger: Option<Arc<dyn BudgetLedger>>,
) -> Result<Tenant, crate::graph::GraphError> {
    let graph = GraphClient::new(graph_settings(&t.name, &t.graph))?;
    Ok(Tenant {
        name: t.name.clone(),
        id: t.graph.tenant_id.clone(),
        graph: match ledger {
            Some(ledger) => graph.share_budgets(ledger),
            None => graph,
        },
    })
}

/// The Graph client settings the configuration describes for the tenant
/// `name` (also what `doctor` tests with).
pub fn graph_settings(name: &str, c: &crate::config::GraphConfig) -> GraphSettings {
    GraphSettings {
        tenant: name.to_owned(),
        graph_url: c.graph_url.clone(),
        credentials: Credentials {
            authority_url: c.authority_url.clone(),
            tenant_id: c.tenant_id.clone(),
            client_id: c.client_id.clone(),
            secret: client_credential(c),
            scope: format!("{}/.default", c.graph_url),
        },
        timeout: c.timeout,
        retry: c.retry.clone(),
    }
}

/// The certificate when one is configured, else the client secret.
fn client_credential(c: &crate::config::GraphConfig) -> ClientCredential {
    match &c.certificate {
        Some(cert) => ClientCredential::Certificate {
            private_key_pem: cert.private_key_pem.clone(),
            certificate_der: cert.certificate_der.clone(),
            algorithm: cert.algorithm,
        },
        None => ClientCredential::ClientSecret(c.client_secret.clone()),
    }
}

/// The client that fetches discovery documents and key sets: short timeouts,
/// and no redirects, so a key URL cannot be bent somewhere else.
fn key_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// Serve until `shutdown` resolves. On SQLite, requests an earlier process
/// left `pending` or `running` are reconciled before the first request is
/// accepted; on PostgreSQL, those whose lease ran out (another replica may
/// still be driving the rest).
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (state, store) = build_state(&config).await?;
    store.void_foreign_leases().await?;
    let reconciled = state.resets.reconcile_expired(None).await?;
    tracing::info!(?reconciled, "start-up reconciliation done");
    tracing::info!(addr = %listener.local_addr()?, "guest-reset listening");
    let reloader = tokio::spawn(reload_on_sighup(Arc::clone(&state.resets)));
    let sweeps = crate::sweeps::start(&store, &state.resets, config.reset.unknown_grace);
    let in_flight = Arc::clone(&state.in_flight);
    let background = crate::worker::Background::start(
        &config,
        Arc::clone(&state.resets),
        store.clone(),
        [Arc::clone(&state.queue_wake), state.resets.job_wake()],
        Arc::clone(&state.webhooks),
    )?;
    let metrics = match config.metrics_addr {
        Some(addr) => Some(serve_metrics(addr, state.clone()).await?),
        None => None,
    };
    // Long-lived answers (a job's event stream) end when shutdown begins,
    // or the graceful shutdown would wait for their clients.
    let closing = Arc::clone(&state.closing);
    let shutdown = async move {
        shutdown.await;
        closing.send_replace(true);
    };
    let served = axum::serve(listener, build_router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    reloader.abort();
    sweeps.iter().for_each(JoinHandle::abort);
    if let Err(e) = store.release_job_leases().await {
        tracing::warn!(error = %e, "could not release the periodic jobs' leases; they run out");
    }
    metrics.inspect(|m| m.abort());
    background.stop(DRAIN_LIMIT).await;
    // Connections are closed; resets whose callers hung up may still run.
    if !in_flight.wait_idle(DRAIN_LIMIT).await {
        tracing::warn!(
            running = in_flight.count(),
            "resets still running at shutdown; reconciliation will settle them"
        );
    }
    store.close().await;
    served?;
    tracing::info!("guest-reset stopped");
    Ok(())
}

/// `/metrics` alone on `addr`, until aborted.
async fn serve_metrics(
    addr: std::net::SocketAddr,
    state: AppState,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("cannot listen for metrics on {addr} (GUEST_RESET_METRICS_ADDR): {e}")
    })?;
    tracing::info!(addr = %listener.local_addr()?, "metrics listening");
    let router = crate::http::metrics_routes(state);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "metrics listener failed");
        }
    }))
}

/// Reload the policy on every SIGHUP; a bad file keeps the old policy.
async fn reload_on_sighup(resets: Arc<ResetService>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hangup.recv().await.is_some() {
            // The outcome is logged by reload_policy.
            let _ = resets.reload_policy_as(None).await;
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
}
