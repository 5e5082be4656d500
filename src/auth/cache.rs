//! The cached key set and its refresh policy. Anyone can send tokens with
//! random `kid`s, so an unknown `kid` may cause at most one fetch per
//! `refresh_interval`, shared by every caller waiting at that moment; a failed
//! fetch keeps the last good set and still counts (no retry storm at the IdP).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;

use super::AuthError;
use super::fetch;
use super::keys::{KeyRef, KeySet};
use super::settings::KeySource;

/// The last good key set and why the most recent fetch failed, if it did.
#[derive(Default)]
struct Cached {
    keys: Option<Arc<KeySet>>,
    last_error: Option<String>,
}

pub(super) struct KeyCache {
    http: reqwest::Client,
    source: Option<KeySource>,
    algorithms: Vec<Algorithm>,
    interval: Duration,
    cached: RwLock<Cached>,
    /// Held while fetching; holds the time of the last attempt.
    fetching: Arc<tokio::sync::Mutex<Option<Instant>>>,
    fetches: AtomicU64,
}

impl KeyCache {
    pub(super) fn new(
        http: reqwest::Client,
        source: Option<KeySource>,
        algorithms: Vec<Algorithm>,
        interval: Duration,
    ) -> KeyCache {
        KeyCache {
            http,
            source,
            algorithms,
            interval,
            cached: RwLock::default(),
            fetching: Arc::new(tokio::sync::Mutex::new(None)),
            fetches: AtomicU64::new(0),
        }
    }

    pub(super) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    pub(super) fn source(&self) -> Option<&KeySource> {
        self.source.as_ref()
    }

    /// A key set that holds `wanted`, refetching first when it is unknown and
    /// the interval allows.
    pub(super) async fn containing(
        self: &Arc<Self>,
        wanted: &KeyRef,
    ) -> Result<Arc<KeySet>, AuthError> {
        let seen = self.current();
        if let Some(set) = &seen
            && set.contains(wanted)
        {
            return Ok(Arc::clone(set));
        }
        self.refresh_if_due(seen.as_ref()).await;
        match self.current() {
            Some(set) if set.contains(wanted) => Ok(set),
            Some(_) => Err(AuthError::Invalid("unknown signing key".to_owned())),
            None => Err(self.unavailable()),
        }
    }

    /// Fetch unless a fetch was made within the interval; then report how many
    /// usable keys are cached.
    pub(super) async fn refresh(self: &Arc<Self>) -> Result<usize, AuthError> {
        let seen = self.current();
        self.refresh_if_due(seen.as_ref()).await;
        match self.current() {
            Some(set) => Ok(set.len()),
            None => Err(self.unavailable()),
        }
    }

    fn current(&self) -> Option<Arc<KeySet>> {
        self.cached
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys
            .clone()
    }

    fn unavailable(&self) -> AuthError {
        let cached = self.cached.read().unwrap_or_else(|e| e.into_inner());
        let why = cached
            .last_error
            .as_deref()
            .unwrap_or("no key set fetched yet");
        AuthError::KeysUnavailable(why.to_owned())
    }

    /// Callers that queued behind a fetch find the set replaced (or the
    /// attempt recent) when they get the lock, and do not fetch again.
    async fn refresh_if_due(self: &Arc<Self>, seen: Option<&Arc<KeySet>>) {
        let mut last_attempt = Arc::clone(&self.fetching).lock_owned().await;
        let replaced = match (self.current(), seen) {
            (Some(now), Some(seen)) => !Arc::ptr_eq(&now, seen),
            (now, seen) => now.is_some() != seen.is_some(),
        };
        let recent = last_attempt.is_some_and(|t| t.elapsed() < self.interval);
        if replaced || recent {
            return;
        }
        *last_attempt = Some(Instant::now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        // The fetch owns the lock and runs on its own task: a caller that goes
        // away (client disconnect, request timeout) cannot abandon it half-done
        // and leave the interval spent with nothing stored.
        let this = Arc::clone(self);
        let fetch = tokio::spawn(async move {
            this.fetch_and_store().await;
            drop(last_attempt);
        });
        if let Err(e) = fetch.await {
            tracing::error!(error = %e, "key set fetch task failed");
        }
    }

    async fn fetch_and_store(&self) {
        let result = match &self.source {
            None => Err("no key set location is configured".to_owned()),
            Some(source) => match fetch::key_set(&self.http, source, &self.algorithms).await {
                Ok(set) if set.is_empty() => Err(format!("{source} has no usable key")),
                Ok(set) => Ok(set),
                Err(e) => Err(e.to_string()),
            },
        };
        let mut cached = self.cached.write().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(set) => {
                *cached = Cached {
                    keys: Some(Arc::new(set)),
                    last_error: None,
                }
            }
            Err(why) => {
                tracing::warn!(error = %why, "key set fetch failed; keeping the last good set");
                cached.last_error = Some(why);
            }
        }
    }
}
