//! Follow a job until it is over: a progress bar for a person at a terminal,
//! a line every few seconds for a log file or a pipeline.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::api::{Api, ApiError};
use super::job::Job;

/// Simple polling: the job's counts change about once a second at most.
const POLL: Duration = Duration::from_millis(500);
/// How often a line is written when there is no terminal to draw a bar on.
const LOG_EVERY: Duration = Duration::from_secs(5);
/// Transient failures in a row (about 15 s) before the watch gives up; the
/// job itself runs on in the service regardless.
const MAX_MISSES: u32 = 30;

/// Poll the job until it is finished or cancelled, and return it then.
pub async fn follow(api: &Api, id: &str) -> Result<Job, ApiError> {
    let mut view = View::new();
    // Only a service that answered once is waited for: a wrong --url fails at once.
    let (mut seen, mut misses) = (false, 0);
    loop {
        match api.job(id).await {
            Ok(job) if job.is_over() => {
                view.close(&job);
                return Ok(job);
            }
            Ok(job) => {
                (seen, misses) = (true, 0);
                view.show(&job);
            }
            Err(e) if seen && e.is_transient() && misses < MAX_MISSES => {
                if misses == 0 {
                    view.warn(&format!("warning: {e}; trying again"));
                }
                misses += 1;
            }
            Err(e) => {
                view.abandon();
                return Err(e);
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

enum View {
    Bar(ProgressBar),
    Lines { last: Option<Instant> },
}

impl View {
    fn new() -> View {
        if !std::io::stderr().is_terminal() {
            return View::Lines { last: None };
        }
        let style =
            ProgressStyle::with_template("[{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        View::Bar(ProgressBar::new(0).with_style(style))
    }

    fn show(&mut self, job: &Job) {
        match self {
            View::Bar(bar) => {
                bar.set_length(job.total);
                bar.set_position(job.done);
                bar.set_message(bar_message(job));
            }
            View::Lines { last } => {
                if last.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
                    eprintln!("{}", job.progress_line());
                    *last = Some(Instant::now());
                }
            }
        }
    }

    fn warn(&self, text: &str) {
        match self {
            View::Bar(bar) => bar.println(text),
            View::Lines { .. } => eprintln!("{text}"),
        }
    }

    /// The last state stays on screen above the summary.
    fn close(&mut self, job: &Job) {
        self.show(job);
        if let View::Bar(bar) = self {
            bar.finish();
            // The bar's line ends here, so the summary starts on its own.
            eprintln!();
        }
    }

    fn abandon(&self) {
        if let View::Bar(bar) = self {
            bar.abandon();
        }
    }
}

/// The counts an operator watches, the rate and the service's estimate.
fn bar_message(job: &Job) -> String {
    let c = &job.counts;
    let mut parts = vec![
        format!("ok {}", c.succeeded),
        format!("failed {}", c.failed),
        format!("denied {}", c.denied),
        format!("unknown {}", c.unknown),
    ];
    if let Some(rate) = job.rate_per_second {
        parts.push(format!("{rate:.1}/s"));
    }
    if let Some(eta) = job.eta_seconds.filter(|s| s.is_finite() && *s >= 0.0) {
        parts.push(format!(
            "eta {}",
            super::job::human(Duration::from_secs_f64(eta))
        ));
    }
    if job.state != "running" {
        parts.push(job.state.clone());
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_shows_counts_rate_eta_and_a_pause() {
        let job: Job = serde_json::from_value(serde_json::json!({
            "id": "job-1", "state": "paused", "total": 10, "done": 4,
            "counts": {"succeeded": 3, "failed": 1, "queued": 6},
            "rate_per_second": 2.0, "eta_seconds": 3.0
        }))
        .unwrap();
        assert_eq!(
            bar_message(&job),
            "ok 3 · failed 1 · denied 0 · unknown 0 · 2.0/s · eta 3.0s · paused"
        );
    }
}
