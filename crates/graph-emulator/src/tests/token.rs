//! The token endpoint and bearer validation on Graph routes.

use reqwest::StatusCode;
use serde_json::Value;

use super::super::demo;
use super::{GRAPH_SCOPE, Harness, send};

fn claims(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .expect("token decodes")
        .claims
}

#[tokio::test]
async fn client_credentials_grant_issues_a_v1_graph_token() {
    let harness = Harness::start().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", demo::CLIENT_ID),
        ("client_secret", demo::CLIENT_SECRET),
        ("scope", GRAPH_SCOPE),
    ];
    let reply = send(harness.token_request(demo::TENANT_ID, &form)).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 3599);
    assert_eq!(reply.body["ext_expires_in"], 3599);
    let claims = claims(reply.body["access_token"].as_str().unwrap_or_default());
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert_eq!(
        claims["iss"],
        format!("https://sts.windows.net/{}/", demo::TENANT_ID)
    );
    assert_eq!(claims["tid"], demo::TENANT_ID);
    assert_eq!(claims["appid"], demo::CLIENT_ID);
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(
        claims["roles"],
        serde_json::json!([
            "User.ReadWrite.All",
            "User.Read.All",
            "GroupMember.Read.All"
        ])
    );
    let exp = claims["exp"].as_u64().unwrap_or_default();
    assert_eq!(exp - claims["iat"].as_u64().unwrap_or_default(), 3599);
}

#[tokio::test]
async fn domain_tenant_basic_auth_and_emulator_scope_are_accepted() {
    let harness = Harness::start().await;
    let own_scope = format!("{}/.default", harness.base);
    for scope in [
        own_scope.as_str(),
        "00000003-0000-0000-c000-000000000000/.default",
    ] {
        let form = [("grant_type", "client_credentials"), ("scope", scope)];
        let request = harness
            .token_request(demo::TENANT_DOMAIN, &form)
            .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET));
        let reply = send(request).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "scope {scope}: {}",
            reply.body
        );
    }
}

/// One token-error case: a change to an otherwise valid request and the expected answer.
struct ErrorCase {
    name: &'static str,
    tenant: &'static str,
    /// `field=value` to override, or "expired" for the expired-secret app.
    change: &'static str,
    status: u16,
    error: &'static str,
    code: u64,
}

const fn case(
    name: &'static str,
    tenant: &'static str,
    change: &'static str,
    status: u16,
    error: &'static str,
    code: u64,
) -> ErrorCase {
    ErrorCase {
        name,
        tenant,
        change,
        status,
        error,
        code,
    }
}

const TENANT: &str = demo::TENANT_ID;
const ERROR_CASES: &[ErrorCase] = &[
    case(
        "unknown tenant",
        "00000000-0000-0000-0000-0000000000aa",
        "",
        400,
        "invalid_request",
        90002,
    ),
    case("common", "common", "", 400, "invalid_request", 9001023),
    case(
        "consumers",
        "consumers",
        "",
        400,
        "invalid_request",
        9001023,
    ),
    case(
        "unknown client",
        TENANT,
        "client_id=00000000-0000-0000-0000-000000000001",
        400,
        "unauthorized_client",
        700016,
    ),
    case(
        "wrong secret",
        TENANT,
        "client_secret=0d9a5c3e-secret-id-not-value",
        401,
        "invalid_client",
        7000215,
    ),
    case(
        "expired secret",
        TENANT,
        "expired",
        401,
        "invalid_client",
        7000222,
    ),
    case(
        "missing scope",
        TENANT,
        "scope=",
        400,
        "invalid_request",
        900144,
    ),
    case(
        "missing grant_type",
        TENANT,
        "grant_type=",
        400,
        "invalid_request",
        900144,
    ),
    case(
        "wrong grant_type",
        TENANT,
        "grant_type=password",
        400,
        "unsupported_grant_type",
        70003,
    ),
    case(
        "scope without .default",
        TENANT,
        "scope=https://graph.microsoft.com/User.Read.All",
        400,
        "invalid_scope",
        70011,
    ),
    case(
        "unknown resource",
        TENANT,
        "scope=https://management.azure.com/.default",
        400,
        "invalid_resource",
        500011,
    ),
];

fn form_for(change: &str) -> Vec<(&str, &str)> {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", demo::CLIENT_ID),
        ("client_secret", demo::CLIENT_SECRET),
        ("scope", GRAPH_SCOPE),
    ];
    if change == "expired" {
        form[1].1 = demo::EXPIRED_CLIENT_ID;
        form[2].1 = demo::EXPIRED_CLIENT_SECRET;
    } else if let Some((field, value)) = change.split_once('=') {
        form.iter_mut()
            .filter(|(n, _)| *n == field)
            .for_each(|pair| pair.1 = value);
    }
    form
}

fn assert_aad_shape(case: &ErrorCase, body: &Value) {
    let name = case.name;
    assert_eq!(body["error"], case.error, "{name}");
    assert_eq!(
        body["error_codes"],
        serde_json::json!([case.code]),
        "{name}"
    );
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with(&format!("AADSTS{}: ", case.code)),
        "{name}: {description}"
    );
    for part in ["\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "] {
        assert!(description.contains(part), "{name}: {description}");
    }
    for field in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(body[field].is_string(), "{name}: {field}");
    }
}

#[tokio::test]
async fn token_errors_have_the_aad_shape_status_and_code() {
    let harness = Harness::start().await;
    for case in ERROR_CASES {
        let reply = send(harness.token_request(case.tenant, &form_for(case.change))).await;
        assert_eq!(
            reply.status.as_u16(),
            case.status,
            "{}: {}",
            case.name,
            reply.body
        );
        assert_aad_shape(case, &reply.body);
    }
}

#[tokio::test]
async fn wrong_secret_message_mentions_the_secret_id_mistake() {
    let harness = Harness::start().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", demo::CLIENT_ID),
        ("client_secret", "nope"),
        ("scope", GRAPH_SCOPE),
    ];
    let reply = send(harness.token_request(demo::TENANT_ID, &form)).await;
    let description = reply.body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains("not the client secret ID"),
        "{description}"
    );
}

#[tokio::test]
async fn graph_rejects_a_missing_or_garbled_token() {
    let harness = Harness::start().await;
    let url = harness.url(&format!("/v1.0/users/{}", demo::ADELE_ID));
    let reply = send(harness.http.get(&url)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "InvalidAuthenticationToken");
    assert_eq!(reply.message(), "Access token is empty.");
    assert!(
        reply.header("www-authenticate").starts_with("Bearer "),
        "{:?}",
        reply.headers
    );

    let token = harness.token().await;
    // Flip the signature's first character: still valid base64url, wrong signature.
    let (signed, signature) = token.rsplit_once('.').expect("three JWT parts");
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{signed}.{first}{}", &signature[1..]);
    let reply = harness
        .get(&tampered, &format!("/v1.0/users/{}", demo::ADELE_ID))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "Invalid signature.");
}

#[tokio::test]
async fn graph_rejects_an_expired_token() {
    let harness = Harness::start().await;
    harness.emulator.set_token_lifetime(1);
    let token = harness.token().await;
    let path = format!("/v1.0/users/{}", demo::ADELE_ID);
    assert_eq!(harness.get(&token, &path).await.status, StatusCode::OK);

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let reply = harness.get(&token, &path).await;

    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "InvalidAuthenticationToken");
    assert_eq!(
        reply.message(),
        "Lifetime validation failed, the token is expired."
    );
}

#[tokio::test]
async fn a_token_from_another_emulator_is_rejected() {
    let first = Harness::start().await;
    let second = Harness::start().await;
    let token = first.token().await;
    let reply = second
        .get(&token, &format!("/v1.0/users/{}", demo::ADELE_ID))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}
