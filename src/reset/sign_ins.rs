//! The console's sign-ins, kept where every replica sees them. The use
//! case only passes them through to the store: what a session holds is
//! the HTTP edge's business.

use super::ResetService;
use crate::store::{SessionKind, StoreError};

impl ResetService {
    /// Keep a sign-in under way (`Login`) or a session until `expires_at`.
    pub async fn save_sign_in(
        &self,
        id: &str,
        kind: SessionKind,
        data: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let now = unix_now();
        (self.store)
            .put_console_session(id, kind, data, expires_at, now)
            .await
    }

    /// The sign-in under way with this id, removed as it is read.
    pub async fn take_sign_in(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.store.take_console_login(id, unix_now()).await
    }

    /// The session with this id, unless it has expired.
    pub async fn session(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.store.console_session(id, unix_now()).await
    }

    pub async fn end_session(&self, id: &str) -> Result<(), StoreError> {
        self.store.end_console_session(id).await
    }
}

/// Seconds since the epoch.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
