//! Driving a path at a fixed concurrency, and the numbers reported.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::floor::Floor;

pub struct Args {
    pub requests: usize,
    pub concurrency: Vec<usize>,
    /// Added to every Graph call by the emulator (0: none), to see the
    /// service against a realistic Graph.
    pub graph_latency_ms: u64,
    /// A PostgreSQL server (`postgres://…`): the run creates a database of
    /// its own there. None: SQLite under target/.
    pub database: Option<String>,
    /// Service instances sharing the database (more than one needs PostgreSQL).
    pub replicas: usize,
}

impl Args {
    /// `--requests N --concurrency 1,16,64 --graph-latency-ms N --database URL
    /// --replicas N`; anything else (cargo's `--bench`) is ignored.
    pub fn parse() -> Args {
        let mut args = Args {
            requests: 2000,
            concurrency: vec![1, 16, 64],
            graph_latency_ms: 0,
            database: None,
            replicas: 1,
        };
        let argv: Vec<String> = std::env::args().collect();
        for pair in argv.windows(2) {
            match pair[0].as_str() {
                "--requests" => args.requests = pair[1].parse().expect("--requests N"),
                "--graph-latency-ms" => {
                    args.graph_latency_ms = pair[1].parse().expect("--graph-latency-ms N");
                }
                "--database" => args.database = Some(pair[1].clone()),
                "--replicas" => args.replicas = pair[1].parse().expect("--replicas N"),
                "--concurrency" => {
                    args.concurrency = pair[1]
                        .split(',')
                        .map(|c| c.parse().expect("--concurrency 1,16"))
                        .collect();
                }
                _ => {}
            }
        }
        assert!(
            args.replicas == 1 || args.database.is_some(),
            "--replicas needs --database postgres://… (SQLite is one process's)"
        );
        args
    }
}

/// Latencies of the successful requests, the failures, and the wall time.
pub struct Stats {
    latencies: Vec<Duration>,
    failures: usize,
    wall: Duration,
}

impl Stats {
    fn quantile(&self, q: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies.get(i).copied().unwrap_or_default()
    }

    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }
}

/// `n` requests, `c` at a time; request `i` is `one(i)`, which returns
/// whether it succeeded.
pub async fn run<F, Fut>(c: usize, n: usize, one: F) -> Stats
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = bool>,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers = (0..c.max(1)).map(|_| {
        let (next, one) = (Arc::clone(&next), &one);
        async move {
            let mut mine = (Vec::new(), 0);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return mine;
                }
                let t = Instant::now();
                match one(i).await {
                    true => mine.0.push(t.elapsed()),
                    false => mine.1 += 1,
                }
            }
        }
    });
    let results = join_vec(workers.collect()).await;
    let wall = started.elapsed();
    let mut latencies: Vec<Duration> = results.iter().flat_map(|r| r.0.iter().copied()).collect();
    latencies.sort();
    let failures = results.iter().map(|r| r.1).sum();
    Stats {
        latencies,
        failures,
        wall,
    }
}

/// Poll every future on this task until all are done (a join_all without
/// another dependency; the workers borrow `one`, so they cannot be spawned).
async fn join_vec<T, Fut: Future<Output = T>>(futures: Vec<Fut>) -> Vec<T> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<T>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    done.into_iter()
        .map(|v| v.expect("every future finished"))
        .collect()
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

pub fn header(floor: &Floor, requests: usize) -> String {
    format!(
        "Durable commit floor ({}): {} commits, p50 {} ms, {:.0} commits/s one at a time.\n\
         {requests} resets per row.\n\n\
         | concurrency | direct resets/s | direct p50 ms | direct p99 ms | service resets/s | service p50 ms | service p99 ms | p50 overhead ms | throughput ratio | service / commit floor | writes per commit | failures |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        floor.what,
        floor.commits,
        ms(floor.p50),
        floor.per_second
    )
}

/// `per_commit`: writes per group commit (SQLite); None when the store has
/// no group commit (PostgreSQL).
pub fn row(
    c: usize,
    direct: &Stats,
    service: &Stats,
    floor: &Floor,
    per_commit: Option<f64>,
) -> String {
    let overhead = service.quantile(0.5).saturating_sub(direct.quantile(0.5));
    let per_commit = per_commit.map_or("—".to_owned(), |w| format!("{w:.1}"));
    format!(
        "| {c} | {:.0} | {} | {} | {:.0} | {} | {} | {} | {:.2} | {:.2}x | {per_commit} | {} |",
        direct.throughput(),
        ms(direct.quantile(0.5)),
        ms(direct.quantile(0.99)),
        service.throughput(),
        ms(service.quantile(0.5)),
        ms(service.quantile(0.99)),
        ms(overhead),
        service.throughput() / direct.throughput(),
        service.throughput() / floor.per_second,
        direct.failures + service.failures,
    )
}
