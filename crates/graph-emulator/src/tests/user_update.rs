//! PATCH /users/{key} and the per-operation permission checks.

use reqwest::StatusCode;
use serde_json::json;

use super::super::demo;
use super::Harness;

#[tokio::test]
async fn patch_other_mails_is_stored_and_answers_204() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let path = format!("/v1.0/users/{}", demo::ADELE_ID);
    let reply = harness
        .patch(
            &token,
            &path,
            json!({ "otherMails": [demo::ADELE_NEW_MAIL] }),
        )
        .await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(!reply.header("request-id").is_empty());
    let user = harness.emulator.user(demo::ADELE_ID).unwrap_or_default();
    assert_eq!(user["otherMails"], json!([demo::ADELE_NEW_MAIL]));
}

#[tokio::test]
async fn patch_rejects_bad_other_mails_read_only_and_unknown_properties() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let path = format!("/v1.0/users/{}", demo::ADELE_ID);
    let too_many: Vec<String> = (0..251).map(|i| format!("a{i}@x.example")).collect();
    let too_long = format!("{}@x.example", "a".repeat(250));
    let cases = [
        (json!({ "otherMails": too_many }), "Request_BadRequest"),
        (json!({ "otherMails": [too_long] }), "Request_BadRequest"),
        (
            json!({ "externalUserState": "PendingAcceptance" }),
            "Request_BadRequest",
        ),
        (json!({ "shoeSize": 42 }), "BadRequest"),
    ];
    for (body, code) in cases {
        let reply = harness.patch(&token, &path, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.code(), code, "{body}: {}", reply.body);
    }
    let user = harness.emulator.user(demo::ADELE_ID).unwrap_or_default();
    assert_eq!(
        user["otherMails"],
        json!([]),
        "rejected writes change nothing"
    );
}

#[tokio::test]
async fn patch_mail_to_an_address_in_use_is_an_object_conflict() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let path = format!("/v1.0/users/{}", demo::ADELE_ID);
    let reply = harness
        .patch(
            &token,
            &path,
            json!({ "mail": demo::OTHER_DOMAIN_GUEST_MAIL }),
        )
        .await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "Request_BadRequest");
    assert_eq!(reply.body["error"]["details"][0]["code"], "ObjectConflict");
    assert_eq!(
        reply.body["error"]["details"][0]["target"],
        "proxyAddresses"
    );

    let reply = harness
        .patch(
            &token,
            &path,
            json!({ "mail": demo::ADELE_NEW_MAIL, "displayName": "Adele V." }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let user = harness.emulator.user(demo::ADELE_ID).unwrap_or_default();
    assert_eq!(user["mail"], demo::ADELE_NEW_MAIL);
    assert_eq!(
        user["proxyAddresses"][0],
        format!("SMTP:{}", demo::ADELE_NEW_MAIL)
    );
}

#[tokio::test]
async fn permissions_are_enforced_per_operation() {
    let harness = Harness::start().await;
    let reader = harness
        .token_for(demo::READ_ONLY_CLIENT_ID, demo::READ_ONLY_CLIENT_SECRET)
        .await;
    let path = format!("/v1.0/users/{}", demo::ADELE_ID);
    assert_eq!(harness.get(&reader, &path).await.status, StatusCode::OK);
    let reply = harness
        .patch(
            &reader,
            &path,
            json!({ "otherMails": [demo::ADELE_NEW_MAIL] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "Authorization_RequestDenied");
    assert_eq!(
        reply.message(),
        "Insufficient privileges to complete the operation."
    );

    harness
        .emulator
        .set_app_roles(demo::READ_ONLY_CLIENT_ID, &["User-Mail.ReadWrite.All"]);
    let mailer = harness
        .token_for(demo::READ_ONLY_CLIENT_ID, demo::READ_ONLY_CLIENT_SECRET)
        .await;
    let reply = harness
        .patch(
            &mailer,
            &path,
            json!({ "otherMails": [demo::ADELE_NEW_MAIL] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let reply = harness
        .patch(&mailer, &path, json!({ "displayName": "Adele" }))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        harness.get(&mailer, &path).await.status,
        StatusCode::FORBIDDEN
    );
}
