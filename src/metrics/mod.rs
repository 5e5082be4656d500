//! The service's Prometheus metrics. Recording functions are free functions
//! over process-wide series (as Prometheus client libraries do with their
//! default registry), so the Graph client and the store can count without
//! knowing about HTTP or each other. Gauges that describe current state
//! (queue depth, circuit breaker) are sampled when `/metrics` is scraped.

mod registry;

use std::fmt::Write as _;
use std::time::Duration;

use registry::{Counters, Histograms, gauge};

static HTTP_REQUESTS: Counters = Counters::new(
    "guest_reset_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    &["route", "method", "status"],
);
static HTTP_DURATION: Histograms = Histograms::new(
    "guest_reset_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    &["route"],
);
static RESETS: Counters = Counters::new(
    "guest_reset_resets_total",
    "Reset requests finished, by outcome (audit status, or dry_run for a dry run that would succeed), problem type (empty on success) and tenant (empty when the request named none that is configured).",
    &["outcome", "problem", "tenant"],
);
static RATE_LIMITED: Counters = Counters::new(
    "guest_reset_rate_limited_total",
    "Requests refused by the per-caller rate limit.",
    &[],
);
static GRAPH_REQUESTS: Counters = Counters::new(
    "guest_reset_graph_requests_total",
    "HTTP exchanges with Graph, by endpoint, status and tenant (\"transport\" when no answer came).",
    &["endpoint", "status", "tenant"],
);
static GRAPH_DURATION: Histograms = Histograms::new(
    "guest_reset_graph_request_duration_seconds",
    "Duration of one HTTP exchange with Graph, by endpoint and tenant.",
    &["endpoint", "tenant"],
);
static GRAPH_RETRIES: Counters = Counters::new(
    "guest_reset_graph_retries_total",
    "Graph requests repeated after a failed attempt, by endpoint and tenant.",
    &["endpoint", "tenant"],
);
static GRAPH_THROTTLED: Counters = Counters::new(
    "guest_reset_graph_throttled_total",
    "429 answers received from Graph, by endpoint and tenant.",
    &["endpoint", "tenant"],
);
static SETTLED: Counters = Counters::new(
    "guest_reset_unknown_settled_total",
    "Re-reads of unknown resets after the grace period, by outcome (succeeded, failed, undecided, unreadable).",
    &["outcome"],
);
static GRAPH_LAG_RETRIES: Counters = Counters::new(
    "guest_reset_graph_replication_lag_retries_total",
    "Reset calls repeated because Graph did not see the just-added email yet (replication lag), by tenant.",
    &["tenant"],
);
static CIRCUIT_OPENED: Counters = Counters::new(
    "guest_reset_graph_circuit_opened_total",
    "Times a tenant's Graph circuit breaker opened.",
    &["tenant"],
);
static WEBHOOKS: Counters = Counters::new(
    "guest_reset_webhook_deliveries_total",
    "Webhook deliveries by source and outcome (queued, replayed, refused, invalid).",
    &["source", "outcome"],
);
static CALLBACKS: Counters = Counters::new(
    "guest_reset_callback_attempts_total",
    "Result-callback attempts by source and outcome (delivered, retry, gave_up).",
    &["source", "outcome"],
);
static STORE_COMMITS: Counters = Counters::new(
    "guest_reset_store_commits_total",
    "Group-commit transactions (each one fsync) of the audit store.",
    &[],
);
static STORE_BATCHED: Counters = Counters::new(
    "guest_reset_store_batched_writes_total",
    "Writes carried by those transactions (writes per commit = this / commits).",
    &[],
);
static STORE_WRITES: Histograms = Histograms::new(
    "guest_reset_store_write_duration_seconds",
    "Durable audit-store writes (commit and fsync included), by operation.",
    &["operation"],
);

static BUDGET_WAIT: Histograms = Histograms::new(
    "guest_reset_graph_budget_wait_seconds",
    "Time a Graph write waited for a slot in its tenant's budget, by limit (invitations, user_writes), priority (high: single resets, low: job items) and tenant.",
    &["limit", "priority", "tenant"],
);
static JOBS: Counters = Counters::new(
    "guest_reset_jobs_total",
    "Bulk jobs submitted, by kind (items, domain_move); their items count in guest_reset_resets_total.",
    &["kind"],
);

static AUDIT_CHECKPOINTS: Counters = Counters::new(
    "guest_reset_audit_checkpoints_total",
    "Audit checkpoints signed (outcome=signed), and copies that could not be written or sent (outcome=publish_failed).",
    &["outcome"],
);

/// State sampled at scrape time by whoever serves `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// Queued resets (webhooks, `respond-async`) waiting for a worker.
    pub queue_depth: u64,
    /// Age of the oldest of them.
    pub oldest_queued: Duration,
    /// Resets running in this process.
    pub in_flight: u64,
    /// Each tenant's name and whether its circuit breaker is open.
    pub circuit_open: Vec<(String, bool)>,
}

pub fn http_request(route: &str, method: &str, status: u16, took: Duration) {
    // Any token is a method to HTTP: keep callers from minting label values.
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    let method = KNOWN.into_iter().find(|m| *m == method).unwrap_or("other");
    HTTP_REQUESTS.inc(&[route, method, &status.to_string()]);
    HTTP_DURATION.observe(&[route], took.as_secs_f64());
}

pub fn reset_finished(outcome: &str, problem: &str, tenant: &str) {
    RESETS.inc(&[outcome, problem, tenant]);
}

/// An `unknown` reset read back after its grace period.
pub fn unknown_settled(outcome: &str) {
    SETTLED.inc(&[outcome]);
}

pub fn graph_replication_lag_retry(tenant: &str) {
    GRAPH_LAG_RETRIES.inc(&[tenant]);
}

pub fn graph_circuit_opened(tenant: &str) {
    CIRCUIT_OPENED.inc(&[tenant]);
}

/// A reset that succeeded; a dry run changed nothing, so it is not counted
/// as a succeeded reset but as `dry_run`.
pub fn reset_succeeded(dry_run: bool, tenant: &str) {
    let outcome = match dry_run {
        true => "dry_run",
        false => "succeeded",
    };
    RESETS.inc(&[outcome, "", tenant]);
}

pub fn rate_limited() {
    RATE_LIMITED.inc(&[]);
}

/// One exchange with Graph; `status` is `None` when no answer arrived.
pub fn graph_exchange(tenant: &str, endpoint: &str, status: Option<u16>, took: Duration) {
    let status = status.map_or_else(|| "transport".to_owned(), |s| s.to_string());
    GRAPH_REQUESTS.inc(&[endpoint, &status, tenant]);
    GRAPH_DURATION.observe(&[endpoint, tenant], took.as_secs_f64());
    if status == "429" {
        GRAPH_THROTTLED.inc(&[endpoint, tenant]);
    }
}

pub fn graph_retry(tenant: &str, endpoint: &str) {
    GRAPH_RETRIES.inc(&[endpoint, tenant]);
}

/// A webhook delivery's outcome; `source` is only ever a configured name.
pub fn webhook_delivery(source: &str, outcome: &str) {
    WEBHOOKS.inc(&[source, outcome]);
}

pub fn callback_attempt(source: &str, outcome: &str) {
    CALLBACKS.inc(&[source, outcome]);
}

/// One group commit carrying `writes` writes.
pub fn store_commit(writes: usize) {
    STORE_COMMITS.inc(&[]);
    STORE_BATCHED.add(&[], writes as u64);
}

/// A Graph write's wait for a budget slot (taken or not).
pub fn budget_wait(limit: &str, priority: &str, tenant: &str, took: Duration) {
    BUDGET_WAIT.observe(&[limit, priority, tenant], took.as_secs_f64());
}

pub fn job_submitted(kind: &str) {
    JOBS.inc(&[kind]);
}

/// `signed`, or `publish_failed` for a copy that did not get off the box.
pub fn audit_checkpoint(outcome: &str) {
    AUDIT_CHECKPOINTS.inc(&[outcome]);
}

pub fn store_write(operation: &str, took: Duration) {
    STORE_WRITES.observe(&[operation], took.as_secs_f64());
}

/// Everything, in the Prometheus text format.
pub fn render(gauges: Gauges) -> String {
    let mut out = String::with_capacity(8 * 1024);
    HTTP_REQUESTS.render(&mut out);
    HTTP_DURATION.render(&mut out);
    RESETS.render(&mut out);
    RATE_LIMITED.render(&mut out);
    GRAPH_REQUESTS.render(&mut out);
    GRAPH_DURATION.render(&mut out);
    GRAPH_RETRIES.render(&mut out);
    GRAPH_THROTTLED.render(&mut out);
    GRAPH_LAG_RETRIES.render(&mut out);
    CIRCUIT_OPENED.render(&mut out);
    SETTLED.render(&mut out);
    STORE_WRITES.render(&mut out);
    WEBHOOKS.render(&mut out);
    CALLBACKS.render(&mut out);
    STORE_COMMITS.render(&mut out);
    STORE_BATCHED.render(&mut out);
    BUDGET_WAIT.render(&mut out);
    JOBS.render(&mut out);
    AUDIT_CHECKPOINTS.render(&mut out);
    let q = "guest_reset_queue";
    gauge(
        &mut out,
        &format!("{q}_depth"),
        "Queued resets waiting for a worker.",
        gauges.queue_depth as f64,
    );
    let age = gauges.oldest_queued.as_secs_f64();
    gauge(
        &mut out,
        &format!("{q}_oldest_age_seconds"),
        "Age of the oldest unfinished reset.",
        age,
    );
    let running = gauges.in_flight as f64;
    gauge(
        &mut out,
        "guest_reset_resets_in_flight",
        "Resets running in this process.",
        running,
    );
    let name = "guest_reset_graph_circuit_open";
    let help = "1 while the tenant's Graph circuit breaker is open.";
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (tenant, open) in &gauges.circuit_open {
        let _ = writeln!(out, "{name}{{tenant=\"{tenant}\"}} {}", u8::from(*open));
    }
    out
}

/// The `Content-Type` of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
