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
    let id = &me["identity"];
    let text = |v: &Value| v.as_str().unwrap_or("—").to_owned();
    let list = |v: &Value| {
        let all: Vec<&str> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if all.is_empty() {
            "none".to_owned()
        } else {
            all.join(", ")
        }
    };
    let rows = [
        ("Name", text(&id["name"])),
        ("Sign-in name", text(&id["username"])),
        ("Object id", text(&id["object_id"])),
        ("Issuer", text(&id["issuer"])),
        ("App roles", list(&id["roles"])),
        ("Scopes", list(&id["scopes"])),
        ("Policy version", text(&me["policy_version"])),
    ];
    let permissions: String = me["tenants"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(p, tenants)| {
            format!(
                "<li><code>{}</code> in {}</li>",
                esc(p),
                esc(&list(tenants))
            )
        })
        .collect();
    let rules: String = me["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "<li><strong>{}</strong> ({}){}</li>",
                esc(&text(&r["name"])),
                esc(&text(&r["effect"])),
                r["description"]
                    .as_str()
                    .map(|d| format!(": {}", esc(d)))
                    .unwrap_or_default()
            )
        })
        .collect();
    let body = format!(
        "{}<h2>Permissions</h2><ul id=\"permissions\">{}</ul><h2>Rules that apply to you</h2><ul>{}</ul>",
        facts(&rows),
        if permissions.is_empty() {
            "<li>none</li>".to_owned()
        } else {
            permissions
        },
        if rules.is_empty() {
            "<li>none</li>".to_owned()
        } else {
            rules
        }
    );
    html::page(Some(&person.frame()), "Who am I", &body)
}
