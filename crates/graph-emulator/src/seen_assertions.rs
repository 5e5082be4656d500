//! Client assertions already used (a replayed `jti` is refused): kept in the
//! directory state, checked and filled by `assertion.rs`.

use std::collections::HashMap;

use super::clock;

/// Clock skew allowed on `nbf` and `exp`; Entra's own allowance is undocumented.
pub(super) const LEEWAY_SECS: u64 = 60;

/// The `jti`s already used, per client, until their assertion would have expired anyway.
#[derive(Default)]
pub(super) struct SeenAssertions {
    expiry: HashMap<(String, String), u64>,
}

/// A verified assertion, recorded once a token was issued for it.
pub(super) struct UsedAssertion {
    pub(super) client_id: String,
    pub(super) jti: String,
    pub(super) exp: u64,
}

impl SeenAssertions {
    pub(super) fn contains(&self, client_id: &str, jti: &str) -> bool {
        let key = (client_id.to_ascii_lowercase(), jti.to_owned());
        self.expiry.contains_key(&key)
    }

    pub(super) fn record(&mut self, used: UsedAssertion) {
        // Expired assertions are refused on time anyway; forgetting them bounds the map.
        let now = clock::unix_seconds();
        self.expiry
            .retain(|_, exp| exp.saturating_add(LEEWAY_SECS) >= now);
        let key = (used.client_id.to_ascii_lowercase(), used.jti);
        self.expiry.insert(key, used.exp);
    }
}
