//! The service's answers the client reads (the Job resource and the dry-run
//! report of docs' jobs contract), and the text and exit code made of them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A job, as GET /v1/jobs/{id} and the POST routes answer. Only the fields
/// the client shows; unknown ones are ignored so a newer server still works.
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub id: String,
    pub state: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub done: u64,
    #[serde(default)]
    pub counts: Counts,
    #[serde(default)]
    pub rate_per_second: Option<f64>,
    #[serde(default)]
    pub eta_seconds: Option<f64>,
}

/// Items per reset status.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Counts {
    pub queued: u64,
    pub pending: u64,
    pub running: u64,
    pub awaiting_approval: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub denied: u64,
    pub unknown: u64,
    pub cancelled: u64,
    pub expired: u64,
}

impl Counts {
    /// Every status with its count, in the contract's order.
    pub fn entries(&self) -> [(&'static str, u64); 10] {
        [
            ("queued", self.queued),
            ("pending", self.pending),
            ("running", self.running),
            ("awaiting_approval", self.awaiting_approval),
            ("succeeded", self.succeeded),
            ("failed", self.failed),
            ("denied", self.denied),
            ("unknown", self.unknown),
            ("cancelled", self.cancelled),
            ("expired", self.expired),
        ]
    }

    /// The statuses with items, `status n` comma-separated ("none" if empty).
    pub fn brief(&self) -> String {
        let parts: Vec<String> = self
            .entries()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        if parts.is_empty() {
            return "no items".to_owned();
        }
        parts.join(", ")
    }
}

impl Job {
    /// Finished or cancelled: the counts will not change any more.
    pub fn is_over(&self) -> bool {
        matches!(self.state.as_str(), "finished" | "cancelled")
    }

    /// Whether some item did not go through: the operator must look at the
    /// results (exit code 2). Cancelled items were stopped on purpose.
    pub fn has_trouble(&self) -> bool {
        let c = &self.counts;
        c.failed + c.denied + c.unknown > 0
    }

    /// One line for a log or a terminal: progress, counts and rate.
    pub fn progress_line(&self) -> String {
        let mut line = format!(
            "job {}: {}, {}/{} done; {}",
            self.id,
            self.state,
            self.done,
            self.total,
            self.counts.brief()
        );
        if let Some(rate) = self.rate_per_second {
            let _ = write!(line, "; {rate:.1}/s");
        }
        line
    }

    /// The end-of-job report for stdout.
    pub fn summary(&self, elapsed: Option<Duration>) -> String {
        let took = elapsed.map_or_else(String::new, |d| format!(" in {}", human(d)));
        let mut text = format!(
            "job {} {}{took}: {} item(s), {} done\n",
            self.id, self.state, self.total, self.done
        );
        for (name, n) in self.counts.entries().iter().filter(|(_, n)| *n > 0) {
            let _ = writeln!(text, "  {name:<18} {n:>7}");
        }
        text
    }

    /// From creation to the end (or to `now`, while the job has no end time).
    pub fn elapsed(&self, now: OffsetDateTime) -> Option<Duration> {
        let parse = |s: &str| OffsetDateTime::parse(s, &Rfc3339).ok();
        let start = parse(self.created_at.as_deref()?)?;
        let end = self.finished_at.as_deref().and_then(parse).unwrap_or(now);
        Duration::try_from(end - start).ok()
    }
}

/// `1h 02m 03s`, `4m 05s` or `6.7s`.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{:.1}s", d.as_secs_f64()),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m {:02}s", secs / 3600, secs / 60 % 60, secs % 60),
    }
}

/// The answer of POST /v1/jobs?dry_run=true.
#[derive(Debug, Deserialize)]
pub struct DryRun {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub counts: BTreeMap<String, u64>,
    #[serde(default)]
    pub refusals: BTreeMap<String, u64>,
    #[serde(default)]
    pub items: Vec<DryItem>,
}

/// One planned item; `problem` is set on a refused one.
#[derive(Debug, Deserialize)]
pub struct DryItem {
    pub item: u64,
    #[serde(default)]
    pub user: String,
    /// The guest's mail, when Graph found it: more readable than an id.
    #[serde(default)]
    pub current_email: Option<String>,
    #[serde(default)]
    pub problem: Option<ItemProblem>,
}

#[derive(Debug, Deserialize)]
pub struct ItemProblem {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub detail: String,
}

impl DryRun {
    /// Counts, refusals by type, then one line per refused item.
    pub fn report(&self) -> String {
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let mut text = format!("dry run: {} item(s); {}\n", self.total, counts.join(", "));
        if !self.refusals.is_empty() {
            text.push_str("refusals by type:\n");
            for (kind, n) in &self.refusals {
                let _ = writeln!(text, "  {n:>7}  {kind}");
            }
        }
        let refused = self
            .items
            .iter()
            .filter_map(|i| Some((i, i.problem.as_ref()?)));
        for (n, (item, problem)) in refused.enumerate() {
            if n == 0 {
                text.push_str("refused items (item, user, type, detail):\n");
            }
            let user = item.current_email.as_ref().unwrap_or(&item.user);
            let (kind, detail) = (&problem.kind, &problem.detail);
            let _ = writeln!(text, "  {}\t{user}\t{kind}\t{detail}", item.item);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(state: &str, counts: serde_json::Value) -> Job {
        serde_json::from_value(serde_json::json!({
            "id": "job-1", "state": state, "total": 3, "done": 3, "counts": counts,
            "created_at": "2026-01-01T10:00:00Z", "finished_at": "2026-01-01T10:01:44Z",
            "rate_per_second": 28.94, "kind": "items", "requested_by": "someone"
        }))
        .unwrap()
    }

    #[test]
    fn failed_denied_or_unknown_items_are_trouble_cancelled_ones_are_not() {
        assert!(!job("finished", serde_json::json!({"succeeded": 3})).has_trouble());
        assert!(
            !job(
                "cancelled",
                serde_json::json!({"succeeded": 1, "cancelled": 2})
            )
            .has_trouble()
        );
        for status in ["failed", "denied", "unknown"] {
            let j = job("finished", serde_json::json!({"succeeded": 2, status: 1}));
            assert!(j.has_trouble(), "{status}");
        }
    }

    #[test]
    fn only_finished_and_cancelled_jobs_are_over() {
        let over = |s| job(s, serde_json::json!({})).is_over();
        assert!(over("finished") && over("cancelled"));
        assert!(!over("running") && !over("paused"));
    }

    #[test]
    fn summary_lists_the_statuses_with_items_and_the_time_taken() {
        let j = job("finished", serde_json::json!({"succeeded": 2, "failed": 1}));
        let elapsed = j.elapsed(OffsetDateTime::now_utc());
        assert_eq!(elapsed, Some(Duration::from_secs(104)));
        let text = j.summary(elapsed);
        assert_eq!(
            text,
            "job job-1 finished in 1m 44s: 3 item(s), 3 done\n  succeeded                2\n  failed                   1\n"
        );
    }

    #[test]
    fn progress_line_has_counts_and_rate() {
        let j = job("running", serde_json::json!({"running": 1, "succeeded": 2}));
        assert_eq!(
            j.progress_line(),
            "job job-1: running, 3/3 done; running 1, succeeded 2; 28.9/s"
        );
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_millis(6_700)), "6.7s");
        assert_eq!(human(Duration::from_secs(245)), "4m 05s");
        assert_eq!(human(Duration::from_secs(3723)), "1h 02m 03s");
    }

    #[test]
    fn dry_run_report_lists_refusals_and_refused_items() {
        let report: DryRun = serde_json::from_str(
            r#"{"dry_run": true, "total": 3, "counts": {"would_succeed": 2, "refused": 1},
             "refusals": {"urn:guest-reset:problem:user-not-found": 1},
             "items": [{"item": 1, "user": "adele@fabrikam.example", "outcome": "would_succeed", "problem": null},
                       {"item": 3, "user": "nobody@x.example", "outcome": "refused",
                        "problem": {"type": "urn:guest-reset:problem:user-not-found", "detail": "no such guest"}}]}"#,
        )
        .unwrap();
        assert_eq!(
            report.report(),
            "dry run: 3 item(s); refused 1, would_succeed 2\n\
             refusals by type:\n        1  urn:guest-reset:problem:user-not-found\n\
             refused items (item, user, type, detail):\n\
             \x20 3\tnobody@x.example\turn:guest-reset:problem:user-not-found\tno such guest\n"
        );
    }
}
