//! Find a guest, and the guest's page: details, sponsors, what the
//! person's rules say, recent resets, and the reset form when the person
//! may reset this guest.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use tracing::instrument;

use super::api::Call;
use super::html::{self, esc, facts, url_part};
use super::session::Person;
use super::tenants_for;
use crate::http::AppState;
use crate::policy::Permission;

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    search: Option<String>,
    tenant: Option<String>,
}

fn search_form(text: &str, tenants: &[String], tenant: &str) -> String {
    format!(
        "<form class=\"search\" method=\"get\" action=\"/console/guests\" role=\"search\">\
         <label for=\"search\">Name or email address</label>\
         <input id=\"search\" name=\"search\" type=\"search\" required maxlength=\"120\" value=\"{}\" autofocus>\
         {}<button type=\"submit\">Find</button></form>",
        esc(text),
        html::tenant_field("tenant", tenants, tenant)
    )
}

#[instrument(skip_all)]
pub(super) async fn home(State(state): State<AppState>, person: Person) -> Response {
    let mut body = String::new();
    if !person.has(Permission::GuestsRead) {
        body.push_str(&html::notice(
            "info",
            "Your roles do not include looking guests up (guests:read).",
        ));
    } else {
        body.push_str(&search_form(
            "",
            &tenants_for(&state, &person, Permission::GuestsRead),
            "",
        ));
    }
    html::page(Some(&person.frame()), "Find a guest", &body)
}

#[instrument(skip_all)]
pub(super) async fn search(
    State(state): State<AppState>,
    person: Person,
    Query(q): Query<SearchQuery>,
) -> Response {
    let text = q.search.unwrap_or_default();
    let tenant = q.tenant.unwrap_or_default();
    let mut uri = format!("/v1/guests?search={}", url_part(&text));
    if !tenant.trim().is_empty() {
        uri.push_str(&format!("&tenant={}", url_part(&tenant)));
    }
    let answer = Call::get(&person, uri).json(&state).await;
    let mut body = search_form(
        &text,
        &tenants_for(&state, &person, Permission::GuestsRead),
        &tenant,
    );
    if !answer.ok() {
        body.push_str(&html::notice("error", &answer.problem()));
        // The form again, with why; the status is the API's.
        let page = html::page(Some(&person.frame()), "Find a guest", &body);
        return html::with_status(answer.status, page);
    }
    let guests = answer.body["guests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let found_in = answer.body["tenant"].as_str().unwrap_or_default();
    body.push_str(&results(&guests, found_in));
    html::page(Some(&person.frame()), "Find a guest", &body)
}

fn results(guests: &[Value], tenant: &str) -> String {
    if guests.is_empty() {
        return html::notice(
            "info",
            "No guest matches. Graph's index may take a few minutes to show a guest invited just now.",
        );
    }
    let rows: String = guests.iter().map(|g| {
        let id = g["id"].as_str().unwrap_or_default();
        let reach = match g["within_rules"].as_bool() {
            Some(true) => "within your rules",
            Some(false) => "outside your rules",
            None => "see the guest's page",
        };
        format!(
            "<tr><td><a href=\"/console/guests/{}?tenant={}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(id), url_part(tenant), esc(g["display_name"].as_str().unwrap_or(id)),
            esc(g["mail"].as_str().unwrap_or("")), esc(g["external_user_state"].as_str().unwrap_or("")), reach
        )
    }).collect();
    format!(
        "<table><caption>{} guest(s) in {}</caption><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Mail</th>\
         <th scope=\"col\">Invitation</th><th scope=\"col\">Your rules</th></tr></thead><tbody>{rows}</tbody></table>",
        guests.len(),
        esc(tenant)
    )
}

#[derive(Deserialize)]
pub(super) struct TenantQuery {
    tenant: Option<String>,
}

#[instrument(skip_all)]
pub(super) async fn show(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
    Query(q): Query<TenantQuery>,
) -> Response {
    let mut uri = format!("/v1/guests/{}", url_part(&id));
    if let Some(t) = q.tenant.as_deref().filter(|t| !t.trim().is_empty()) {
        uri.push_str(&format!("?tenant={}", url_part(t)));
    }
    let answer = Call::get(&person, uri).json(&state).await;
    if !answer.ok() {
        return person.refused(answer.status, "Guest", &answer.problem());
    }
    let guest = &answer.body;
    let title = guest["display_name"].as_str().unwrap_or(&id).to_owned();
    let body = [
        details(guest),
        sponsors(guest),
        reach(guest),
        reset_form(&person, guest),
        history(guest),
    ]
    .concat();
    html::page(Some(&person.frame()), &title, &body)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("—").to_owned()
}

fn details(g: &Value) -> String {
    let others: Vec<&str> = g["other_mails"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let roles: Vec<&str> = g["directory_roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let rows = [
        ("Object id", text(&g["id"])),
        ("Tenant", text(&g["tenant"])),
        ("Mail", text(&g["mail"])),
        (
            "Other mails",
            if others.is_empty() {
                "—".into()
            } else {
                others.join(", ")
            },
        ),
        ("User principal name", text(&g["user_principal_name"])),
        ("Invitation", text(&g["external_user_state"])),
        ("Since", text(&g["external_user_state_change_date_time"])),
        (
            "Directory roles",
            if roles.is_empty() {
                "none".into()
            } else {
                roles.join(", ")
            },
        ),
    ];
    format!(
        "<section aria-labelledby=\"details\"><h2 id=\"details\">Details</h2>{}</section>",
        facts(&rows)
    )
}

fn sponsors(g: &Value) -> String {
    let list = g["sponsors"].as_array().cloned().unwrap_or_default();
    let items: String = list
        .iter()
        .map(|s| {
            let name = s["display_name"]
                .as_str()
                .or(s["id"].as_str())
                .unwrap_or_default();
            format!(
                "<li>{} ({})</li>",
                esc(name),
                esc(s["kind"].as_str().unwrap_or("user"))
            )
        })
        .collect();
    let items = if list.is_empty() {
        "<li>No sponsors</li>".to_owned()
    } else {
        items
    };
    format!(
        "<section aria-labelledby=\"sponsors\"><h2 id=\"sponsors\">Sponsors</h2><ul>{items}</ul></section>"
    )
}

fn reach(g: &Value) -> String {
    let rules: Vec<&str> = g["reach"]["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let note = match (g["reach"]["blocked"].as_str(), rules.is_empty()) {
        (Some(why), _) => html::notice("warn", &format!("No reset is possible: {why}.")),
        (None, true) => html::notice(
            "warn",
            "Outside your rules: none of your rules covers this guest.",
        ),
        (None, false) => html::notice("ok", &format!("Within your rules: {}.", rules.join(", "))),
    };
    format!("<section aria-labelledby=\"rules\"><h2 id=\"rules\">Your rules</h2>{note}</section>")
}

fn reset_form(person: &Person, g: &Value) -> String {
    let within = g["within_rules"].as_bool() == Some(true);
    if !person.has(Permission::ResetsCreate) || !within {
        return String::new();
    }
    let id = g["id"].as_str().unwrap_or_default();
    format!(
        "<section aria-labelledby=\"reset\"><h2 id=\"reset\">Reset redemption</h2>\
         <p>First a dry run: you see what would be written to Graph before anything is.</p>\
         <form method=\"post\" action=\"/console/guests/{}/plan\">{}\
         <input type=\"hidden\" name=\"tenant\" value=\"{}\">\
         <label for=\"new_email\">New sign-in email</label>\
         <input id=\"new_email\" name=\"new_email\" type=\"email\" required maxlength=\"254\" value=\"{}\">\
         <label for=\"ticket\">Ticket</label><input id=\"ticket\" name=\"ticket\" type=\"text\" maxlength=\"128\">\
         <label for=\"reason\">Reason</label><textarea id=\"reason\" name=\"reason\" rows=\"3\" maxlength=\"1000\"></textarea>\
         <p class=\"hint\">Entra emails the guest a new invitation; the console never shows redeem links.</p>\
         <button type=\"submit\">Plan the reset</button></form></section>",
        esc(id),
        html::csrf_field(&person.session.csrf),
        esc(g["tenant"].as_str().unwrap_or_default()),
        esc(g["mail"].as_str().unwrap_or_default())
    )
}

fn history(g: &Value) -> String {
    let resets = g["recent_resets"].as_array().cloned().unwrap_or_default();
    if resets.is_empty() {
        return "<section aria-labelledby=\"history\"><h2 id=\"history\">History</h2><p>No resets you may read.</p></section>".into();
    }
    let rows: String = resets.iter().map(super::rows::row).collect();
    format!(
        "<section aria-labelledby=\"history\"><h2 id=\"history\">History</h2>{}{rows}</tbody></table></section>",
        super::rows::TABLE_HEAD
    )
}
