//! A reset from the console: the dry run's plan with a confirm button,
//! the reset itself (one `Idempotency-Key` per plan, so a second click
//! cannot reset twice), and a reset's page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use tracing::instrument;

use super::api::Call;
use super::approvals;
use super::html::{self, esc, facts, url_part};
use super::posted::Posted;
use super::rows::requester;
use super::session::Person;
use crate::http::AppState;

#[derive(Deserialize)]
pub(super) struct ResetForm {
    tenant: Option<String>,
    new_email: Option<String>,
    ticket: Option<String>,
    reason: Option<String>,
    /// Set by the plan's confirm form: the key the reset is sent with.
    key: Option<String>,
}

impl ResetForm {
    fn body(&self, guest: &str, dry_run: bool) -> Value {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        json!({
            "user": guest, "tenant": text(&self.tenant), "new_email": text(&self.new_email),
            "ticket": text(&self.ticket), "reason": text(&self.reason),
            "send_invitation_message": true, "dry_run": dry_run,
        })
    }

    fn hidden(&self, key: &str, csrf: &str) -> String {
        let field = |name: &str, v: &Option<String>| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                esc(v.as_deref().unwrap_or_default())
            )
        };
        [
            html::csrf_field(csrf),
            field("tenant", &self.tenant),
            field("new_email", &self.new_email),
            field("ticket", &self.ticket),
            field("reason", &self.reason),
            format!(
                "<input type=\"hidden\" name=\"key\" value=\"{}\">",
                esc(key)
            ),
        ]
        .concat()
    }
}

/// The dry run: what the policy says and what would be written to Graph.
#[instrument(skip_all)]
pub(super) async fn plan(
    State(state): State<AppState>,
    Path(guest): Path<String>,
    Posted { person, form }: Posted<ResetForm>,
) -> Response {
    let answer = Call::post_json(&person, "/v1/resets", &form.body(&guest, true))
        .json(&state)
        .await;
    let back = format!(
        "<p><a href=\"/console/guests/{}?tenant={}\">Back to the guest</a></p>",
        esc(&guest),
        url_part(form.tenant.as_deref().unwrap_or_default())
    );
    if !answer.ok() {
        let body = format!("{}{back}", html::notice("error", &answer.problem()));
        return html::with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            html::page(Some(&person.frame()), "The reset would be refused", &body),
        );
    }
    let key = uuid::Uuid::new_v4().to_string();
    let body = format!(
        "{}<form method=\"post\" action=\"/console/guests/{}/reset\">{}<button type=\"submit\">Confirm the reset</button></form>{back}",
        plan_of(&answer.body),
        esc(&guest),
        form.hidden(&key, &person.session.csrf)
    );
    html::page(Some(&person.frame()), "Check the plan", &body)
}

/// A dry run's answer: who, to what, which rule, and each Graph write.
fn plan_of(record: &Value) -> String {
    let guest = (record["target"]["previous_email"].as_str()).or(record["user"].as_str());
    let rows = [
        ("Guest", guest.unwrap_or_default().to_owned()),
        (
            "New sign-in email",
            record["new_email"].as_str().unwrap_or_default().to_owned(),
        ),
        (
            "Allowed by rule",
            record["policy"]["rule"].as_str().unwrap_or("—").to_owned(),
        ),
        ("Invitation email", "sent by Entra".to_owned()),
    ];
    let writes: String = (record["plan"].as_array().into_iter().flatten())
        .map(|call| {
            let body = serde_json::to_string_pretty(&call["body"]).unwrap_or_default();
            let (method, path) = (call["method"].as_str(), call["path"].as_str());
            format!(
                "<li><code>{} {}</code><pre>{}</pre></li>",
                esc(method.unwrap_or_default()),
                esc(path.unwrap_or_default()),
                esc(&body)
            )
        })
        .collect();
    format!(
        "{}<h2>Graph writes</h2><ol class=\"plan\">{writes}</ol>",
        facts(&rows)
    )
}

/// The reset itself; then its page.
#[instrument(skip_all)]
pub(super) async fn confirm(
    State(state): State<AppState>,
    Path(guest): Path<String>,
    Posted { person, form }: Posted<ResetForm>,
) -> Response {
    let key = form
        .key
        .clone()
        .filter(|k| uuid::Uuid::try_parse(k).is_ok())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let call = Call::post_json(&person, "/v1/resets", &form.body(&guest, false))
        .header("idempotency-key", key);
    let answer = call.json(&state).await;
    let id = answer.body["id"]
        .as_str()
        .or(answer.body["reset_id"].as_str());
    match (answer.ok(), id) {
        (_, Some(id)) => html::see_other(&format!("/console/resets/{}", url_part(id))),
        (_, None) => person.refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The reset was refused",
            &answer.problem(),
        ),
    }
}

/// A reset's page: status, guest, policy, approval, problem; approve and
/// deny when the person is among its approvers now.
#[instrument(skip_all)]
pub(super) async fn show(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
) -> Response {
    let answer = Call::get(&person, format!("/v1/resets/{}", url_part(&id)))
        .json(&state)
        .await;
    if !answer.ok() {
        return person.refused(answer.status, "Reset", &answer.problem());
    }
    let r = &answer.body;
    let status = r["status"].as_str().unwrap_or_default();
    let mut body = format!(
        "<p class=\"outcome\"><span class=\"status {}\" id=\"reset-status\">{}</span></p>{}",
        esc(status),
        esc(status),
        record_facts(r)
    );
    if let Some(detail) = r["problem"]["detail"].as_str() {
        body.push_str(&html::notice("error", detail));
    }
    body.push_str(&approvals::decisions(r));
    if status == "awaiting_approval" && approvals::may_decide(&state, &person, &id).await {
        body.push_str(&approvals::forms(&id, &person.session.csrf));
    }
    html::page(Some(&person.frame()), "Reset", &body)
}

/// A reset's record as label/value rows.
fn record_facts(r: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or("—").to_owned();
    let guest = (r["target"]["previous_email"].as_str()).or(r["user"].as_str());
    facts(&[
        ("Status", text(&r["status"])),
        ("Guest", guest.unwrap_or("—").to_owned()),
        ("Guest object id", text(&r["target"]["id"])),
        ("New sign-in email", text(&r["new_email"])),
        ("Tenant", text(&r["tenant"])),
        ("Ticket", text(&r["ticket"])),
        ("Reason", text(&r["reason"])),
        ("Requested by", requester(r).to_owned()),
        ("Requested at", text(&r["created_at"])),
        ("Policy", policy_text(r)),
    ])
}

fn policy_text(r: &Value) -> String {
    let reasons: Vec<&str> = r["policy"]["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if reasons.is_empty() {
        "—".into()
    } else {
        reasons.join("; ")
    }
}
