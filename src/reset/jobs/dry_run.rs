//! A job's dry run: every item read and decided as a dry-run reset (the
//! same reads and policy as the real run), nothing recorded, nothing
//! written to Graph; the report operators check before they submit.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde::Serialize;

use super::JobError;
use super::input::JobSubmission;
use super::plan::Checked;
use crate::auth::Identity;
use crate::record::JobLink;
use crate::reset::ResetService;
use crate::store::QueueEntry;

/// How many dry-run items are read and decided at once: their reads travel
/// twenty to a `$batch`, so this keeps eight envelopes busy.
const DRY_RUN_CONCURRENCY: usize = 160;

/// One item of a dry run.
#[derive(Debug, Clone, Serialize)]
pub struct DryItem {
    pub item: u32,
    pub user: String,
    pub tenant: String,
    /// The guest's mail as Graph showed it (when it was found).
    pub current_email: Option<String>,
    pub new_email: Option<String>,
    /// `would_succeed` or `refused`.
    pub outcome: &'static str,
    pub problem: Option<ItemProblem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemProblem {
    #[serde(rename = "type")]
    pub kind: String,
    pub detail: String,
}

/// The dry run's report.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub dry_run: bool,
    pub total: u32,
    pub counts: BTreeMap<&'static str, u64>,
    pub refusals: BTreeMap<String, u64>,
    pub items: Vec<DryItem>,
}

impl ResetService {
    /// What each item would do, nothing recorded and nothing written.
    pub async fn dry_run_job(
        &self,
        caller: &Identity,
        job: JobSubmission,
    ) -> Result<DryRun, JobError> {
        let checked = self.expand(caller, &job, true).await?;
        let total = u32::try_from(checked.len()).unwrap_or(u32::MAX);
        // Bulk work: its reads leave a share of Graph's concurrency to
        // single resets.
        let items = futures_util::stream::iter(checked.into_iter().enumerate())
            .map(|(n, item)| {
                let n = u32::try_from(n + 1).unwrap_or(u32::MAX);
                self.dry_item(caller, n, total, item)
            })
            .buffered(DRY_RUN_CONCURRENCY)
            .collect::<Vec<DryItem>>();
        let items = crate::graph::in_bulk(items).await;
        Ok(report(total, items))
    }

    /// The checked item run as a dry-run reset: Graph read, the policy asked.
    async fn dry_item(
        &self,
        caller: &Identity,
        item: u32,
        total: u32,
        checked: Checked,
    ) -> DryItem {
        let Checked {
            request,
            mut record,
            valid,
        } = checked;
        record.job = Some(JobLink {
            id: "dry-run".into(),
            item,
            total,
        });
        let origin = QueueEntry {
            request: String::new(),
            caller: String::new(),
            source: None,
        };
        let result = self.run(caller, &valid, &mut record, &origin).await;
        DryItem {
            item,
            user: request.user,
            tenant: record.tenant,
            current_email: record.target.previous_email,
            new_email: record.new_email,
            outcome: if result.is_ok() {
                "would_succeed"
            } else {
                "refused"
            },
            problem: result.err().map(|e| ItemProblem {
                kind: e.problem_type().uri(),
                detail: e.detail(),
            }),
        }
    }
}

fn report(total: u32, items: Vec<DryItem>) -> DryRun {
    let mut refusals: BTreeMap<String, u64> = BTreeMap::new();
    for p in items.iter().filter_map(|i| i.problem.as_ref()) {
        *refusals.entry(p.kind.clone()).or_default() += 1;
    }
    let refused: u64 = refusals.values().sum();
    let counts = BTreeMap::from([
        ("would_succeed", u64::from(total).saturating_sub(refused)),
        ("refused", refused),
    ]);
    DryRun {
        dry_run: true,
        total,
        counts,
        refusals,
        items,
    }
}
