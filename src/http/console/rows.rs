//! Resets as table rows: the guest's history, the inbox, the audit log.

use serde_json::Value;

use super::html::esc;

/// A table of resets: its head (the rows come from [`row`]).
pub(super) const TABLE_HEAD: &str = "<table><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Status</th>\
    <th scope=\"col\">Guest</th><th scope=\"col\">New email</th><th scope=\"col\">Ticket</th>\
    <th scope=\"col\">Requested by</th></tr></thead><tbody>";

/// One reset as a table row, linking to its page.
pub(super) fn row(r: &Value) -> String {
    let id = r["id"].as_str().unwrap_or_default();
    let guest = (r["target"]["previous_email"].as_str())
        .or(r["user"].as_str())
        .unwrap_or("—");
    format!(
        "<tr><td><a href=\"/console/resets/{}\">{}</a></td><td><span class=\"status {}\">{}</span></td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        esc(id),
        esc(r["created_at"].as_str().unwrap_or_default()),
        esc(r["status"].as_str().unwrap_or_default()),
        esc(r["status"].as_str().unwrap_or_default()),
        esc(guest),
        esc(r["new_email"].as_str().unwrap_or("—")),
        esc(r["ticket"].as_str().unwrap_or("—")),
        esc(requester(r))
    )
}

pub(super) fn requester(r: &Value) -> &str {
    let by = &r["requested_by"];
    by["name"]
        .as_str()
        .or(by["subject"].as_str())
        .unwrap_or("—")
}
