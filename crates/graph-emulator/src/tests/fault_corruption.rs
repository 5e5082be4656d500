//! Faults that let the change happen but spoil or delay the answer: malformed and
//! truncated bodies, a dropped connection, latency and stalls.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::super::{Fault, FaultRoute, demo};
use super::{Harness, always, send, send_raw};

const CLIENT_REQUEST_ID: &str = "5d1c2b3a-7e6f-4a8b-9c0d-1e2f3a4b5c6d";

fn is_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes).is_ok()
}

/// Exactly one reset of Adele applied, attributed to the client's request id.
fn assert_reset_applied(harness: &Harness) {
    let applied = harness.emulator.applied_resets();
    assert_eq!(applied.len(), 1, "{applied:?}");
    let reset = &applied[0];
    assert_eq!(reset.user_id, demo::ADELE_ID);
    assert_eq!(reset.email, demo::ADELE_MAIL);
    assert_eq!(reset.client_request_id.as_deref(), Some(CLIENT_REQUEST_ID));
    assert!(uuid::Uuid::parse_str(&reset.invitation_id).is_ok());
    let at = time::format_description::well_known::Rfc3339;
    assert!(
        time::OffsetDateTime::parse(&reset.at, &at).is_ok(),
        "{}",
        reset.at
    );
    let adele = harness.emulator.user(demo::ADELE_ID).unwrap_or_default();
    assert_eq!(adele["externalUserState"], "PendingAcceptance");
}

async fn reset(harness: &Harness, token: &str) -> Result<super::Raw, reqwest::Error> {
    let request = harness.graph_request(token, FaultRoute::Invitations);
    send_raw(request.header("client-request-id", CLIENT_REQUEST_ID)).await
}

#[tokio::test]
async fn malformed_json_keeps_the_status_breaks_the_body_and_applies_writes() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    for route in [FaultRoute::GetUser, FaultRoute::ListUsers] {
        harness
            .emulator
            .set_faults(always(route, Fault::MalformedJson));
        let raw = send_raw(harness.graph_request(&token, route)).await;
        let raw = raw.expect("an answer");
        assert_eq!(raw.status, StatusCode::OK, "{route:?}");
        assert!(!is_json(&raw.bytes) && !raw.bytes.is_empty(), "{route:?}");
        let content_type = raw.headers.get("content-type").expect("content type");
        assert!(
            content_type
                .to_str()
                .is_ok_and(|t| t.starts_with("application/json"))
        );
        assert!(raw.headers.contains_key("request-id"));
    }

    let fault = Fault::MalformedJson;
    harness
        .emulator
        .set_faults(always(FaultRoute::PatchUser, fault));
    let raw = send_raw(harness.graph_request(&token, FaultRoute::PatchUser)).await;
    let raw = raw.expect("an answer");
    assert_eq!(
        raw.status,
        StatusCode::OK,
        "204 cannot carry the broken body"
    );
    assert!(!is_json(&raw.bytes));
    assert_eq!(harness.adele_other_mails(), json!([demo::ADELE_NEW_MAIL]));

    let fault = Fault::MalformedJson;
    harness
        .emulator
        .set_faults(always(FaultRoute::Invitations, fault));
    let raw = reset(&harness, &token).await.expect("an answer");
    assert_eq!(raw.status, StatusCode::CREATED);
    assert!(!is_json(&raw.bytes));
    assert_reset_applied(&harness);
}

#[tokio::test]
async fn truncated_json_is_the_first_half_of_the_real_body_and_applies_writes() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let whole = send_raw(harness.graph_request(&token, FaultRoute::GetUser)).await;
    let whole = whole.expect("an answer").bytes;
    harness
        .emulator
        .set_faults(always(FaultRoute::GetUser, Fault::TruncatedJson));
    let cut = send_raw(harness.graph_request(&token, FaultRoute::GetUser)).await;
    let cut = cut.expect("the cut body arrives whole, as declared");
    assert_eq!(cut.status, StatusCode::OK);
    assert_eq!(cut.bytes, whole[..whole.len() / 2]);
    let length = cut.headers.get("content-length").expect("content length");
    assert_eq!(
        length.to_str().ok(),
        Some(cut.bytes.len().to_string().as_str())
    );
    assert!(!is_json(&cut.bytes));

    let fault = Fault::TruncatedJson;
    harness
        .emulator
        .set_faults(always(FaultRoute::Invitations, fault));
    let raw = reset(&harness, &token).await.expect("an answer");
    assert_eq!(raw.status, StatusCode::CREATED);
    assert!(!is_json(&raw.bytes) && !raw.bytes.is_empty());
    assert_reset_applied(&harness);
}

#[tokio::test]
async fn drop_after_apply_closes_the_connection_without_a_status_after_applying() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let fault = Fault::DropAfterApply;
    harness
        .emulator
        .set_faults(always(FaultRoute::Invitations, fault));
    let error = match reset(&harness, &token).await {
        Ok(raw) => panic!("expected a transport error, got {}", raw.status),
        Err(error) => error,
    };
    assert!(error.status().is_none() && !error.is_status(), "{error:?}");
    assert!(!error.is_timeout(), "{error:?}");
    assert_reset_applied(&harness);
    let logged = harness.emulator.requests().pop().expect("logged");
    assert_eq!(logged.injected.as_deref(), Some("drop_after_apply"));

    let fault = Fault::DropAfterApply;
    harness
        .emulator
        .set_faults(always(FaultRoute::PatchUser, fault));
    let reply = send_raw(harness.graph_request(&token, FaultRoute::PatchUser)).await;
    assert!(reply.is_err(), "no answer to the PATCH either");
    assert_eq!(harness.adele_other_mails(), json!([demo::ADELE_NEW_MAIL]));
}

#[tokio::test]
async fn latency_delays_a_normal_answer() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let fault = Fault::Latency { millis: 150 };
    harness
        .emulator
        .set_faults(always(FaultRoute::GetUser, fault));
    let started = Instant::now();
    let reply = send(harness.graph_request(&token, FaultRoute::GetUser)).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["id"], demo::ADELE_ID);
}

#[tokio::test]
async fn a_stall_outlasting_the_client_applies_the_reset_when_it_ends() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let fault = Fault::Stall { millis: 400 };
    harness
        .emulator
        .set_faults(always(FaultRoute::Invitations, fault));
    let request = harness.graph_request(&token, FaultRoute::Invitations);
    let request = request.header("client-request-id", CLIENT_REQUEST_ID);
    let started = Instant::now();
    let result = send_raw(request.timeout(Duration::from_millis(100))).await;
    assert!(result.is_err_and(|e| e.is_timeout()), "the client gave up");
    assert!(harness.emulator.applied_resets().is_empty(), "not yet");

    // Poll rather than sleep a fixed time: a loaded machine may run the task late.
    while harness.emulator.applied_resets().is_empty() && started.elapsed().as_secs() < 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "not before the stall ended"
    );
    assert_reset_applied(&harness);
}

#[tokio::test]
async fn a_stall_shorter_than_the_client_timeout_answers_normally() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let fault = Fault::Stall { millis: 100 };
    harness
        .emulator
        .set_faults(always(FaultRoute::Invitations, fault));
    let raw = reset(&harness, &token).await.expect("an answer");
    assert_eq!(raw.status, StatusCode::CREATED);
    assert!(is_json(&raw.bytes));
    assert_reset_applied(&harness);
}
