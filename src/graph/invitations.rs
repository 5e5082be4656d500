//! `POST /v1.0/invitations` with `resetRedemption: true`.

use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::budget::Limit;
use super::retry::Replay;
use super::send::Request;
use super::{Call, GraphClient, GraphError, json};

/// The optional invitation email customisation (`invitedUserMessageInfo`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageInfo {
    pub language: Option<String>,
    /// Graph supports one extra recipient.
    pub cc: Option<String>,
    pub body: Option<String>,
}

/// A reset of one guest's redemption status.
#[derive(Debug, Clone, PartialEq)]
pub struct InvitationRequest {
    pub user_id: String,
    pub email: String,
    pub redirect_url: String,
    pub send_invitation_message: bool,
    pub message: Option<MessageInfo>,
}

/// What Graph answered. The redeem URL is a credential: kept secret, never
/// logged or stored; the caller decides whether to hand it over.
#[derive(Debug)]
pub struct Invitation {
    pub id: String,
    pub status: String,
    pub invited_user_id: Option<String>,
    pub redeem_url: Option<SecretString>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    invited_user_email_address: &'a str,
    invite_redirect_url: &'a str,
    send_invitation_message: bool,
    reset_redemption: bool,
    invited_user: IdRef<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invited_user_message_info: Option<MessageBody<'a>>,
}

#[derive(Serialize)]
struct IdRef<'a> {
    id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    message_language: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cc_recipients: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customized_message_body: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    invite_redeem_url: Option<SecretString>,
    #[serde(default)]
    invited_user: Option<InvitedUser>,
}

#[derive(Deserialize)]
struct InvitedUser {
    id: Option<String>,
}

/// The JSON body Graph receives; also shown in dry-run plans.
pub fn request_body(req: &InvitationRequest) -> serde_json::Value {
    let message = req.message.as_ref().map(|m| MessageBody {
        message_language: m.language.as_deref(),
        cc_recipients: m
            .cc
            .iter()
            .map(|a| serde_json::json!({ "emailAddress": { "address": a } }))
            .collect(),
        customized_message_body: m.body.as_deref(),
    });
    let body = Body {
        invited_user_email_address: &req.email,
        invite_redirect_url: &req.redirect_url,
        send_invitation_message: req.send_invitation_message,
        reset_redemption: true,
        invited_user: IdRef { id: &req.user_id },
        invited_user_message_info: message,
    };
    serde_json::to_value(body).unwrap_or_default()
}

impl GraphClient {
    /// Reset the guest's redemption status. A 201 whose `status` is `Error`
    /// is reported as success here; the caller treats it as a failure.
    /// Repeated only when Graph demonstrably did not act (connect error,
    /// 429, 503): a second reset would send a second email.
    #[instrument(skip_all)]
    pub async fn reset_redemption(
        &self,
        req: &InvitationRequest,
    ) -> Result<Call<Invitation>, GraphError> {
        self.invite(req, false).await
    }

    /// Like [`GraphClient::reset_redemption`], right after the email was
    /// added to `otherMails`: Graph's "email doesn't match any emails on the
    /// user object" 400 then means the write has not replicated yet, and
    /// the reset is repeated with backoff within the deadline.
    #[instrument(skip_all)]
    pub async fn reset_redemption_after_email_added(
        &self,
        req: &InvitationRequest,
    ) -> Result<Call<Invitation>, GraphError> {
        self.invite(req, true).await
    }

    async fn invite(
        &self,
        req: &InvitationRequest,
        replication_lag: bool,
    ) -> Result<Call<Invitation>, GraphError> {
        let body = request_body(req);
        let request = Request {
            method: Method::POST,
            url: self.url(&["invitations"]),
            body: Some(&body),
            replay: Replay::OnlyIfNotActed { replication_lag },
            what: "invitation",
            limit: Some(Limit::Invitations),
            eventual: false,
        };
        let call = self.send(request, json::<Response>).await?;
        let parsed = call.value;
        Ok(Call {
            value: Invitation {
                id: parsed.id,
                status: parsed.status,
                invited_user_id: parsed.invited_user.and_then(|u| u.id),
                redeem_url: parsed.invite_redeem_url,
            },
            request_id: call.request_id,
        })
    }
}
