//! Asynchronous resets: accepted (validated, recorded `queued` and queued
//! in one durable transaction) now, run by a worker later with the same
//! flow, audit and retries as a synchronous one.

use tracing::instrument;

use super::intent::{new_record, requester};
use super::{Context, Failure, ResetError, ResetRequest, ResetService, ValidRequest};
use crate::auth::Identity;
use crate::record::{ResetRecord, Status};
use crate::store::{DeliveryClaim, Enqueued, QueueEntry, StoreError};

/// A request taken for later: its record (`queued`), or the record of the
/// reset an earlier delivery with the same id started.
#[derive(Debug)]
pub struct Accepted {
    pub record: ResetRecord,
    /// True when this delivery or key was seen before: nothing new was queued.
    pub replayed: bool,
}

impl ResetService {
    /// Validate and queue; `source` names the webhook source whose callback
    /// gets the result, `delivery` its delivery id (replay protection).
    #[instrument(skip_all, fields(reset_id, requester = %ctx.caller.subject))]
    pub async fn accept(
        &self,
        ctx: Context<'_>,
        input: Result<ResetRequest, ResetError>,
        source: Option<String>,
        delivery: Option<DeliveryClaim>,
    ) -> Result<Accepted, Failure> {
        let mut record = new_record(requester(ctx.caller), ctx.request_id, input.as_ref().ok());
        tracing::Span::current().record("reset_id", record.id.as_str());
        let checked = input.and_then(|r| {
            self.choose_tenant(ctx.caller, r.tenant.as_deref(), &mut record)?;
            self.check_async(&r).map(|v| (r, v))
        });
        let (request, valid) = match checked {
            Ok(ok) => ok,
            Err(error) => return Err(self.finish_failed(record, error, None).await),
        };
        record.redirect_url = Some(valid.redirect_url.clone());
        record.send_invitation_message = Some(valid.send_invitation_message);
        record.status = Status::Queued;
        let entry = QueueEntry {
            request: serde_json::to_string(&request).unwrap_or_default(),
            caller: serde_json::to_string(ctx.caller).unwrap_or_default(),
            source,
        };
        match self.store.enqueue(&record, entry, delivery, ctx.key).await {
            Ok(Enqueued::Queued) => Ok(Accepted {
                record,
                replayed: false,
            }),
            Ok(Enqueued::Replay { reset_id }) => self.replayed(&reset_id).await,
            Ok(Enqueued::KeyInFlight) => Err(self
                .finish_failed(record, ResetError::IdempotencyKeyInFlight, None)
                .await),
            Err(e) => Err(Failure {
                record: None,
                error: e.into(),
            }),
        }
    }

    /// Asynchronous answers cannot carry the redeem URL, so a request that
    /// needs one must be synchronous.
    pub(super) fn check_async(&self, request: &ResetRequest) -> Result<ValidRequest, ResetError> {
        let valid = request
            .validate(&self.defaults)
            .map_err(ResetError::Invalid)?;
        match valid.send_invitation_message || valid.dry_run {
            true => Ok(valid),
            false => Err(ResetError::Invalid(
                "send_invitation_message: false needs a synchronous request: the redeem URL is \
                 handed over only in the answer, never stored or sent on"
                    .into(),
            )),
        }
    }

    async fn replayed(&self, reset_id: &str) -> Result<Accepted, Failure> {
        match self.store.get(reset_id).await {
            Ok(Some(record)) => Ok(Accepted {
                record,
                replayed: true,
            }),
            Ok(None) => {
                let what = "a delivery id names a reset that does not exist".into();
                let error = StoreError::Corrupt {
                    id: reset_id.to_owned(),
                    what,
                };
                Err(Failure {
                    record: None,
                    error: error.into(),
                })
            }
            Err(e) => Err(Failure {
                record: None,
                error: e.into(),
            }),
        }
    }

    /// Take the next queued reset and run it to its end: its final record
    /// and webhook source, or `None` when nothing is queued.
    /// Work of `paused` tenants (their circuit is open) stays queued.
    pub async fn run_next(
        &self,
        paused: &[String],
        lane: crate::store::Lane,
    ) -> Result<Option<(Option<ResetRecord>, Option<String>)>, StoreError> {
        let Some(crate::store::Claimed { record, entry }) =
            self.store.take_queued(paused, lane).await?
        else {
            return Ok(None);
        };
        let span = tracing::info_span!("queued reset", reset_id = %record.id, request_id = record.request_id.as_deref().unwrap_or(""));
        // No caller waits on a queued reset: its Graph calls wait out an open
        // circuit instead of failing. A job's item is bulk work: Graph may
        // throttle it first, and single resets get budget slots before it.
        let bulk = record.job.is_some();
        let run = crate::graph::patiently(self.run_queued(record, &entry));
        let finished = match bulk {
            true => tracing::Instrument::instrument(crate::graph::in_bulk(run), span).await,
            false => tracing::Instrument::instrument(run, span).await,
        };
        Ok(Some((finished, entry.source)))
    }

    async fn run_queued(&self, record: ResetRecord, entry: &QueueEntry) -> Option<ResetRecord> {
        let parsed = serde_json::from_str::<Identity>(&entry.caller).and_then(|caller| {
            serde_json::from_str::<ResetRequest>(&entry.request).map(|request| (caller, request))
        });
        let (caller, request) = match parsed {
            Ok(parsed) => parsed,
            Err(e) => {
                let what = format!("unreadable queue entry: {e}");
                let error = StoreError::Corrupt {
                    id: record.id.clone(),
                    what,
                };
                let from = Some(record.status);
                return self.finish_failed(record, error.into(), from).await.record;
            }
        };
        let mut record = record;
        if let Some(expired) = self.approved_too_long_ago(&mut record).await {
            return expired;
        }
        let checked = self
            .choose_tenant(&caller, request.tenant.as_deref(), &mut record)
            .and_then(|_| self.check_async(&request));
        let valid = match checked {
            Ok(valid) => valid,
            Err(error) => {
                let from = Some(record.status);
                return self.finish_failed(record, error, from).await.record;
            }
        };
        match self.drive(&caller, &valid, record, entry).await {
            Ok(outcome) => Some(outcome.record),
            Err(failure) => failure.record,
        }
    }
}
