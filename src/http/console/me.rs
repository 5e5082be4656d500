//! "Who am I": the signed-in identity, the permissions the policy grants
//! it (and where), and the rules that apply to it.

use axum::extract::State;
use axum::response::Response;
use serde_json::Value;
use tracing::instrument;

use super::api::Call;
use super::html::{self, esc, facts};
use super::session::Person;
use crate::http::AppState;

#[instrument(skip_all)]
pub(super) async fn show(State(state): State<AppState>, person: Person) -> Response {
    let answer = Call::get(&person, "/v1/whoami").json(&state).await;
    if !answer.ok() {
        return person.refused(answer.status, "Who am I", &answer.problem());
    }
    let me = &answer.body;
    let body = format!(
        "{}<h2>Permissions</h2><ul id=\"permissions\">{}</ul><h2>Rules that apply to you</h2><ul>{}</ul>",
        identity(me),
        or_none(permissions(me)),
        or_none(rules(me))
    );
    html::page(Some(&person.frame()), "Who am I", &body)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("—").to_owned()
}

/// A JSON list of strings as "a, b", or "none".
fn list(v: &Value) -> String {
    let all: Vec<&str> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    match all.is_empty() {
        true => "none".to_owned(),
        false => all.join(", "),
    }
}

fn or_none(items: String) -> String {
    match items.is_empty() {
        true => "<li>none</li>".to_owned(),
        false => items,
    }
}

fn identity(me: &Value) -> String {
    let id = &me["identity"];
    facts(&[
        ("Name", text(&id["name"])),
        ("Sign-in name", text(&id["username"])),
        ("Object id", text(&id["object_id"])),
        ("Issuer", text(&id["issuer"])),
        ("App roles", list(&id["roles"])),
        ("Scopes", list(&id["scopes"])),
        ("Policy version", text(&me["policy_version"])),
    ])
}

/// Each permission held, with the tenants where it holds.
fn permissions(me: &Value) -> String {
    let held = me["tenants"].as_object().into_iter().flatten();
    held.map(|(p, tenants)| {
        format!(
            "<li><code>{}</code> in {}</li>",
            esc(p),
            esc(&list(tenants))
        )
    })
    .collect()
}

fn rules(me: &Value) -> String {
    let rules = me["rules"].as_array().into_iter().flatten();
    rules
        .map(|r| {
            let description = (r["description"].as_str()).map(|d| format!(": {}", esc(d)));
            format!(
                "<li><strong>{}</strong> ({}){}</li>",
                esc(&text(&r["name"])),
                esc(&text(&r["effect"])),
                description.unwrap_or_default()
            )
        })
        .collect()
}
