//! `guest-reset audit verify`: the chain walked from the oldest kept event
//! (or `--from`), every stored checkpoint and every checkpoint file met on
//! the way, the head compared with the last event, and every `resets` row
//! compared with what its last event recorded.

use crate::audit::{Checkpoint, Finding, Report, Verifier, Walk};
use crate::store::{Store, StoreError};

/// Events and rows are read in pages of this many.
const PAGE: u32 = 1000;

#[derive(Debug, Default)]
pub struct VerifyOptions {
    pub from: Option<u64>,
    /// Signed checkpoint notes kept off the box (their text).
    pub checkpoints: Vec<String>,
    /// The public key checkpoints are checked with.
    pub key: Option<Verifier>,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Tampered(#[from] Finding),
    #[error("{0}")]
    Unusable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The service may keep writing meanwhile: the walk stops at the head read
/// first, and a row that moved after it (an event for it came later) is
/// left for the next run instead of being called edited.
pub async fn verify(store: &Store, options: &VerifyOptions) -> Result<Report, VerifyError> {
    let (head, head_hash) = store.audit_head().await?;
    let oldest = store.oldest_event().await?;
    let start = options
        .from
        .unwrap_or(oldest.as_ref().map_or(1, |(seq, _)| *seq))
        .max(1);
    let mut walk = Walk::new();
    for checkpoint in checkpoints(store, options, start).await? {
        walk.expect(checkpoint);
    }
    let mut after = start - 1;
    while after < head {
        let events = store.events_after(after, PAGE).await?;
        for event in events.iter().take_while(|e| e.seq <= head) {
            walk.push(event)?;
            after = event.seq;
        }
        if events.is_empty() {
            break;
        }
    }
    walk.finish((head, &head_hash))?;
    rows(store, &mut walk, options, oldest, head).await?;
    Ok(walk.report()?)
}

/// Every `resets` row against the walk.
async fn rows(
    store: &Store,
    walk: &mut Walk,
    options: &VerifyOptions,
    oldest: Option<(u64, String)>,
    head: u64,
) -> Result<(), VerifyError> {
    // Rows the walk cannot speak for: before --from, or whose events were pruned.
    let covered_since = match (options.from, oldest) {
        (Some(_), _) => None,
        (None, Some((1, _)) | None) => Some(String::new()),
        (None, Some((_, at))) => Some(at),
    };
    let mut last_id = String::new();
    loop {
        let rows = store.reset_rows_after(&last_id, PAGE).await?;
        for record in &rows {
            let covered = covered_since
                .as_ref()
                .is_some_and(|since| record.created_at >= *since);
            let value =
                serde_json::to_value(record).map_err(|e| VerifyError::Unusable(e.to_string()))?;
            match walk.row(&record.id, &value, covered) {
                Err(Finding::RowDiffers { .. } | Finding::RowWithoutEvent { .. })
                    if store.moved_since(&record.id, head).await? =>
                {
                    walk.skip_row();
                }
                other => other?,
            }
        }
        match rows.last() {
            Some(last) => last_id = last.id.clone(),
            None => return Ok(()),
        }
    }
}

/// The checkpoints to meet: the stored ones from `start` on (opened with the
/// key when there is one, so an edited row in the table does not pass), and
/// every one given, which must verify.
async fn checkpoints(
    store: &Store,
    options: &VerifyOptions,
    start: u64,
) -> Result<Vec<Checkpoint>, VerifyError> {
    let mut out = Vec::new();
    for stored in store
        .checkpoints()
        .await?
        .into_iter()
        .filter(|c| c.size >= start)
    {
        let checkpoint = match &options.key {
            // Signed by an earlier key (rotated): only the hash column is
            // left to compare, as without a key.
            Some(key) if !key.is_named_in(&stored.note) => unsigned(stored),
            Some(key) => key.open(&stored.note).map_err(|e| Finding::Checkpoint {
                size: stored.size,
                why: format!("the stored checkpoint does not verify: {e}"),
            })?,
            None => unsigned(stored),
        };
        out.push(checkpoint);
    }
    for note in &options.checkpoints {
        let key = options.key.as_ref().ok_or_else(|| {
            VerifyError::Unusable("a checkpoint file needs the verifier key (--key, or GUEST_RESET_AUDIT_SIGNING_KEY_FILE)".into())
        })?;
        let checkpoint = key
            .open(note)
            .map_err(|e| VerifyError::Unusable(format!("the checkpoint file: {e}")))?;
        out.push(checkpoint);
    }
    Ok(out)
}

/// A stored checkpoint taken at its word (its hash column), unverified.
fn unsigned(stored: crate::store::StoredCheckpoint) -> Checkpoint {
    Checkpoint {
        origin: String::new(),
        size: stored.size,
        hash: stored.hash,
        time: stored.signed_at,
    }
}
