//! POST /invitations: validation rules, permissions, the reset flow and its effects.

use reqwest::StatusCode;
use serde_json::json;

use super::super::demo;
use super::{Harness, reset_body};

const MISMATCH: &str = "The email you're using to invite this user doesn't match any emails on the user object. Please add this email to the user object and try again.";
const GENERIC: &str = "Generic authorization exception.";

#[tokio::test]
async fn reset_after_adding_the_new_address_succeeds_and_flips_the_state() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let path = format!("/v1.0/users/{}", demo::ADELE_ID);
    let before = harness
        .invite(&token, reset_body(demo::ADELE_ID, demo::ADELE_NEW_MAIL))
        .await;
    assert_eq!(
        before.status,
        StatusCode::BAD_REQUEST,
        "not on the user yet"
    );
    assert_eq!(before.message(), MISMATCH);

    let patched = harness
        .patch(
            &token,
            &path,
            json!({ "otherMails": [demo::ADELE_NEW_MAIL] }),
        )
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT);
    let reply = harness
        .invite(&token, reset_body(demo::ADELE_ID, demo::ADELE_NEW_MAIL))
        .await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let user = harness.emulator.user(demo::ADELE_ID).unwrap_or_default();
    assert_eq!(user["externalUserState"], "PendingAcceptance");
    assert_ne!(
        user["externalUserStateChangeDateTime"],
        "2025-03-14T09:26:53Z"
    );
    assert!(
        user["externalUserStateChangeDateTime"]
            .as_str()
            .is_some_and(|d| d.ends_with('Z'))
    );
}

#[tokio::test]
async fn reset_answers_the_documented_invitation_entity() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let reply = harness
        .invite(&token, reset_body(demo::ADELE_ID, demo::ADELE_MAIL))
        .await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let body = &reply.body;
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#invitations/$entity"
    );
    let invitation_id = body["id"].as_str().unwrap_or_default();
    assert!(uuid::Uuid::parse_str(invitation_id).is_ok() && invitation_id != demo::ADELE_ID);
    let redeem = body["inviteRedeemUrl"].as_str().unwrap_or_default();
    let expected_start = format!(
        "https://login.microsoftonline.com/redeem?rd=https%3a%2f%2finvitations.microsoft.com%2fredeem%2f%3ftenant%3d{}%26user%3d{invitation_id}%26ticket%3d",
        demo::TENANT_ID
    );
    assert!(
        redeem.starts_with(&expected_start) && redeem.ends_with("%26ver%3d2.0"),
        "{redeem}"
    );
    assert_eq!(body["invitedUserEmailAddress"], demo::ADELE_MAIL);
    assert_eq!(body["invitedUserType"], "Guest");
    assert!(body["invitedUserDisplayName"].is_null());
    assert_eq!(body["sendInvitationMessage"], false);
    assert_eq!(body["resetRedemption"], true);
    assert_eq!(body["inviteRedirectUrl"], "https://myapps.microsoft.com");
    assert_eq!(body["status"], "PendingAcceptance");
    assert!(body["invitedUserMessageInfo"]["ccRecipients"].is_array());
    assert_eq!(
        body["invitedUser"],
        json!({ "id": demo::ADELE_ID, "userPrincipalName": demo::ADELE_UPN })
    );
    assert!(
        harness.emulator.outbox().is_empty(),
        "no email without sendInvitationMessage"
    );
}

#[tokio::test]
async fn send_invitation_message_lands_in_the_outbox() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let mut body = reset_body(demo::PENDING_GUEST_ID, demo::PENDING_GUEST_MAIL);
    body["sendInvitationMessage"] = json!(true);
    body["invitedUserMessageInfo"] =
        json!({ "ccRecipients": [{ "emailAddress": { "address": "helpdesk@contoso.example" } }] });
    let reply = harness.invite(&token, body).await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let outbox = harness.emulator.outbox();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0]["to"], demo::PENDING_GUEST_MAIL);
    assert_eq!(outbox[0]["inviteRedeemUrl"], reply.body["inviteRedeemUrl"]);
    assert_eq!(
        outbox[0]["ccRecipients"][0]["emailAddress"]["address"],
        "helpdesk@contoso.example"
    );
}

#[tokio::test]
async fn body_validation_rules_answer_bad_request() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let valid = reset_body(demo::ADELE_ID, demo::ADELE_MAIL);
    let without = |field: &str| {
        let mut body = valid.clone();
        body.as_object_mut().map(|o| o.remove(field));
        body
    };
    let mut no_user_id = valid.clone();
    no_user_id["invitedUser"] = json!({});
    let mut two_cc = valid.clone();
    let cc = json!({ "emailAddress": { "address": "a@contoso.example" } });
    two_cc["invitedUserMessageInfo"] = json!({ "ccRecipients": [cc.clone(), cc] });
    let cases = [
        ("missing email", without("invitedUserEmailAddress")),
        ("missing redirect", without("inviteRedirectUrl")),
        ("reset without invitedUser", without("invitedUser")),
        ("reset without invitedUser.id", no_user_id),
        ("two cc recipients", two_cc),
    ];
    for (name, body) in cases {
        let reply = harness.invite(&token, body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{name}: {}",
            reply.body
        );
        assert_eq!(reply.code(), "BadRequest", "{name}");
    }
}

#[tokio::test]
async fn special_characters_are_refused_with_the_dot_and_dash_exceptions() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    for bad in [
        "pat+tag@northwind.example",
        ".pat@northwind.example",
        "pat-@northwind.example",
        "p#t@northwind.example",
    ] {
        let reply = harness
            .invite(
                &token,
                json!({ "invitedUserEmailAddress": bad, "inviteRedirectUrl": "https://x.example" }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.code(), "BadRequest", "{bad}");
    }
    let fine = "pat.q-r_s@northwind.example";
    let reply = harness
        .invite(
            &token,
            json!({ "invitedUserEmailAddress": fine, "inviteRedirectUrl": "https://x.example" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let upn = "pat.q-r_s_northwind.example#EXT#@contoso.onmicrosoft.com";
    assert_eq!(reply.body["invitedUser"]["userPrincipalName"], upn);
    let guest = harness.emulator.user(upn).unwrap_or_default();
    assert_eq!(guest["externalUserState"], "PendingAcceptance");
    assert_eq!(guest["userType"], "Guest");
}

#[tokio::test]
async fn unknown_target_is_not_found() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let missing = "00000000-0000-0000-0000-00000000beef";
    let reply = harness
        .invite(&token, reset_body(missing, "x@northwind.example"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "Request_ResourceNotFound");
}

#[tokio::test]
async fn app_only_reset_of_a_role_holder_is_forbidden_direct_or_via_group() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let targets = [
        (demo::ROLE_GUEST_ID, demo::ROLE_GUEST_MAIL),
        (demo::GROUP_ROLE_GUEST_ID, demo::GROUP_ROLE_GUEST_MAIL),
    ];
    for (id, mail) in targets {
        let reply = harness.invite(&token, reset_body(id, mail)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{id}");
        assert_eq!(reply.code(), "Forbidden", "{id}");
        assert_eq!(reply.message(), GENERIC, "{id}");
        let user = harness.emulator.user(id).unwrap_or_default();
        assert_eq!(user["externalUserState"], "Accepted", "{id} untouched");
    }
}

#[tokio::test]
async fn invite_only_app_cannot_reset() {
    let harness = Harness::start().await;
    let token = harness
        .token_for(demo::INVITE_ONLY_CLIENT_ID, demo::INVITE_ONLY_CLIENT_SECRET)
        .await;
    let reply = harness
        .invite(&token, reset_body(demo::ADELE_ID, demo::ADELE_MAIL))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "Forbidden");
    assert_eq!(reply.message(), GENERIC);
}

#[tokio::test]
async fn app_without_invite_permission_is_unauthorized() {
    let harness = Harness::start().await;
    let token = harness
        .token_for(demo::READ_ONLY_CLIENT_ID, demo::READ_ONLY_CLIENT_SECRET)
        .await;
    let reply = harness
        .invite(&token, reset_body(demo::ADELE_ID, demo::ADELE_MAIL))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "Unauthorized");
    let path = format!("URL absolute path=/api/{}/invites", demo::TENANT_ID);
    assert!(
        reply.message().contains("ControllerName=MSGraphInviteAPI")
            && reply.message().ends_with(&path),
        "{}",
        reply.message()
    );
}
