//! The approvals inbox: the resets waiting for this person, each with an
//! approve form (comment optional) and a deny form (comment required).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use tracing::instrument;

use super::api::Call;
use super::html::{self, esc, url_part};
use super::posted::Posted;
use super::rows::{TABLE_HEAD, row};
use super::session::Person;
use crate::http::AppState;

#[instrument(skip_all)]
pub(super) async fn inbox(State(state): State<AppState>, person: Person) -> Response {
    let answer = Call::get(&person, "/v1/approvals").json(&state).await;
    if !answer.ok() {
        return person.refused(answer.status, "Approvals", &answer.problem());
    }
    let items = answer.body["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        return html::page(
            Some(&person.frame()),
            "Approvals",
            "<p>Nothing waits for your approval.</p>",
        );
    }
    let cards: String = items
        .iter()
        .map(|r| card(r, &person.session.csrf))
        .collect();
    html::page(Some(&person.frame()), "Approvals", &cards)
}

fn card(r: &Value, csrf: &str) -> String {
    let id = r["id"].as_str().unwrap_or_default();
    let why = r["approval"]["reason"].as_str().unwrap_or_default();
    format!(
        "<article class=\"card\" aria-labelledby=\"a-{id}\"><h2 id=\"a-{id}\">{}</h2>{TABLE_HEAD}{}</tbody></table>\
         <p>Why approval is needed: {}</p><p>Expires {}.</p><p>Reason given: {}</p>{}</article>",
        esc(r["target"]["previous_email"]
            .as_str()
            .or(r["user"].as_str())
            .unwrap_or(id)),
        row(r),
        esc(why),
        esc(r["approval"]["expires_at"].as_str().unwrap_or("—")),
        esc(r["reason"].as_str().unwrap_or("—")),
        forms(id, csrf),
        id = esc(id)
    )
}

/// Approve and deny, for a reset the person may decide.
pub(super) fn forms(id: &str, csrf: &str) -> String {
    let id = esc(id);
    let field = html::csrf_field(csrf);
    format!(
        "<div class=\"decide\"><form method=\"post\" action=\"/console/resets/{id}/approve\">{field}\
         <label for=\"approve-{id}\">Comment (optional)</label><input id=\"approve-{id}\" name=\"comment\" type=\"text\" maxlength=\"1000\">\
         <button type=\"submit\">Approve</button></form>\
         <form method=\"post\" action=\"/console/resets/{id}/deny\">{field}\
         <label for=\"deny-{id}\">Why deny (required)</label><input id=\"deny-{id}\" name=\"comment\" type=\"text\" required maxlength=\"1000\">\
         <button type=\"submit\" class=\"danger\">Deny</button></form></div>"
    )
}

/// The decisions made so far, if the reset needed approval.
pub(super) fn decisions(r: &Value) -> String {
    let Some(list) = r["approval"]["decisions"].as_array() else {
        return String::new();
    };
    let items: String = list
        .iter()
        .map(|d| {
            let who = d["approver"]["name"]
                .as_str()
                .or(d["approver"]["subject"].as_str())
                .unwrap_or_default();
            let comment = d["comment"]
                .as_str()
                .map(|c| format!(": “{}”", esc(c)))
                .unwrap_or_default();
            format!(
                "<li>{} by {} at {}{comment}</li>",
                esc(d["verdict"].as_str().unwrap_or_default()),
                esc(who),
                esc(d["at"].as_str().unwrap_or_default())
            )
        })
        .collect();
    let needed = r["approval"]["count"].as_u64().unwrap_or(1);
    format!(
        "<h2>Approval</h2><p>{} approval(s) needed.</p><ul>{items}</ul>",
        needed
    )
}

/// Whether the reset is in the person's inbox now.
#[instrument(skip_all)]
pub(super) async fn may_decide(state: &AppState, person: &Person, id: &str) -> bool {
    let answer = Call::get(person, "/v1/approvals").json(state).await;
    let items = answer.body["items"].as_array().cloned().unwrap_or_default();
    items.iter().any(|r| r["id"].as_str() == Some(id))
}

#[derive(Deserialize)]
pub(super) struct Decision {
    comment: Option<String>,
}

#[instrument(skip_all)]
pub(super) async fn approve(
    state: State<AppState>,
    id: Path<String>,
    posted: Posted<Decision>,
) -> Response {
    decide(state, id, posted, "approve").await
}

#[instrument(skip_all)]
pub(super) async fn deny(
    state: State<AppState>,
    id: Path<String>,
    posted: Posted<Decision>,
) -> Response {
    decide(state, id, posted, "deny").await
}

async fn decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { person, form }: Posted<Decision>,
    verdict: &str,
) -> Response {
    let comment = form
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let uri = format!("/v1/resets/{}/{verdict}", url_part(&id));
    let answer = Call::post_json(&person, uri, &json!({ "comment": comment }))
        .json(&state)
        .await;
    if answer.ok() {
        return html::see_other(&format!("/console/resets/{}", url_part(&id)));
    }
    let body = format!(
        "{}<p><a href=\"/console/approvals\">Back to approvals</a></p>",
        html::notice("error", &answer.problem())
    );
    html::with_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        html::page(Some(&person.frame()), "Not done", &body),
    )
}
