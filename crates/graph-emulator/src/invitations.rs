//! `POST /v1.0/invitations`: invite a new guest, or reset the redemption status of an
//! existing one (graph.md §1). Also answers `GET /invitations` the way Graph does.

use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::adversary::AppliedReset;
use super::bearer::{Caller, INVITE, RESET_REDEMPTION};
use super::envelope::graph_json;
use super::errors::GraphError;
use super::invitation_request::{InvitationRequest, ValidInvitation, reset_target, validate};
use super::state::{State as Directory, text, user_emails};
use super::{Emulator, clock, guests};

/// The invitation service names Graph's app id and its internal route in this message
/// (graph.md §3.4); the 401 status is UNVERIFIED and taken from the code.
fn no_invite_permission(tenant_id: &str) -> GraphError {
    let message = format!(
        "Insufficient privileges to perform requested operation by the application '00000003-0000-0000-c000-000000000000'. ControllerName=MSGraphInviteAPI, ActionName=CreateInvite, URL absolute path=/api/{tenant_id}/invites"
    );
    GraphError::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
}

fn generic_forbidden() -> GraphError {
    GraphError::new(
        StatusCode::FORBIDDEN,
        "Forbidden",
        "Generic authorization exception.",
    )
}

pub(super) async fn create_invitation(
    State(emulator): State<Emulator>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    if !caller.may(INVITE) {
        return Err(no_invite_permission(&emulator.lock().tenant.id));
    }
    let invitation = validate(&body)?;
    if invitation.request.reset_redemption && !caller.may(RESET_REDEMPTION) {
        // User.Invite.All alone cannot reset (graph.md §1.5, §1.6 rule 4).
        return Err(generic_forbidden());
    }
    let mut state = emulator.lock();
    let index = match reset_target(&invitation.request) {
        Some(id) => existing_target(&state, id, &invitation, &caller)?,
        None => guests::find_or_create(&mut state, &invitation),
    };
    let entity = invite(&mut state, index, &invitation);
    if invitation.request.reset_redemption {
        let applied = applied_reset(&entity, &invitation, &headers);
        state.applied_resets.push(applied);
    }
    Ok(graph_json(StatusCode::CREATED, entity))
}

/// The record of a reset for `Emulator::applied_resets`; the client's own id (not the
/// one Graph would make up) so tests can match it to the attempt that caused it.
fn applied_reset(
    entity: &Value,
    invitation: &ValidInvitation,
    headers: &HeaderMap,
) -> AppliedReset {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    AppliedReset {
        user_id: text(&entity["invitedUser"]["id"]),
        invitation_id: text(&entity["id"]),
        email: invitation.email.clone(),
        client_request_id: (headers.get("client-request-id"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        at: clock::rfc3339(),
    }
}

/// Graph serves only POST here; GET answered 404 `UnknownError` with an HTML page in the
/// message (graph.md §1.1).
pub(super) async fn list_invitations() -> GraphError {
    let message = "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\"><html><head><title>404 - File or directory not found.</title></head><body><h2>404 - File or directory not found.</h2></body></html>";
    GraphError::new(StatusCode::NOT_FOUND, "UnknownError", message)
}

/// Checks for an invitation naming `invitedUser.id`: the user exists, holds no directory
/// role (app-only resets only), and the address is one of the user's emails.
fn existing_target(
    state: &Directory,
    id: &str,
    invitation: &ValidInvitation,
    caller: &Caller,
) -> Result<usize, GraphError> {
    let index = state
        .user_index(id)
        .ok_or_else(|| GraphError::resource_not_found(id))?;
    let user = state
        .users
        .get(index)
        .ok_or_else(|| GraphError::resource_not_found(id))?;
    let object_id = text(user, "id").unwrap_or(id);
    // App-only resets are refused for targets holding any role, directly or via a group
    // (graph.md §1.5); the status and message are the documented 403 neighbour.
    if invitation.request.reset_redemption
        && caller.app_only
        && state.holds_directory_role(object_id)
    {
        return Err(generic_forbidden());
    }
    let wanted = invitation.email.to_lowercase();
    // An address written moments ago may not have reached the invitation service yet
    // (replication.rs); it then fails exactly like an address that is not there.
    let replicated = (state.replication).visible(object_id, &wanted, Instant::now());
    if !replicated || !user_emails(user).any(|e| e.to_lowercase() == wanted) {
        return Err(GraphError::bad_request(
            "The email you're using to invite this user doesn't match any emails on the user object. Please add this email to the user object and try again.",
        ));
    }
    Ok(index)
}

/// Applies the side effects and builds the 201 entity.
fn invite(state: &mut Directory, index: usize, invitation: &ValidInvitation) -> Value {
    let tenant_id = state.tenant.id.clone();
    let invitation_id = uuid::Uuid::new_v4().to_string();
    let redeem_url = redeem_url(&tenant_id, &invitation_id);
    let request = &invitation.request;
    let offset_ms = state.clock_offset_ms;
    let Some(user) = state.users.get_mut(index) else {
        return Value::Null;
    };
    // A reset sends the guest back to PendingAcceptance until they redeem again (graph.md
    // §1.6 rule 6, UNVERIFIED but logical); so does converting an internal user.
    if request.reset_redemption || user.get("externalUserState").is_none_or(Value::is_null) {
        set_pending(user, offset_ms);
    }
    let invited_user = json!({
        "id": user.get("id").cloned().unwrap_or(Value::Null),
        "userPrincipalName": user.get("userPrincipalName").cloned().unwrap_or(Value::Null),
    });
    let entity = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#invitations/$entity",
        "id": invitation_id,
        "inviteRedeemUrl": redeem_url,
        "invitedUserDisplayName": request.invited_user_display_name,
        "invitedUserType": request.invited_user_type.as_deref().unwrap_or("Guest"),
        "invitedUserEmailAddress": invitation.email,
        "sendInvitationMessage": request.send_invitation_message,
        "resetRedemption": request.reset_redemption,
        "inviteRedirectUrl": invitation.redirect_url,
        "status": "PendingAcceptance",
        "invitedUserMessageInfo": message_info(request),
        "invitedUser": invited_user,
    });
    if request.send_invitation_message {
        state.outbox.push(email(&entity));
    }
    entity
}

fn set_pending(user: &mut Map<String, Value>, clock_offset_ms: i64) {
    user.insert(
        "externalUserState".to_owned(),
        Value::from("PendingAcceptance"),
    );
    let now = Value::from(clock::directory_date_time(clock_offset_ms));
    user.insert("externalUserStateChangeDateTime".to_owned(), now);
}

/// Echoes the message info; without one, Graph's documented example shows a single empty
/// recipient, which is mirrored here.
fn message_info(request: &InvitationRequest) -> Value {
    let Some(info) = request.invited_user_message_info.as_ref() else {
        return json!({
            "messageLanguage": null,
            "customizedMessageBody": null,
            "ccRecipients": [{ "emailAddress": { "name": null, "address": null } }],
        });
    };
    let recipients: Vec<Value> = info
        .cc_recipients
        .iter()
        .map(|r| {
            let (name, address) = r
                .email_address
                .as_ref()
                .map_or((None, None), |e| (e.name.clone(), e.address.clone()));
            json!({ "emailAddress": { "name": name, "address": address } })
        })
        .collect();
    json!({
        "messageLanguage": info.message_language,
        "customizedMessageBody": info.customized_message_body,
        "ccRecipients": recipients,
    })
}

/// What the invitation email would have contained, for tests to read from the outbox.
fn email(entity: &Value) -> Value {
    json!({
        "to": entity["invitedUserEmailAddress"],
        "ccRecipients": entity["invitedUserMessageInfo"]["ccRecipients"],
        "messageLanguage": entity["invitedUserMessageInfo"]["messageLanguage"],
        "customizedMessageBody": entity["invitedUserMessageInfo"]["customizedMessageBody"],
        "invitationId": entity["id"],
        "invitedUserId": entity["invitedUser"]["id"],
        "inviteRedeemUrl": entity["inviteRedeemUrl"],
        "inviteRedirectUrl": entity["inviteRedirectUrl"],
        "resetRedemption": entity["resetRedemption"],
        "sentDateTime": clock::graph_date_time(),
    })
}

/// The current redeem-URL shape (graph.md §1.4): the invitations link, URL-encoded with
/// lower-case escapes, inside `login.microsoftonline.com/redeem?rd=`.
fn redeem_url(tenant_id: &str, invitation_id: &str) -> String {
    let ticket = uuid::Uuid::new_v4().simple().to_string();
    let inner = format!(
        "https://invitations.microsoft.com/redeem/?tenant={tenant_id}&user={invitation_id}&ticket={ticket}&ver=2.0"
    );
    format!(
        "https://login.microsoftonline.com/redeem?rd={}",
        url_encode(&inner)
    )
}

fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02x}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::redeem_url;

    #[test]
    fn redeem_url_has_the_current_shape() {
        let url = redeem_url("t-1", "inv-2");
        let rest = url
            .strip_prefix("https://login.microsoftonline.com/redeem?rd=")
            .unwrap_or_default();
        assert!(rest.starts_with("https%3a%2f%2finvitations.microsoft.com%2fredeem%2f%3ftenant%3dt-1%26user%3dinv-2%26ticket%3d"), "{url}");
        assert!(rest.ends_with("%26ver%3d2.0"), "{url}");
    }
}
