//! The audit log as the person may read it (their own resets, or every
//! reset with `resets:read:all`), with filters, paging and a CSV export.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use tracing::instrument;

use super::api::Call;
use super::html::{self, esc};
use super::rows::{TABLE_HEAD, requester, row};
use super::session::Person;
use crate::http::AppState;
use crate::record::Status;
use crate::reset::jobs::csv_record;

/// The rows a CSV export holds at most (one API page).
const EXPORT_ROWS: u32 = 200;

#[derive(Deserialize, Default)]
pub(super) struct Filters {
    user: Option<String>,
    status: Option<String>,
    ticket: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
}

impl Filters {
    /// The API's query for these filters (dates as whole UTC days).
    fn query(&self, limit: u32) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        let set = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        for (name, value) in [
            ("user", set(&self.user)),
            ("status", set(&self.status)),
            ("ticket", set(&self.ticket)),
            ("cursor", set(&self.cursor)),
        ] {
            if let Some(v) = value {
                pairs.append_pair(name, &v);
            }
        }
        if let Some(day) = set(&self.since) {
            pairs.append_pair("since", &format!("{day}T00:00:00Z"));
        }
        if let Some(day) = set(&self.until) {
            pairs.append_pair("until", &format!("{day}T23:59:59Z"));
        }
        pairs.append_pair("limit", &limit.to_string());
        pairs.finish()
    }

    fn form(&self) -> String {
        let v = |o: &Option<String>| esc(o.as_deref().unwrap_or_default());
        let options: String = std::iter::once("")
            .chain(Status::ALL.iter().map(|s| s.as_str()))
            .map(|s| {
                let selected = if self.status.as_deref() == Some(s) {
                    " selected"
                } else {
                    ""
                };
                format!(
                    "<option value=\"{s}\"{selected}>{}</option>",
                    if s.is_empty() { "any" } else { s }
                )
            })
            .collect();
        format!(
            "<form class=\"filters\" method=\"get\" action=\"/console/audit\">\
             <label for=\"f-user\">Guest or email</label><input id=\"f-user\" name=\"user\" type=\"text\" maxlength=\"256\" value=\"{}\">\
             <label for=\"f-status\">Status</label><select id=\"f-status\" name=\"status\">{options}</select>\
             <label for=\"f-ticket\">Ticket</label><input id=\"f-ticket\" name=\"ticket\" type=\"text\" maxlength=\"128\" value=\"{}\">\
             <label for=\"f-since\">From (UTC day)</label><input id=\"f-since\" name=\"since\" type=\"date\" value=\"{}\">\
             <label for=\"f-until\">To (UTC day)</label><input id=\"f-until\" name=\"until\" type=\"date\" value=\"{}\">\
             <button type=\"submit\">Filter</button></form>",
            v(&self.user),
            v(&self.ticket),
            v(&self.since),
            v(&self.until)
        )
    }
}

#[instrument(skip_all)]
pub(super) async fn log(
    State(state): State<AppState>,
    person: Person,
    Query(filters): Query<Filters>,
) -> Response {
    let answer = Call::get(&person, format!("/v1/resets?{}", filters.query(50)))
        .json(&state)
        .await;
    let mut body = filters.form();
    if !answer.ok() {
        body.push_str(&html::notice("error", &answer.problem()));
        // The form again, with why; the status is the API's.
        let page = html::page(Some(&person.frame()), "Audit log", &body);
        return html::with_status(answer.status, page);
    }
    let items = answer.body["items"].as_array().cloned().unwrap_or_default();
    let export = Filters {
        cursor: None,
        ..filters
    };
    body.push_str(&format!(
        "<p><a href=\"/console/audit.csv?{}\" download>Download as CSV</a></p>",
        esc(&export.query(EXPORT_ROWS))
    ));
    let rows: String = items.iter().map(row).collect();
    body.push_str(&format!("{TABLE_HEAD}{rows}</tbody></table>"));
    if items.is_empty() {
        body.push_str("<p>No resets match.</p>");
    }
    if let Some(next) = answer.body["next_cursor"].as_str() {
        let more = Filters {
            cursor: Some(next.to_owned()),
            ..export
        };
        body.push_str(&format!(
            "<p><a href=\"/console/audit?{}\">Older</a></p>",
            esc(&more.query(50))
        ));
    }
    html::page(Some(&person.frame()), "Audit log", &body)
}

#[instrument(skip_all)]
pub(super) async fn csv(
    State(state): State<AppState>,
    person: Person,
    Query(filters): Query<Filters>,
) -> Response {
    let answer = Call::get(
        &person,
        format!("/v1/resets?{}", filters.query(EXPORT_ROWS)),
    )
    .json(&state)
    .await;
    if !answer.ok() {
        return person.refused(answer.status, "Audit log", &answer.problem());
    }
    let mut out = String::from(
        "id,created_at,status,tenant,guest,guest_object_id,new_email,ticket,reason,requested_by,policy_rule\r\n",
    );
    for r in answer.body["items"].as_array().into_iter().flatten() {
        let cells = [
            r["id"].as_str(),
            r["created_at"].as_str(),
            r["status"].as_str(),
            r["tenant"].as_str(),
            r["target"]["previous_email"]
                .as_str()
                .or(r["user"].as_str()),
            r["target"]["id"].as_str(),
            r["new_email"].as_str(),
            r["ticket"].as_str(),
            r["reason"].as_str(),
            Some(requester(r)),
            r["policy"]["rule"].as_str(),
        ];
        // The jobs' CSV writer: quoting, and formulas defused.
        out.push_str(&csv_record(&cells.map(Option::unwrap_or_default)));
    }
    csv_response(out, "guest-reset-audit.csv")
}

pub(super) fn csv_response(body: String, filename: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    html::secure(headers);
    response
}
