//! Inbound webhook signatures: pure, no I/O, no clock.
//!
//! Some ticketing systems cannot fetch an Entra token and can only sign what
//! they send, so a webhook source proves a delivery is genuine with an
//! HMAC-SHA256 over the raw body (and, for some schemes, an id and a timestamp).
//! Each scheme here follows its sender's documentation (see
//! the team's `security.md` §2 and `peers.md` §3):
//!
//! - `standard-webhooks`: `v1,base64(HMAC(key, "{id}.{ts}.{body}"))`, key =
//!   base64 of the `whsec_` secret, space-separated list for rotation;
//! - `hub-signature-256`: `sha256=hex(HMAC(secret, body))` (GitHub, and Jira
//!   Cloud admin webhooks in `X-Hub-Signature`), no timestamp;
//! - `zendesk`: `base64(HMAC(secret, ts + body))`, plain concatenation.
//!
//! Signatures are decoded and compared as bytes in constant time, never as
//! strings. The signature is checked before the timestamp, so `Stale` and
//! `Future` only ever describe genuine deliveries (a clock or queue problem
//! at the sender), and a forgery always reads as `BadSignature`.
//! Every secret in the list is tried, so a secret can be rotated without downtime.
//! Replay protection is the caller's job: it keeps `Verified::delivery_id`
//! (per source) for at least the tolerance plus clock skew.

mod secret;
mod verify;

#[cfg(test)]
mod tests;

pub use secret::check_secret;
pub use verify::{sha256_id, sign_standard, verify};

/// How a source proves a delivery is genuine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    StandardWebhooks,
    // kebab-case alone would spell it "hub-signature256".
    #[serde(rename = "hub-signature-256")]
    HubSignature256,
    Zendesk,
    /// The delivery carries an Entra bearer token; the HTTP layer checks it
    /// with the JWT verifier, and there is no signature to check here.
    BearerJwt,
}

impl Scheme {
    /// The name used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::StandardWebhooks => "standard-webhooks",
            Scheme::HubSignature256 => "hub-signature-256",
            Scheme::Zendesk => "zendesk",
            Scheme::BearerJwt => "bearer-jwt",
        }
    }
}

/// What a verified delivery tells about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// A stable id for replay protection: the signed webhook-id (standard-webhooks);
    /// for schemes that sign no id, "sha256:<hex of SHA-256 of timestamp+body>" for zendesk
    /// and "sha256:<hex of SHA-256 of the body>" for hub-signature-256 (the delivery-id headers
    /// those senders add are NOT covered by the MAC, so they must not be trusted for dedupe).
    pub delivery_id: String,
    /// The signed timestamp (unix seconds), when the scheme has one.
    pub timestamp: Option<i64>,
}

/// Why a delivery (or a configured secret) is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("header {0} is missing")]
    MissingHeader(&'static str),
    #[error("header {0} is malformed: {1}")]
    Malformed(&'static str, String),
    #[error("no signature matches")]
    BadSignature,
    #[error("timestamp is {0} s too old")]
    Stale(i64),
    #[error("timestamp is {0} s in the future")]
    Future(i64),
    #[error("{0} is verified by the bearer token, not a signature")]
    NotASignatureScheme(&'static str),
    #[error("secret is malformed: {0}")]
    BadSecret(String),
}
