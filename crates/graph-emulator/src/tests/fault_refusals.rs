//! Faults that refuse a request (429, 5xx) on every route, as a plain client sees them:
//! status, headers, the documented body, and that nothing was applied.

use reqwest::StatusCode;

use super::super::{Fault, FaultRoute, demo};
use super::{GRAPH_ROUTES, Harness, Reply, always, send};

const CLIENT_REQUEST_ID: &str = "0b4c7d4e-41a4-4b36-9b4f-5f7b3c1d2e3f";

fn throttle(retry_after: Option<&str>) -> Fault {
    let retry_after = retry_after.map(str::to_owned);
    Fault::Throttle { retry_after }
}

/// Graph's envelope is intact: ids in the headers and the same ids in `innerError`.
fn assert_enveloped(reply: &Reply) {
    let request_id = reply.header("request-id");
    assert!(
        uuid::Uuid::parse_str(request_id).is_ok(),
        "{:?}",
        reply.headers
    );
    assert_eq!(reply.header("client-request-id"), CLIENT_REQUEST_ID);
    assert!(reply.header("x-ms-ags-diagnostic").contains("ServerInfo"));
    let inner = &reply.body["error"]["innerError"];
    assert_eq!(inner["request-id"], request_id);
    assert_eq!(inner["client-request-id"], CLIENT_REQUEST_ID);
    assert!(
        inner["date"].as_str().is_some_and(|d| d.len() == 19),
        "{inner}"
    );
}

/// Adele is as seeded: no new address, no reset.
fn assert_nothing_applied(harness: &Harness) {
    assert_eq!(harness.adele_other_mails(), serde_json::json!([]));
    assert!(harness.emulator.applied_resets().is_empty());
    let adele = harness.emulator.user(demo::ADELE_ID).unwrap_or_default();
    assert_eq!(adele["externalUserState"], "Accepted");
}

#[tokio::test]
async fn throttle_answers_the_documented_429_on_every_graph_route_and_applies_nothing() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    for route in GRAPH_ROUTES {
        harness
            .emulator
            .set_faults(always(route, throttle(Some("10"))));
        let request = harness.graph_request(&token, route);
        let reply = send(request.header("client-request-id", CLIENT_REQUEST_ID)).await;

        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{route:?}");
        assert_eq!(reply.header("retry-after"), "10", "{route:?}");
        assert_enveloped(&reply);
        assert_eq!(reply.code(), "TooManyRequests");
        assert_eq!(reply.message(), "Please retry again later.");
        let inner = &reply.body["error"]["innerError"];
        assert_eq!(inner["code"], "429");
        assert_eq!(inner["status"], "429");
        assert_eq!(inner["message"], "Please retry after");
        let logged = harness.emulator.requests().pop().expect("logged");
        assert_eq!(logged.injected.as_deref(), Some("throttle"), "{route:?}");
        assert_eq!(logged.status, 429);
    }
    assert_nothing_applied(&harness);
}

#[tokio::test]
async fn retry_after_is_sent_verbatim_fractional_or_not_at_all() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    for (given, expected) in [(Some("2.128"), Some("2.128")), (None, None)] {
        let plan = always(FaultRoute::Invitations, throttle(given));
        harness.emulator.set_faults(plan);
        let reply = send(harness.graph_request(&token, FaultRoute::Invitations)).await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
        let header = reply.headers.get("retry-after");
        assert_eq!(header.and_then(|v| v.to_str().ok()), expected);
    }
    assert_nothing_applied(&harness);
}

#[tokio::test]
async fn faults_come_before_bearer_validation() {
    let harness = Harness::start().await;
    let plan = always(FaultRoute::GetUser, throttle(Some("1")));
    harness.emulator.set_faults(plan);
    let url = harness.url(&format!("/v1.0/users/{}", demo::ADELE_ID));
    let reply = send(harness.http.get(url)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "not 401");
}

#[tokio::test]
async fn unavailable_answers_each_5xx_with_its_code_and_applies_nothing() {
    let harness = Harness::start().await;
    let token = harness.token().await;
    let cases = [
        (500, "InternalServerError", None),
        (502, "BadGateway", None),
        (503, "ServiceUnavailable", Some("30")),
        (504, "GatewayTimeout", None),
    ];
    for route in [FaultRoute::PatchUser, FaultRoute::Invitations] {
        for (status, code, retry_after) in cases {
            let retry_after = retry_after.map(str::to_owned);
            let fault = Fault::Unavailable {
                status,
                retry_after: retry_after.clone(),
            };
            harness.emulator.set_faults(always(route, fault));
            let request = harness.graph_request(&token, route);
            let reply = send(request.header("client-request-id", CLIENT_REQUEST_ID)).await;

            assert_eq!(reply.status.as_u16(), status, "{route:?}");
            assert_eq!(reply.code(), code);
            assert!(!reply.message().is_empty());
            assert_enveloped(&reply);
            let header = reply.headers.get("retry-after");
            let header = header.and_then(|v| v.to_str().ok()).map(str::to_owned);
            assert_eq!(header, retry_after);
        }
    }
    assert_nothing_applied(&harness);
}

#[tokio::test]
async fn token_endpoint_faults_answer_in_the_token_service_shape() {
    let harness = Harness::start().await;
    let fault = throttle(Some("3"));
    harness
        .emulator
        .set_faults(always(FaultRoute::Token, fault));
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", demo::CLIENT_ID),
        ("client_secret", demo::CLIENT_SECRET),
        ("scope", super::GRAPH_SCOPE),
    ];
    let reply = send(harness.token_request(demo::TENANT_ID, &form)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header("retry-after"), "3");
    assert_eq!(reply.body["error"], "temporarily_unavailable");
    assert_eq!(reply.body["error_codes"], serde_json::json!([90055]));
    assert!(!reply.header("x-ms-request-id").is_empty());

    let fault = Fault::Unavailable {
        status: 503,
        retry_after: None,
    };
    harness
        .emulator
        .set_faults(always(FaultRoute::Token, fault));
    let reply = send(harness.token_request(demo::TENANT_ID, &form)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.body["error_codes"], serde_json::json!([50000]));
    assert!(reply.headers.get("retry-after").is_none());
}

#[tokio::test]
async fn any_graph_covers_graph_routes_but_not_the_token_endpoint() {
    let harness = Harness::start().await;
    let fault = throttle(None);
    harness
        .emulator
        .set_faults(always(FaultRoute::AnyGraph, fault));
    let token = harness.token().await;
    for route in GRAPH_ROUTES {
        let reply = send(harness.graph_request(&token, route)).await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{route:?}");
    }
    // A request no other variant names (DELETE on a user) is covered too.
    let user = harness.url(&format!("/v1.0/users/{}", demo::ADELE_ID));
    let reply = send(harness.http.delete(user).bearer_auth(&token)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}
