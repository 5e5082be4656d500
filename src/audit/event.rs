//! One event of the chain and its hash.
//!
//! `hash = SHA-256("guest-reset audit event v1\n" || canonical JSON of
//! {actor, at, data, kind, prev, seq, subject})`, hex. Canonical JSON: object
//! keys sorted by their UTF-8 bytes, no whitespace, strings escaped as JSON
//! requires and nothing more (what Python's `json.dumps(sort_keys=True,
//! separators=(",", ":"), ensure_ascii=False)` writes). The domain tag keeps
//! a hash of ours from being mistaken for any other SHA-256 of JSON; `prev`
//! inside the hashed body chains each event to the one before.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `prev` of the first event ever appended.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN: &[u8] = b"guest-reset audit event v1\n";

/// An event as stored and exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// 1, 2, 3, … without gaps.
    pub seq: u64,
    /// When it was appended (RFC 3339, UTC, microseconds).
    pub at: String,
    /// What happened: `reset.received`, `reset.running`, `job.paused`, `policy.reloaded`, …
    pub kind: String,
    /// What it happened to: a reset's or a job's id; empty for the service.
    pub subject: String,
    /// Who did it: `{"type": "caller", …}` or `{"type": "service", "replica": …}`.
    pub actor: Value,
    /// The details; for a reset, the whole record after the move.
    pub data: Value,
    /// The hash of the event before (hex); [`GENESIS`] for the first.
    pub prev: String,
    /// This event's hash (hex).
    pub hash: String,
}

/// What a writer knows of an event before the chain places it.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub kind: String,
    pub subject: String,
    pub actor: Value,
    pub data: Value,
}

impl Draft {
    /// Place the draft after `prev` as event `seq`, appended at `at`.
    pub fn seal(self, seq: u64, at: String, prev: String) -> Event {
        self.encode(at).seal(seq, prev)
    }

    /// The draft with its JSON in canonical form, appended at `at`: what is
    /// left to do once the chain places it is one SHA-256. Writers encode
    /// before they queue for the database's writer.
    pub fn encode(self, at: String) -> Encoded {
        let (actor, data) = (canonical_json(&self.actor), canonical_json(&self.data));
        let (prefix, suffix) = parts(&actor, &at, &data, &self.kind, &self.subject);
        Encoded {
            draft: self,
            at,
            actor,
            data,
            prefix,
            suffix,
        }
    }
}

/// A draft ready to be hashed wherever the chain places it.
#[derive(Debug, Clone)]
pub struct Encoded {
    draft: Draft,
    pub at: String,
    /// Canonical JSON, as stored.
    pub actor: String,
    pub data: String,
    /// The hashed bytes before `prev`, and after `seq` ([`preimage`]).
    pub prefix: String,
    pub suffix: String,
}

impl Encoded {
    pub fn kind(&self) -> &str {
        &self.draft.kind
    }

    pub fn subject(&self) -> &str {
        &self.draft.subject
    }

    /// Event `seq`, after `prev`.
    pub fn seal(self, seq: u64, prev: String) -> Event {
        let hash = self.hash_at(seq, &prev);
        self.placed(seq, prev, hash)
    }

    /// Its hash as event `seq` after `prev`.
    pub fn hash_at(&self, seq: u64, prev: &str) -> String {
        hash_parts(&self.prefix, prev, seq, &self.suffix)
    }

    /// The event as placed and hashed elsewhere (PostgreSQL does it in SQL).
    pub fn placed(self, seq: u64, prev: String, hash: String) -> Event {
        let Draft {
            kind,
            subject,
            actor,
            data,
        } = self.draft;
        Event {
            seq,
            at: self.at,
            kind,
            subject,
            actor,
            data,
            prev,
            hash,
        }
    }
}

/// The hash `event` should have, from everything but its `hash`.
pub fn digest(event: &Event) -> String {
    let (prefix, suffix) = preimage(event);
    hash_parts(&prefix, &event.prev, event.seq, &suffix)
}

fn hash_parts(prefix: &str, prev: &str, seq: u64, suffix: &str) -> String {
    let mut input = Vec::with_capacity(prefix.len() + suffix.len() + 96);
    input.extend_from_slice(prefix.as_bytes());
    input.extend_from_slice(prev.as_bytes());
    input.extend_from_slice(format!("\",\"seq\":{seq}").as_bytes());
    input.extend_from_slice(suffix.as_bytes());
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &input).as_ref())
}

/// The hashed bytes around `prev` and `seq`: the domain tag and the
/// canonical JSON of the body up to `"prev":"`, and from `,"subject":` on.
/// The keys sort as actor, at, data, kind, prev, seq, subject, so what the
/// chain decides at append time (`prev`, `seq`) sits in one place and
/// PostgreSQL can finish the hash inside the statement that takes the head.
pub fn preimage(event: &Event) -> (String, String) {
    let (actor, data) = (canonical_json(&event.actor), canonical_json(&event.data));
    parts(&actor, &event.at, &data, &event.kind, &event.subject)
}

fn parts(actor: &str, at: &str, data: &str, kind: &str, subject: &str) -> (String, String) {
    let text = |s: &str| Value::String(s.to_owned()).to_string();
    let prefix = format!(
        "{}{{\"actor\":{actor},\"at\":{},\"data\":{data},\"kind\":{},\"prev\":\"",
        String::from_utf8_lossy(DOMAIN),
        text(at),
        text(kind),
    );
    (prefix, format!(",\"subject\":{}}}", text(subject)))
}

/// `value` in the canonical encoding (sorted keys, no whitespace), whatever
/// order serde_json's map keeps.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value);
    out
}

fn write(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => write_object(out, map),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        // Scalars: serde_json's own compact form (strings escaped minimally).
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn write_object(out: &mut String, map: &Map<String, Value>) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    out.push('{');
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String(key.clone()).to_string());
        out.push(':');
        if let Some(v) = map.get(key) {
            write(out, v);
        }
    }
    out.push('}');
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft() -> Draft {
        Draft {
            kind: "reset.received".into(),
            subject: "r1".into(),
            actor: json!({"type": "caller", "subject": "agent"}),
            data: json!({"b": 1, "a": ["x", {"d": null, "c": "é\n\"q\""}]}),
        }
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        assert_eq!(
            canonical_json(&draft().data),
            r#"{"a":["x",{"c":"é\n\"q\"","d":null}],"b":1}"#
        );
    }

    /// The vector docs/audit.md shows and scripts/verify-audit.py checks.
    #[test]
    fn the_documented_vector_hashes_as_documented() {
        let event = draft().seal(1, "2026-12-03T00:00:00.000000Z".into(), GENESIS.into());
        assert_eq!(
            event.hash,
            "f1e4ffa8c28760589d2a85b1fed027bf5d9eb29311b283ef56803c588d284387"
        );
        println!("vector hash {}", event.hash);
    }

    /// The split preimage is exactly the canonical JSON of the whole body.
    #[test]
    fn the_preimage_around_prev_and_seq_is_the_canonical_body() {
        let event = draft().seal(7, "t".into(), GENESIS.into());
        let (prefix, suffix) = preimage(&event);
        let body = serde_json::json!({
            "actor": event.actor, "at": event.at, "data": event.data, "kind": event.kind,
            "prev": event.prev, "seq": event.seq, "subject": event.subject,
        });
        let whole = format!("{prefix}{}\",\"seq\":7{suffix}", event.prev);
        assert_eq!(
            whole,
            format!("guest-reset audit event v1\n{}", canonical_json(&body))
        );
    }

    #[test]
    fn every_field_is_in_the_hash() {
        let event = draft().seal(1, "t".into(), GENESIS.into());
        let changed: [fn(&mut Event); 7] = [
            |e| e.seq = 2,
            |e| e.at = "u".into(),
            |e| e.kind = "reset.denied".into(),
            |e| e.subject = "r2".into(),
            |e| e.actor = json!({"type": "service"}),
            |e| e.data = json!({}),
            |e| e.prev = "1".repeat(64),
        ];
        for change in changed {
            let mut other = event.clone();
            change(&mut other);
            assert_ne!(digest(&other), event.hash);
        }
    }
}
