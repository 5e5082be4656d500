//! The reset request as callers send it, and its validation into a form the
//! flow can trust ("parse, don't validate").

use serde::Deserialize;

use crate::config::ResetDefaults;
use crate::graph::MessageInfo;

/// Body of `POST /v1/resets`. Unknown fields are refused.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub user: String,
    /// The tenant's name or directory id; may be left out when the service
    /// has exactly one tenant.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The person (UPN or object id) an app-token caller acts for; needs
    /// `resets:act-for-agents`.
    #[serde(default)]
    pub on_behalf_of: Option<String>,
    #[serde(default)]
    pub new_email: Option<String>,
    #[serde(default)]
    pub redirect_url: Option<String>,
    #[serde(default)]
    pub send_invitation_message: Option<bool>,
    #[serde(default, deserialize_with = "crate::json_object::optional")]
    pub message: Option<MessageRequest>,
    #[serde(default)]
    pub ticket: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    /// Reset even though the guest is within the policy's cooldown (only
    /// where the matching rule allows an override).
    #[serde(default)]
    pub override_cooldown: bool,
}

/// Optional customisation of the invitation email.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub body: Option<String>,
}

/// How the caller named the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    ObjectId(String),
    /// A guest UPN (`..#EXT#@tenant`).
    Upn(String),
    /// An email address: matched against mail, otherMails and UPN.
    Email(String),
}

/// A request that passed validation, defaults applied.
#[derive(Debug, Clone)]
pub struct ValidRequest {
    pub user: UserRef,
    pub new_email: Option<String>,
    pub redirect_url: String,
    /// The caller did not choose the redirect URL (the configured default).
    pub redirect_is_default: bool,
    pub send_invitation_message: bool,
    pub message: Option<MessageInfo>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
    pub dry_run: bool,
    pub override_cooldown: bool,
}

const MAX_TEXT: usize = 1000;

impl ResetRequest {
    /// Check every field; the error says which field and why.
    pub fn validate(&self, defaults: &ResetDefaults) -> Result<ValidRequest, String> {
        let send = self
            .send_invitation_message
            .unwrap_or(defaults.send_invitation_message);
        if self.message.is_some() && !send {
            return Err("message: only used when send_invitation_message is true".into());
        }
        Ok(ValidRequest {
            user: parse_user(&self.user)?,
            new_email: self
                .new_email
                .as_deref()
                .map(|e| invitable_email(e, "new_email"))
                .transpose()?,
            redirect_url: redirect_url(
                self.redirect_url
                    .as_deref()
                    .unwrap_or(&defaults.redirect_url),
            )?,
            redirect_is_default: self.redirect_url.is_none(),
            send_invitation_message: send,
            message: self
                .message
                .as_ref()
                .map(MessageRequest::validate)
                .transpose()?,
            ticket: bounded(self.ticket.as_deref(), "ticket", 128)?,
            reason: bounded(self.reason.as_deref(), "reason", MAX_TEXT)?,
            dry_run: self.dry_run,
            override_cooldown: self.override_cooldown,
        })
    }
}

impl MessageRequest {
    fn validate(&self) -> Result<MessageInfo, String> {
        if self.cc.len() > 1 {
            return Err("message.cc: Graph allows at most one cc recipient".into());
        }
        let language = self.language.as_deref().map(str::trim);
        if let Some(lang) = language.filter(|l| !valid_language(l)) {
            return Err(format!(
                "message.language: {lang:?} is not a language tag like en-US"
            ));
        }
        Ok(MessageInfo {
            language: language.map(str::to_owned),
            cc: self
                .cc
                .first()
                .map(|c| plain_email(c, "message.cc"))
                .transpose()?,
            body: bounded(self.body.as_deref(), "message.body", 4000)?,
        })
    }
}

fn parse_user(raw: &str) -> Result<UserRef, String> {
    let user = raw.trim();
    if user.is_empty() || user.len() > 256 || user.chars().any(char::is_control) {
        return Err("user: give the guest's object id, UPN or current email".into());
    }
    if uuid::Uuid::try_parse(user).is_ok() {
        return Ok(UserRef::ObjectId(user.to_ascii_lowercase()));
    }
    if user.to_ascii_uppercase().contains("#EXT#@") {
        return Ok(UserRef::Upn(user.to_owned()));
    }
    plain_email(user, "user").map(UserRef::Email)
}

/// Syntactically valid address, no display name or IP literal.
fn plain_email(raw: &str, field: &str) -> Result<String, String> {
    use email_address::{EmailAddress, Options};
    let options = Options::default()
        .without_display_text()
        .without_domain_literal();
    let trimmed = raw.trim();
    match EmailAddress::parse_with_options(trimmed, options) {
        Ok(_) if trimmed.contains('.') => Ok(trimmed.to_owned()),
        _ => Err(format!("{field}: {trimmed:?} is not an email address")),
    }
}

/// An address Graph will accept as `invitedUserEmailAddress` and in
/// `otherMails`: ASCII, at most 250 characters, and none of the characters
/// the invitation API rejects (`.` and `-` not at the ends of the local part).
fn invitable_email(raw: &str, field: &str) -> Result<String, String> {
    let email = plain_email(raw, field)?;
    let (local, _) = email.rsplit_once('@').unwrap_or_default();
    const FORBIDDEN: &str = "~!#$%^&*()+=[]{}\\/|;:\"<>?,";
    if !email.is_ascii() || email.len() > 250 {
        return Err(format!("{field}: must be ASCII and at most 250 characters"));
    }
    if let Some(c) = local.chars().find(|c| FORBIDDEN.contains(*c)) {
        return Err(format!(
            "{field}: Graph refuses {c:?} in an invited email address"
        ));
    }
    if local.starts_with(['.', '-']) || local.ends_with(['.', '-']) {
        return Err(format!(
            "{field}: '.' and '-' may not start or end the local part"
        ));
    }
    Ok(email)
}

fn redirect_url(raw: &str) -> Result<String, String> {
    match reqwest::Url::parse(raw.trim()) {
        Ok(u) if u.scheme() == "https" && u.host().is_some() => Ok(u.to_string()),
        _ => Err(format!(
            "redirect_url: {raw:?} is not an absolute https URL"
        )),
    }
}

fn bounded(value: Option<&str>, field: &str, max: usize) -> Result<Option<String>, String> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(format!("{field}: at most {max} characters"));
    }
    Ok(Some(v.to_owned()))
}

fn valid_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests;
