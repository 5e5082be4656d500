//! Bulk work's requests travel in `$batch` envelopes: each attempt of a job
//! item's read or write waits a moment for others, and up to 20 go to Graph
//! in one `POST /$batch`. An item keeps its own retry loop (send.rs): the
//! envelope only carries one attempt of each, and each item's answer is
//! judged as a single call's would be, with two rules batches add
//! (throttling.md "Throttling and batching", graph.md §1):
//! - each item has its own 429 and `Retry-After` inside a 200 envelope;
//! - a write answered 429 inside a batch may still have taken effect, so an
//!   invitation is never sent again on it: it is read back first
//!   ([`GraphError::ThrottledInBatch`]).
//!
//! A batch of PATCHes and then the batch of their invitations comes out of
//! this naturally: each item sends its invitation only after its own PATCH
//! succeeded (Graph's `dependsOn` cannot pair "invite 1 after patch 1,
//! invite 2 after patch 2" in one envelope, known-issues.md).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::batch::{
    Answers, BatchAnswer, BatchItem, MAX_BATCH_ITEMS, envelope_body, match_answers,
};
use super::bulk::in_bulk;
use super::retry::Replay;
use super::send::{Failure, Parse, Request};
use super::stats::Counters;
use super::{Call, GraphClient, GraphError, json};

/// How long the first waiting item holds its envelope open for others: a
/// job's workers reach Graph within milliseconds of each other.
const LINGER: Duration = Duration::from_millis(5);

/// Items waiting for an envelope, and how many one envelope takes now.
#[derive(Debug)]
pub(super) struct Batcher {
    waiting: std::sync::Mutex<Vec<Waiting>>,
    /// 20, halved when Graph throttles a whole envelope and grown back by
    /// one per envelope it takes (ScubaGear's answer to an envelope 429).
    size: AtomicUsize,
}

#[derive(Debug)]
struct Waiting {
    item: BatchItem,
    deadline: Instant,
    reply: oneshot::Sender<Result<BatchAnswer, GraphError>>,
}

impl Default for Batcher {
    fn default() -> Batcher {
        Batcher {
            waiting: std::sync::Mutex::new(Vec::new()),
            size: AtomicUsize::new(MAX_BATCH_ITEMS),
        }
    }
}

impl Batcher {
    fn size(&self) -> usize {
        self.size.load(Ordering::Relaxed).clamp(1, MAX_BATCH_ITEMS)
    }

    fn resize(&self, throttled: bool) {
        let next = match throttled {
            true => self.size() / 2,
            false => self.size() + 1,
        };
        self.size
            .store(next.clamp(1, MAX_BATCH_ITEMS), Ordering::Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue `waiting`; true when nobody was waiting, so no envelope is
    /// being gathered and the caller starts one.
    fn push(&self, waiting: Waiting) -> bool {
        let mut queue = self.lock();
        queue.push(waiting);
        queue.len() == 1
    }

    /// The next envelope's items (those past their deadline answered as not
    /// sent), and whether more wait after them.
    fn take(&self) -> (Vec<Waiting>, bool) {
        let mut queue = self.lock();
        let n = queue.len().min(self.size());
        let taken: Vec<Waiting> = queue.drain(..n).collect();
        let more = !queue.is_empty();
        drop(queue);
        let now = Instant::now();
        let (live, late): (Vec<_>, Vec<_>) = taken.into_iter().partition(|w| w.deadline > now);
        for w in late {
            let _ = w.reply.send(Err(GraphError::not_sent(
                "deadline passed waiting for a batch",
            )));
        }
        (live, more)
    }
}

impl GraphClient {
    /// The URL relative to `/v1.0` when `req` may travel in a batch: bulk
    /// work's requests, but not an advanced query (a listing's pages follow
    /// one another: there is nothing to batch them with).
    pub(super) fn batchable(&self, req: &Request<'_>) -> Option<String> {
        if super::bulk::priority() != super::budget::Priority::Low || req.eventual {
            return None;
        }
        let rest = req.url.as_str().strip_prefix(self.base.as_str())?;
        Some(format!("/{rest}"))
    }

    /// One attempt of `req` as an item of the next envelope; its budget slot
    /// is taken first, as for a single call.
    pub(super) async fn exchange_batched<T>(
        &self,
        req: &Request<'_>,
        url: String,
        deadline: Instant,
        parse: Parse<T>,
        prepaid: bool,
    ) -> Result<Call<T>, Failure> {
        if let Some(limit) = req.limit.filter(|_| !prepaid) {
            self.take_slot(limit, deadline).await?;
        }
        let mut item = BatchItem::new("", req.method.clone(), url, req.body.cloned());
        item.headers
            .push(("x-ms-throttle-priority".into(), "Low".into()));
        let started = Instant::now();
        let answer = self.submit(item, deadline).await?;
        if answer.status == 429 {
            Counters::bump(&self.counters.throttled);
        }
        crate::metrics::graph_exchange(
            &self.tenant,
            req.what,
            Some(answer.status),
            started.elapsed(),
        );
        if let Some(limit) = req.limit {
            let percentage = answer.headers.get("x-ms-throttle-limit-percentage");
            self.throttle_feedback(
                limit,
                answer.status,
                answer.retry_after,
                percentage.map(String::as_str),
            );
        }
        item_result(req, answer, parse)
    }

    async fn submit(&self, item: BatchItem, deadline: Instant) -> Result<BatchAnswer, GraphError> {
        let (reply, answer) = oneshot::channel();
        if self.batcher.push(Waiting {
            item,
            deadline,
            reply,
        }) {
            tokio::spawn(in_bulk(self.clone().gather()));
        }
        // The gathering task is gone (the runtime is stopping): the
        // envelope may or may not have left.
        answer.await.unwrap_or_else(|_| {
            Err(GraphError::Transport {
                message: "the batch carrying this request was lost".into(),
                maybe_sent: true,
            })
        })
    }

    /// Gather envelopes while items wait: a moment's wait for more unless
    /// an envelope is full already, then one envelope's worth sent on its
    /// own task, so envelopes overlap as single calls would.
    async fn gather(self) {
        loop {
            if self.batcher.lock().len() < self.batcher.size() {
                tokio::time::sleep(LINGER).await;
            }
            let (batch, more) = self.batcher.take();
            if !batch.is_empty() {
                let client = self.clone();
                tokio::spawn(in_bulk(async move { client.send_envelope(batch).await }));
            }
            // Nobody waits: the next item to arrive starts a new gatherer.
            if !more {
                return;
            }
        }
    }

    /// One envelope, one attempt: its failure is every item's failure, and
    /// each item's own loop decides what comes next.
    async fn send_envelope(&self, batch: Vec<Waiting>) {
        let deadline = (batch.iter().map(|w| w.deadline).min()).unwrap_or_else(Instant::now);
        let (items, replies): (Vec<BatchItem>, Vec<_>) = (batch.into_iter().enumerate())
            .map(|(n, w)| {
                let id = (n + 1).to_string();
                (BatchItem { id, ..w.item }, w.reply)
            })
            .unzip();
        match self.send_items(&items, deadline).await {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(error) => {
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }

    async fn send_items(
        &self,
        items: &[BatchItem],
        deadline: Instant,
    ) -> Result<Vec<BatchAnswer>, GraphError> {
        let body = envelope_body(items);
        // One attempt, never repeated here: each item's own loop decides.
        let request = self.envelope(&body, Replay::Idempotent);
        let _permit = self.slot(deadline).await?;
        Counters::bump(&self.counters.attempts);
        let sent = self
            .exchange(&request, deadline, json::<Answers>, true)
            .await;
        let throttled =
            matches!(&sent, Err(f) if matches!(f.error, GraphError::Api { status: 429, .. }));
        self.batcher.resize(throttled);
        if let Err(Failure {
            error:
                GraphError::Api {
                    status: 429,
                    retry_after,
                    ..
                },
            ..
        }) = &sent
        {
            // The whole envelope refused: every limit it carried slows down.
            for limit in [
                super::budget::Limit::Invitations,
                super::budget::Limit::UserWrites,
            ] {
                self.throttle_feedback(limit, 429, *retry_after, None);
            }
        }
        let call = sent.map_err(|f| f.error)?;
        match_answers(items, call.value.responses)
    }
}

/// An item's answer judged as a single call's: its own status, request id
/// and `Retry-After`; a write Graph throttled inside the batch is not proof
/// that it did nothing.
fn item_result<T>(
    req: &Request<'_>,
    answer: BatchAnswer,
    parse: Parse<T>,
) -> Result<Call<T>, Failure> {
    let request_id = answer.headers.get("request-id").cloned();
    match answer.error() {
        None => {}
        Some(GraphError::Api {
            status: 429,
            request_id,
            retry_after,
            ..
        }) if matches!(req.replay, Replay::OnlyIfNotActed { .. }) => {
            return Err(GraphError::ThrottledInBatch {
                request_id,
                retry_after,
            }
            .into());
        }
        Some(error) => return Err(error.into()),
    }
    let bytes = serde_json::to_vec(&answer.body).unwrap_or_default();
    match parse(&bytes) {
        Ok(value) => Ok(Call { value, request_id }),
        Err(e) => Err(GraphError::Decode(format!("{}: {e}", req.what)).into()),
    }
}
