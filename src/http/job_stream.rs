//! A job's items (JSON pages, or every item as CSV for a spreadsheet) and
//! its live progress as Server-Sent Events.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::AppState;
use super::auth::Caller;
use super::jobs::problem;
use super::problem::Problem;
use crate::auth::Identity;
use crate::problem::ProblemType;
use crate::record::{ResetRecord, Status};
use crate::reset::ResetService;
use crate::reset::jobs::{JobView, csv_record};

/// How often a stream looks at the job's counts.
const TICK: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemParams {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    after: Option<u32>,
    #[serde(default)]
    limit: Option<u32>,
}

#[derive(Serialize)]
struct ItemView<'a> {
    item: u32,
    reset_id: &'a str,
    user: Option<&'a str>,
    tenant: &'a str,
    /// The guest's mail before the reset (when it was read).
    current_email: Option<&'a str>,
    new_email: Option<&'a str>,
    status: &'static str,
    problem: Option<ItemProblem<'a>>,
    ticket: Option<&'a str>,
}

#[derive(Serialize)]
struct ItemProblem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    detail: &'a str,
}

#[derive(Serialize)]
struct ItemPage<'a> {
    items: Vec<ItemView<'a>>,
    next_after: Option<u32>,
}

fn item_view(r: &ResetRecord) -> ItemView<'_> {
    ItemView {
        item: r.job.as_ref().map_or(0, |j| j.item),
        reset_id: &r.id,
        user: r.user.as_deref(),
        tenant: &r.tenant,
        current_email: r.target.previous_email.as_deref(),
        new_email: r.new_email.as_deref(),
        status: r.status.as_str(),
        problem: r.problem.as_ref().map(|p| ItemProblem {
            kind: &p.kind,
            detail: &p.detail,
        }),
        ticket: r.ticket.as_deref(),
    }
}

#[instrument(skip_all, fields(job_id = %id))]
pub async fn items(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Result<Query<ItemParams>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let (status, after, limit) = match params
        .map_err(|e| e.body_text())
        .and_then(|Query(p)| checked(p))
    {
        Ok(p) => p,
        Err(detail) => return Problem::new(ProblemType::InvalidRequest, detail).into_response(),
    };
    if wants_csv(&headers) {
        return csv(&state.resets, &caller.identity, &id, status).await;
    }
    match state
        .resets
        .job_items(&caller.identity, &id, status, after, limit)
        .await
    {
        Ok(records) => {
            let full = u32::try_from(records.len()).unwrap_or(0) == limit;
            let next_after = records.last().and_then(|r| r.job.as_ref()).map(|j| j.item);
            Json(ItemPage {
                items: records.iter().map(item_view).collect(),
                next_after: next_after.filter(|_| full),
            })
            .into_response()
        }
        Err(e) => problem(e).into_response(),
    }
}

fn checked(p: ItemParams) -> Result<(Option<Status>, u32, u32), String> {
    let status = match p.state.as_deref() {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            let known: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
            format!("state: {s:?} is not one of {}", known.join(", "))
        })?),
    };
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err("limit: from 1 to 1000".into());
    }
    Ok((status, p.after.unwrap_or(0), limit))
}

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("text/csv"))
}

/// Every matching item, read a thousand at a time.
async fn csv(
    resets: &ResetService,
    caller: &Identity,
    id: &str,
    status: Option<Status>,
) -> Response {
    let mut out = csv_record(&[
        "item",
        "user",
        "new_email",
        "tenant",
        "status",
        "problem_type",
        "detail",
        "reset_id",
    ]);
    let mut after = 0;
    loop {
        let page = match resets.job_items(caller, id, status, after, 1000).await {
            Ok(page) => page,
            Err(e) => return problem(e).into_response(),
        };
        for r in &page {
            let v = item_view(r);
            let (kind, detail) = v.problem.as_ref().map_or(("", ""), |p| (p.kind, p.detail));
            out.push_str(&csv_record(&[
                &v.item.to_string(),
                v.user.unwrap_or_default(),
                v.new_email.unwrap_or_default(),
                v.tenant,
                v.status,
                kind,
                detail,
                v.reset_id,
            ]));
        }
        match page.last().and_then(|r| r.job.as_ref()) {
            Some(last) if page.len() == 1000 => after = last.item,
            _ => break,
        }
    }
    let disposition = format!("attachment; filename=\"{id}.csv\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        out,
    )
        .into_response()
}

/// Progress as Server-Sent Events: `progress` now and on every change,
/// `done` when the job is over; the stream also ends when the service
/// begins to shut down (clients reconnect, as EventSource does).
#[instrument(skip_all, fields(job_id = %id))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    let first = match state.resets.job(&caller.identity, &id).await {
        Ok(view) => view,
        Err(e) => return problem(e).into_response(),
    };
    let watch = Watch {
        resets: state.resets.clone(),
        caller: caller.identity,
        closing: state.closing.subscribe(),
        last: None,
        next: Some(first),
        over: false,
    };
    let stream = futures_util::stream::unfold(watch, |mut w| async move {
        let event = w.next_event().await?;
        Some((Ok::<Event, Infallible>(event), w))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

struct Watch {
    resets: std::sync::Arc<ResetService>,
    caller: Identity,
    closing: tokio::sync::watch::Receiver<bool>,
    /// The last JSON sent, so an unchanged job sends nothing.
    last: Option<String>,
    next: Option<JobView>,
    over: bool,
}

impl Watch {
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if self.over || *self.closing.borrow() {
                return None;
            }
            let view = match self.next.take() {
                Some(view) => view,
                None => {
                    tokio::select! {
                        _ = tokio::time::sleep(TICK) => {}
                        _ = self.closing.changed() => return None,
                    }
                    let id = self.last_id()?;
                    self.resets.job(&self.caller, &id).await.ok()?
                }
            };
            let json = serde_json::to_string(&view).ok()?;
            self.over = view.is_over();
            let changed = self.last.as_deref() != Some(json.as_str());
            self.last = Some(json.clone());
            if self.over {
                return Some(Event::default().event("done").data(json));
            }
            if changed {
                return Some(Event::default().event("progress").data(json));
            }
        }
    }

    fn last_id(&self) -> Option<String> {
        let last = self.last.as_deref()?;
        let v: serde_json::Value = serde_json::from_str(last).ok()?;
        v.get("id")?.as_str().map(str::to_owned)
    }
}
