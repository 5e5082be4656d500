//! Bulk jobs from the console: paste or pick a CSV, see the dry run's
//! report, start it, watch its progress live (the API's event stream), and
//! download each item's result.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use tracing::instrument;

use super::api::Call;
use super::html::{self, esc, url_part};
use super::posted::Posted;
use super::session::Person;
use super::tenants_for;
use crate::http::AppState;
use crate::policy::Permission;

fn upload_form(csrf: &str, csv: &str, tenants: &[String], tenant: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/console/jobs/plan\">{}\
         <label for=\"csv-file\">CSV file</label><input id=\"csv-file\" type=\"file\" accept=\".csv,text/csv\" data-fills=\"csv\">\
         <label for=\"csv\">CSV (columns user, new_email, ticket, reason; optional tenant)</label>\
         <textarea id=\"csv\" name=\"csv\" rows=\"8\" required>{}</textarea>\
         {}\
         <button type=\"submit\">Check (dry run)</button></form>",
        html::csrf_field(csrf),
        esc(csv),
        html::tenant_field("job-tenant", tenants, tenant)
    )
}

#[instrument(skip_all)]
pub(super) async fn list(State(state): State<AppState>, person: Person) -> Response {
    let answer = Call::get(&person, "/v1/jobs").json(&state).await;
    let mut body = String::new();
    if person.has(Permission::JobsCreate) {
        body.push_str(&format!(
            "<h2>New job</h2>{}",
            upload_form(
                &person.session.csrf,
                "",
                &tenants_for(&state, &person, Permission::JobsCreate),
                ""
            )
        ));
    }
    let jobs = answer.body["items"].as_array().cloned().unwrap_or_default();
    let rows: String = jobs
        .iter()
        .map(|j| {
            let id = j["id"].as_str().unwrap_or_default();
            format!(
                "<tr><td><a href=\"/console/jobs/{}\">{}</a></td><td>{}</td><td>{} / {}</td></tr>",
                esc(id),
                esc(j["created_at"].as_str().unwrap_or_default()),
                esc(j["state"].as_str().unwrap_or_default()),
                j["done"].as_u64().unwrap_or(0),
                j["total"].as_u64().unwrap_or(0)
            )
        })
        .collect();
    body.push_str(&format!(
        "<h2>Jobs</h2><table><thead><tr><th scope=\"col\">Created</th><th scope=\"col\">State</th>\
        <th scope=\"col\">Done</th></tr></thead><tbody>{rows}</tbody></table>"
    ));
    html::page(Some(&person.frame()), "Jobs", &body)
}

#[derive(Deserialize)]
pub(super) struct JobForm {
    csv: Option<String>,
    tenant: Option<String>,
}

impl JobForm {
    fn call<'a>(&self, person: &'a Person, dry_run: bool) -> Call<'a> {
        let mut uri = format!("/v1/jobs?dry_run={dry_run}");
        if let Some(t) = self
            .tenant
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            uri.push_str(&format!("&tenant={}", url_part(t)));
        }
        let csv = self.csv.clone().unwrap_or_default().replace("\r\n", "\n");
        Call {
            method: Method::POST,
            uri,
            body: Some(("text/csv", Bytes::from(csv))),
            headers: Vec::new(),
            person,
        }
    }
}

#[instrument(skip_all)]
pub(super) async fn plan(
    State(state): State<AppState>,
    Posted { person, form }: Posted<JobForm>,
) -> Response {
    let answer = form.call(&person, true).json(&state).await;
    let (csv, tenant) = (
        form.csv.as_deref().unwrap_or_default(),
        form.tenant.as_deref().unwrap_or_default(),
    );
    if !answer.ok() {
        let body = format!(
            "{}{}",
            html::notice("error", &answer.problem()),
            upload_form(
                &person.session.csrf,
                csv,
                &tenants_for(&state, &person, Permission::JobsCreate),
                tenant
            )
        );
        return html::with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            html::page(Some(&person.frame()), "Check the job", &body),
        );
    }
    let body = format!(
        "{}<form method=\"post\" action=\"/console/jobs\">{}<input type=\"hidden\" name=\"csv\" value=\"{}\">\
         <input type=\"hidden\" name=\"tenant\" value=\"{}\"><button type=\"submit\">Start the job</button></form>",
        report_of(&answer.body),
        html::csrf_field(&person.session.csrf),
        esc(csv),
        esc(tenant)
    );
    html::page(Some(&person.frame()), "Check the job", &body)
}

#[instrument(skip_all)]
pub(super) async fn create(
    State(state): State<AppState>,
    Posted { person, form }: Posted<JobForm>,
) -> Response {
    let answer = form.call(&person, false).json(&state).await;
    match (answer.ok(), answer.body["id"].as_str()) {
        (true, Some(id)) => html::see_other(&format!("/console/jobs/{}", url_part(id))),
        _ => person.refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The job was refused",
            &answer.problem(),
        ),
    }
}

#[instrument(skip_all)]
pub(super) async fn show(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
) -> Response {
    let answer = Call::get(&person, format!("/v1/jobs/{}", url_part(&id)))
        .json(&state)
        .await;
    if !answer.ok() {
        return person.refused(answer.status, "Job", &answer.problem());
    }
    let job = &answer.body;
    let (done, total) = (
        job["done"].as_u64().unwrap_or(0),
        job["total"].as_u64().unwrap_or(0),
    );
    let body = format!(
        "<section class=\"job\" data-events=\"/console/jobs/{id}/events\">\
         <label for=\"job-progress\">Progress</label>\
         <progress id=\"job-progress\" max=\"{total}\" value=\"{done}\">{done} of {total}</progress>\
         <p id=\"job-status\" role=\"status\" aria-live=\"polite\">{}</p>{}</section>\
         <p><a href=\"/console/jobs/{id}/results.csv\" download>Download the results (CSV)</a></p>",
        esc(&summary(job)),
        counts(job),
        id = esc(&id)
    );
    html::page(Some(&person.frame()), "Job", &body)
}

/// A dry run's report: the counts, then each item's planned outcome.
fn report_of(report: &Value) -> String {
    let count = |v: &Value| v.as_u64().unwrap_or(0);
    let rows: String = (report["items"].as_array().into_iter().flatten())
        .map(|i| {
            let text = |v: &Value| esc(v.as_str().unwrap_or("—"));
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                count(&i["item"]),
                text(&i["user"]),
                text(&i["new_email"]),
                text(&i["outcome"]),
                esc(i["problem"]["detail"].as_str().unwrap_or_default())
            )
        })
        .collect();
    format!(
        "<p id=\"dry-run-summary\">{} item(s): {} would succeed, {} refused. Nothing was written yet.</p>\
         <table><thead><tr><th scope=\"col\">Item</th><th scope=\"col\">Guest</th><th scope=\"col\">New email</th>\
         <th scope=\"col\">Outcome</th><th scope=\"col\">Why</th></tr></thead><tbody>{rows}</tbody></table>",
        count(&report["total"]),
        count(&report["counts"]["would_succeed"]),
        count(&report["counts"]["refused"])
    )
}

/// "running: 3 of 10 done (30%)", as the page and its script write it.
fn summary(job: &Value) -> String {
    let (done, total) = (
        job["done"].as_u64().unwrap_or(0),
        job["total"].as_u64().unwrap_or(0),
    );
    let percent = done.saturating_mul(100).checked_div(total).unwrap_or(100);
    format!(
        "{}: {done} of {total} done ({percent}%)",
        job["state"].as_str().unwrap_or_default()
    )
}

fn counts(job: &Value) -> String {
    let items: String = job["counts"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("<li>{}: {}</li>", esc(k), v.as_u64().unwrap_or(0)))
        .collect();
    format!("<ul id=\"job-counts\">{items}</ul>")
}

/// The API's event stream, as it is.
#[instrument(skip_all)]
pub(super) async fn events(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
) -> Response {
    let mut response = Call::get(&person, format!("/v1/jobs/{}/events", url_part(&id)))
        .send(&state)
        .await;
    html::secure(response.headers_mut());
    response
}

/// Every item's result, as the API's CSV.
#[instrument(skip_all)]
pub(super) async fn results(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
) -> Response {
    let call = Call::get(&person, format!("/v1/jobs/{}/items", url_part(&id)))
        .header("accept", "text/csv");
    let mut response = call.send(&state).await;
    let name = format!(
        "attachment; filename=\"job-{}.csv\"",
        id.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&name) {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    html::secure(response.headers_mut());
    response
}
