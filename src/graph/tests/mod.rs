//! Client tests against a scripted local fake of Graph and its token
//! endpoint (deliberately not the emulator: no shared code, and the tests
//! control every byte and delay). Durations are tiny; the only timing
//! assertions are lower bounds on waits the client must make, and generous
//! upper bounds where it must not wait.

mod batch;
mod fake;
mod limits;
mod retries;
mod retry_rules;
mod sponsors;
mod token;

use std::time::Duration;

use secrecy::SecretString;

use super::{
    BreakerSettings, ClientCredential, Credentials, GraphClient, GraphError, GraphSettings,
    InvitationRequest, RetrySettings, parse_retry_after,
};

/// Fast retries; a breaker that stays out of the way unless a test wants it.
fn quick() -> RetrySettings {
    RetrySettings {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(5),
        deadline: Duration::from_secs(20),
        max_concurrency: 16,
        breaker: BreakerSettings {
            min_calls: 1000,
            cooldown: Duration::from_secs(1),
            ..BreakerSettings::default()
        },
        invitations: super::BudgetSettings::default(),
        user_writes: super::BudgetSettings::user_writes(),
        lag_base: Duration::from_millis(5),
        lag_max: Duration::from_millis(20),
    }
}

fn settings(authority: &str, graph: &str, retry: RetrySettings) -> GraphSettings {
    GraphSettings {
        tenant: "test".into(),
        graph_url: graph.to_owned(),
        credentials: Credentials {
            authority_url: authority.to_owned(),
            tenant_id: "tenant".into(),
            client_id: "client-id".into(),
            secret: ClientCredential::ClientSecret(SecretString::from("s3cret")),
            scope: format!("{graph}/.default"),
        },
        timeout: Duration::from_millis(500),
        retry,
    }
}

fn client(url: &str, retry: RetrySettings) -> GraphClient {
    GraphClient::new(settings(url, url, retry)).expect("client")
}

fn invitation() -> InvitationRequest {
    InvitationRequest {
        user_id: "obj-1".into(),
        email: "new@example.com".into(),
        redirect_url: "https://myapps.microsoft.com".into(),
        send_invitation_message: true,
        message: None,
    }
}

/// `(status, retry_after)` of an `Api` error; panics on anything else.
fn api(error: &GraphError) -> (u16, Option<Duration>) {
    match error {
        GraphError::Api {
            status,
            retry_after,
            ..
        } => (*status, *retry_after),
        other => panic!("expected an Api error, got {other:?}"),
    }
}

#[test]
fn retry_after_accepts_integer_and_fraction() {
    assert_eq!(parse_retry_after("10"), Some(Duration::from_secs(10)));
    assert_eq!(
        parse_retry_after(" 2.128"),
        Some(Duration::from_millis(2128))
    );
    assert_eq!(parse_retry_after("-1"), None);
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
}
