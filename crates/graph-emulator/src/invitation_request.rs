//! The `POST /invitations` request body and the checks Graph makes on it before looking
//! at the directory (graph.md §1.3).

use serde::Deserialize;
use serde_json::Value;

use super::errors::GraphError;

/// Properties of `microsoft.graph.invitation`; OData rejects any other name.
const INVITATION_PROPERTIES: &[&str] = &[
    "id",
    "invitedUserDisplayName",
    "invitedUserEmailAddress",
    "invitedUserMessageInfo",
    "invitedUserType",
    "inviteRedeemUrl",
    "inviteRedirectUrl",
    "resetRedemption",
    "sendInvitationMessage",
    "status",
    "invitedUser",
    "invitedUserSponsors",
];

/// Characters the invitation API refuses in an address (graph.md §1.3).
const FORBIDDEN_EMAIL_CHARS: &str = "~!#$%^&*()+=[]{}\\/|;:\"<>?,";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InvitationRequest {
    pub invited_user_email_address: Option<String>,
    pub invite_redirect_url: Option<String>,
    pub invited_user_display_name: Option<String>,
    pub invited_user_type: Option<String>,
    #[serde(default)]
    pub send_invitation_message: bool,
    #[serde(default)]
    pub reset_redemption: bool,
    pub invited_user: Option<InvitedUserRef>,
    pub invited_user_message_info: Option<MessageInfo>,
}

#[derive(Debug, Deserialize)]
pub(super) struct InvitedUserRef {
    pub id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MessageInfo {
    pub message_language: Option<String>,
    pub customized_message_body: Option<String>,
    #[serde(default)]
    pub cc_recipients: Vec<Recipient>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Recipient {
    pub email_address: Option<EmailAddress>,
}

#[derive(Debug, Deserialize)]
pub(super) struct EmailAddress {
    pub name: Option<String>,
    pub address: Option<String>,
}

/// A request that passed the body checks: the two required fields are present.
pub(super) struct ValidInvitation {
    pub email: String,
    pub redirect_url: String,
    pub request: InvitationRequest,
}

/// Parses and checks the body. Messages marked UNVERIFIED are the emulator's wording
/// under the documented status and code (400 `BadRequest`).
pub(super) fn validate(body: &[u8]) -> Result<ValidInvitation, GraphError> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return Err(GraphError::unreadable_body());
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !INVITATION_PROPERTIES.contains(&k.as_str()))
    {
        return Err(GraphError::bad_request(format!(
            "The property '{unknown}' does not exist on type 'microsoft.graph.invitation'. Make sure to only use property names that are defined by the type or mark the type as open type."
        )));
    }
    let request: InvitationRequest = serde_json::from_value(Value::Object(object))
        .map_err(|e| GraphError::bad_request(format!("Invalid request payload: {e}")))?;
    let email = required(
        request.invited_user_email_address.as_deref(),
        "invitedUserEmailAddress",
    )?;
    let redirect_url = required(request.invite_redirect_url.as_deref(), "inviteRedirectUrl")?;
    check_email(&email)?;
    check_user_type(request.invited_user_type.as_deref())?;
    check_cc_recipients(request.invited_user_message_info.as_ref())?;
    if request.reset_redemption && reset_target(&request).is_none() {
        // invitedUser.id is mandatory for a reset (graph.md §1.3); wording UNVERIFIED.
        let message = "The invitedUser.id property is required when resetRedemption is true.";
        return Err(GraphError::bad_request(message));
    }
    Ok(ValidInvitation {
        email,
        redirect_url,
        request,
    })
}

/// The object id named in `invitedUser.id`, if any.
pub(super) fn reset_target(request: &InvitationRequest) -> Option<&str> {
    let id = request.invited_user.as_ref()?.id.as_deref()?;
    (!id.trim().is_empty()).then_some(id)
}

fn required(value: Option<&str>, name: &str) -> Result<String, GraphError> {
    match value.map(str::trim) {
        Some(value) if !value.is_empty() => Ok(value.to_owned()),
        // Wording UNVERIFIED; status and code are documented.
        _ => Err(GraphError::bad_request(format!(
            "The '{name}' property is required."
        ))),
    }
}

/// The special-character rule: none of the listed characters anywhere, and `.`/`-` not
/// at the start or end of the local part (`_` is fine anywhere).
pub(super) fn check_email(email: &str) -> Result<(), GraphError> {
    let (local, domain) = email.rsplit_once('@').unwrap_or_default();
    let bad_char = email
        .chars()
        .any(|c| c.is_whitespace() || FORBIDDEN_EMAIL_CHARS.contains(c));
    let bad_edge = [local.chars().next(), local.chars().last()]
        .into_iter()
        .flatten()
        .any(|c| c == '.' || c == '-');
    let bad_shape =
        local.is_empty() || domain.is_empty() || local.contains('@') || !domain.contains('.');
    if bad_char || bad_edge || bad_shape {
        // The message reported for such addresses (msgraph-sdk-dotnet #2786).
        return Err(GraphError::bad_request(
            "The Primary SMTP Address is an invalid value",
        ));
    }
    Ok(())
}

fn check_user_type(user_type: Option<&str>) -> Result<(), GraphError> {
    match user_type {
        None => Ok(()),
        Some(t) if t.eq_ignore_ascii_case("Guest") || t.eq_ignore_ascii_case("Member") => Ok(()),
        Some(t) => Err(GraphError::bad_request(format!(
            "Invalid invitedUserType '{t}'. Allowed values are 'Guest' and 'Member'."
        ))),
    }
}

/// Only one CC recipient is supported (invitedUserMessageInfo, graph.md §1.3); the
/// wording is UNVERIFIED.
fn check_cc_recipients(info: Option<&MessageInfo>) -> Result<(), GraphError> {
    let count = info.map_or(0, |i| i.cc_recipients.len());
    if count > 1 {
        return Err(GraphError::bad_request(
            "Only one ccRecipient is supported.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_email;

    #[test]
    fn special_character_rule() {
        for ok in [
            "a@b.example",
            "a.b-c_d@b.example",
            "_a_@b.example",
            "o'neil@b.example",
        ] {
            assert!(check_email(ok).is_ok(), "{ok} should pass");
        }
        for bad in [
            "a+b@b.example",
            ".a@b.example",
            "a.@b.example",
            "-a@b.example",
            "a-@b.example",
            "a#b@b.example",
            "a b@b.example",
            "a@b@c.example",
            "no-at-sign",
            "a@nodot",
        ] {
            assert!(check_email(bad).is_err(), "{bad} should fail");
        }
    }
}
