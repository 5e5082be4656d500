//! `PATCH /v1.0/users/{id | userPrincipalName}`: the writes the reset flow needs
//! (`otherMails`, `mail`, `displayName`) validated as the directory validates them.

use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::Emulator;
use super::bearer::{Caller, WRITE_MAIL, WRITE_USERS};
use super::errors::GraphError;
use super::schema;
use super::state::{State as Directory, text, user_emails};
use super::users::require;

/// otherMails limits from the user resource page (graph.md §2.1).
const MAX_OTHER_MAILS: usize = 250;
const MAX_OTHER_MAIL_LEN: usize = 250;
/// Properties User-Mail.ReadWrite.All may write on its own.
const MAIL_PROPERTIES: &[&str] = &["mail", "otherMails"];

pub(super) async fn patch_user(
    State(emulator): State<Emulator>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Response, GraphError> {
    if !caller.may(WRITE_USERS) && !caller.may(WRITE_MAIL) {
        return Err(GraphError::insufficient_privileges());
    }
    let changes = parse_changes(&body)?;
    if !changes
        .keys()
        .all(|k| MAIL_PROPERTIES.contains(&k.as_str()))
    {
        require(&caller, WRITE_USERS)?;
    }
    let mut state = emulator.lock();
    let index = state
        .user_index(&key)
        .ok_or_else(|| GraphError::resource_not_found(&key))?;
    check_mail_conflict(&state, index, &changes)?;
    let state = &mut *state;
    if let Some(user) = state.users.get_mut(index) {
        let before: Vec<String> = user_emails(user).map(str::to_lowercase).collect();
        apply(user, changes);
        let id = text(user, "id").unwrap_or(&key);
        (state.replication).added(id, &before, user_emails(user), Instant::now());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The body as canonical property names with validated values.
fn parse_changes(body: &[u8]) -> Result<Map<String, Value>, GraphError> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return Err(GraphError::unreadable_body());
    };
    let mut changes = Map::new();
    for (name, value) in object {
        let Some(property) = schema::user_property(&name) else {
            // OData's message for a property the type does not declare.
            return Err(GraphError::bad_request(format!(
                "The property '{name}' does not exist on type '{}'. Make sure to only use property names that are defined by the type or mark the type as open type.",
                "microsoft.graph.user"
            )));
        };
        if schema::is_user_read_only(property) {
            // UNVERIFIED wording; Request_BadRequest is the directory's validation code.
            let message = format!("Property '{property}' is read-only and cannot be set.");
            return Err(GraphError::directory_bad_request(message));
        }
        check_value(property, &value)?;
        changes.insert(property.to_owned(), value);
    }
    Ok(changes)
}

fn check_value(property: &str, value: &Value) -> Result<(), GraphError> {
    let valid = match property {
        "otherMails" => value
            .as_array()
            .is_some_and(|items| valid_other_mails(items)),
        "displayName" => value
            .as_str()
            .is_some_and(|s| !s.trim().is_empty() && s.chars().count() <= 256),
        "mail" => value.is_null() || value.as_str().is_some_and(looks_like_address),
        "accountEnabled" => value.is_boolean(),
        _ => true, // other writable properties are stored as given
    };
    if valid {
        return Ok(());
    }
    // The directory's wording for a value it rejects.
    let message = format!("Invalid value specified for property '{property}' of resource 'User'.");
    Err(GraphError::directory_bad_request(message))
}

/// ≤250 ASCII strings of ≤250 characters each; the docs forbid accented characters.
fn valid_other_mails(items: &[Value]) -> bool {
    items.len() <= MAX_OTHER_MAILS
        && items.iter().all(|item| {
            item.as_str()
                .is_some_and(|s| s.is_ascii() && !s.is_empty() && s.len() <= MAX_OTHER_MAIL_LEN)
        })
}

fn looks_like_address(value: &str) -> bool {
    let mut parts = value.splitn(2, '@');
    let local = parts.next().unwrap_or_default();
    let domain = parts.next().unwrap_or_default();
    !local.is_empty()
        && domain.contains('.')
        && !domain.contains('@')
        && !value.contains(char::is_whitespace)
}

/// A new `mail` must not already be another object's mail or proxy address.
fn check_mail_conflict(
    state: &Directory,
    index: usize,
    changes: &Map<String, Value>,
) -> Result<(), GraphError> {
    let Some(mail) = changes.get("mail").and_then(Value::as_str) else {
        return Ok(());
    };
    let own_id = state
        .users
        .get(index)
        .and_then(|u| u.get("id"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !state.address_taken_by_other(mail, own_id) {
        return Ok(());
    }
    let message = "Another object with the same value for property proxyAddresses already exists.";
    Err(GraphError::directory_bad_request(message).with_detail("ObjectConflict", "proxyAddresses"))
}

/// Writes the changes; setting `mail` also makes it the primary SMTP proxy address, as
/// the directory does (graph.md §2.1).
fn apply(user: &mut Map<String, Value>, changes: Map<String, Value>) {
    if let Some(mail) = changes.get("mail") {
        let mut proxies: Vec<Value> = super::state::strings(user, "proxyAddresses")
            .filter(|p| !p.starts_with("SMTP:"))
            .map(Value::from)
            .collect();
        let old_primary = user
            .get("mail")
            .and_then(Value::as_str)
            .map(|m| format!("smtp:{m}"));
        proxies.extend(old_primary.map(Value::from));
        if let Some(mail) = mail.as_str() {
            proxies.insert(0, Value::from(format!("SMTP:{mail}")));
        }
        user.insert("proxyAddresses".to_owned(), Value::Array(proxies));
    }
    user.extend(changes);
}
