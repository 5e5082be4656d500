//! Walking the chain: events in sequence order in, the first one that does
//! not fit out, with why. The walk also keeps, per reset, the hash of the
//! record its last event shows, so the `resets` rows (the projection) can
//! be checked against the log.

use std::collections::BTreeMap;

use serde_json::Value;

use super::event::{Event, GENESIS, canonical_json, digest};
use super::note::Checkpoint;

/// Why verification stopped, naming the event or row.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Finding {
    #[error("event {seq} does not match its hash: its contents were changed")]
    Edited { seq: u64 },
    #[error(
        "event {seq} does not follow event {before}: its prev is not that event's hash (an event was changed, removed or reordered)"
    )]
    Unlinked { seq: u64, before: u64 },
    #[error("event {found} comes after event {after}: {missing} missing or out of order")]
    Gap {
        after: u64,
        found: u64,
        missing: String,
    },
    #[error("event 1 does not start from the genesis hash")]
    NoGenesis,
    #[error(
        "the log ends at event {last}, but its head says {head}: the newest events were removed"
    )]
    Truncated { last: u64, head: u64 },
    #[error("the head's hash is not event {seq}'s hash: the head or the newest event was changed")]
    Head { seq: u64 },
    #[error("checkpoint {size}: {why}")]
    Checkpoint { size: u64, why: String },
    #[error("reset {id} differs from what its last event ({seq}) recorded: the row was edited")]
    RowDiffers { id: String, seq: u64 },
    #[error("reset {id} has no event: the row was added outside the service")]
    RowWithoutEvent { id: String },
    #[error("reset {id} is gone, but event {seq} recorded it: the row was deleted")]
    RowMissing { id: String, seq: u64 },
}

/// What a successful walk saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub first: u64,
    pub last: u64,
    pub hash: String,
    pub checkpoints: Vec<u64>,
    pub rows: u64,
    pub rows_not_covered: u64,
}

/// A walk over events in ascending `seq`.
#[derive(Debug, Default)]
pub struct Walk {
    last: Option<(u64, String)>,
    first: Option<u64>,
    /// Checkpoints to meet on the way, by size.
    pending: BTreeMap<u64, Vec<Checkpoint>>,
    met: Vec<u64>,
    /// Per reset id: (seq, hash of the record) of its last event.
    resets: BTreeMap<String, (u64, String)>,
    seen_rows: u64,
    rows_not_covered: u64,
}

impl Walk {
    pub fn new() -> Walk {
        Walk::default()
    }

    /// The log must hold `checkpoint`'s hash at its size.
    pub fn expect(&mut self, checkpoint: Checkpoint) {
        self.pending
            .entry(checkpoint.size)
            .or_default()
            .push(checkpoint);
    }

    /// The next event. The first one pushed is trusted for its `prev` unless
    /// it is event 1 (a log pruned behind a checkpoint, or `--from`).
    pub fn push(&mut self, event: &Event) -> Result<(), Finding> {
        match &self.last {
            None if event.seq == 1 && event.prev != GENESIS => return Err(Finding::NoGenesis),
            None => self.first = Some(event.seq),
            Some((seq, _)) if event.seq != seq + 1 => return Err(gap(*seq, event.seq)),
            Some((seq, hash)) if event.prev != *hash => {
                return Err(Finding::Unlinked {
                    seq: event.seq,
                    before: *seq,
                });
            }
            Some(_) => {}
        }
        if digest(event) != event.hash {
            return Err(Finding::Edited { seq: event.seq });
        }
        for cp in self.pending.remove(&event.seq).unwrap_or_default() {
            if cp.hash != event.hash {
                let why = format!(
                    "event {} has another hash than the one signed: the history was rewritten",
                    event.seq
                );
                return Err(Finding::Checkpoint { size: cp.size, why });
            }
            self.met.push(cp.size);
        }
        if event.kind.starts_with("reset.")
            && let Some(record) = event.data.get("reset")
        {
            self.resets
                .insert(event.subject.clone(), (event.seq, record_hash(record)));
        }
        self.last = Some((event.seq, event.hash.clone()));
        Ok(())
    }

    /// Compare the end of the walk with the stored head (`seq`, `hash`).
    pub fn finish(&mut self, head: (u64, &str)) -> Result<(), Finding> {
        let (last, hash) = self.last.clone().unwrap_or((0, GENESIS.to_owned()));
        if let Some((&size, _)) = self.pending.iter().find(|(size, _)| **size > last) {
            let why = format!(
                "it was signed at {size} events, the log ends at {last}: events were removed"
            );
            return Err(Finding::Checkpoint { size, why });
        }
        if let Some((&size, _)) = self.pending.iter().next() {
            let why =
                "it is older than the oldest event walked (pruned, or before --from)".to_owned();
            return Err(Finding::Checkpoint { size, why });
        }
        if head.0 > last {
            return Err(Finding::Truncated { last, head: head.0 });
        }
        if head.0 < last || head.1 != hash {
            return Err(Finding::Head { seq: last });
        }
        Ok(())
    }

    /// A `resets` row, as the record the API shows. `covered` is false for a
    /// row whose events may have been pruned (or lie before `--from`).
    pub fn row(&mut self, id: &str, record: &Value, covered: bool) -> Result<(), Finding> {
        self.seen_rows += 1;
        match self.resets.remove(id) {
            Some((seq, hash)) if hash != record_hash(record) => Err(Finding::RowDiffers {
                id: id.to_owned(),
                seq,
            }),
            Some(_) => Ok(()),
            None if covered => Err(Finding::RowWithoutEvent { id: id.to_owned() }),
            None => {
                self.rows_not_covered += 1;
                Ok(())
            }
        }
    }

    /// A row that moved after the walk's head: left for the next run.
    pub fn skip_row(&mut self) {
        self.rows_not_covered += 1;
    }

    /// After every row: a reset the log recorded must still have its row.
    pub fn report(self) -> Result<Report, Finding> {
        if let Some((id, (seq, _))) = self.resets.into_iter().min_by_key(|(_, (seq, _))| *seq) {
            return Err(Finding::RowMissing { id, seq });
        }
        let (last, hash) = self.last.unwrap_or((0, GENESIS.to_owned()));
        Ok(Report {
            first: self.first.unwrap_or(0),
            last,
            hash,
            checkpoints: self.met,
            rows: self.seen_rows,
            rows_not_covered: self.rows_not_covered,
        })
    }
}

fn gap(after: u64, found: u64) -> Finding {
    let missing = match found.checked_sub(after) {
        Some(2) => format!("event {} is", after + 1),
        Some(d) if d > 2 => format!("events {}..={} are", after + 1, found - 1),
        _ => "none is missing: they are".to_owned(),
    };
    Finding::Gap {
        after,
        found,
        missing,
    }
}

fn record_hash(record: &Value) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        canonical_json(record).as_bytes(),
    );
    super::event::hex(digest.as_ref())
}
