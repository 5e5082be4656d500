//! Request bodies: every JSON body is a JSON object (serde would read an
//! array positionally, past `deny_unknown_fields` and the spec), and a field
//! of the wrong type is named by its JSON path in the problem `detail`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::webhooks::{WHSEC, deliver, now, source, standard};
use common::{TestApp, expect_problem, tenant};
use guest_reset::webhook::Scheme;
use serde_json::Value;

async fn post_raw(app: &TestApp, body: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/v1/resets", app.base))
        .bearer_auth(app.token())
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_json_array_or_scalar_body_is_invalid_json_and_reaches_no_graph_write() {
    let app = TestApp::spawn().await;
    let guest = tenant::PENDING_GUEST_MAIL;
    // The positional form of a reset request: user, …, ticket, reason, dry_run.
    for dry_run in ["true", "false"] {
        let array = format!(r#"["{guest}",null,null,null,null,"INC-6001","x y z w",{dry_run}]"#);
        let problem = expect_problem(post_raw(&app, &array).await, 400, "invalid-json").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("JSON object"),
            "{problem}"
        );
    }
    for scalar in [r#""a string""#, "42", "null", " \n [ ]"] {
        expect_problem(post_raw(&app, scalar).await, 400, "invalid-json").await;
    }
    assert!(app.graph_writes().is_empty(), "{:?}", app.graph_writes());
}

#[tokio::test]
async fn a_nested_object_sent_as_an_array_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let body = format!(
        r#"{{"user":"{}","message":["en-US",[],"hi"]}}"#,
        tenant::ADELE_MAIL
    );
    let problem = expect_problem(post_raw(&app, &body).await, 400, "invalid-request").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.starts_with("message: "), "{detail}");
    assert!(app.graph_writes().is_empty());
}

#[tokio::test]
async fn a_type_error_names_the_json_path_of_the_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            r#"{"user":42}"#.to_owned(),
            "user: invalid type: integer `42`, expected a string",
        ),
        (
            format!(r#"{{"user":"{}","dry_run":"yes"}}"#, tenant::ADELE_MAIL),
            "dry_run: invalid type: string \"yes\", expected a boolean",
        ),
        (
            format!(
                r#"{{"user":"{}","message":{{"cc":[7]}}}}"#,
                tenant::ADELE_MAIL
            ),
            "message.cc[0]: invalid type: integer `7`, expected a string",
        ),
    ];
    for (body, expected) in cases {
        let problem = expect_problem(post_raw(&app, &body).await, 400, "invalid-request").await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.starts_with(expected), "{body}: {detail}");
    }
}

#[tokio::test]
async fn a_webhook_delivery_that_is_a_json_array_is_invalid_json() {
    let app = TestApp::spawn_with(|c| {
        c.webhooks.sources = vec![source("tickets", Scheme::StandardWebhooks, WHSEC, None)];
    })
    .await;
    let body = format!(r#"[{{"ticket":{{"guest":"{}"}}}}]"#, tenant::ADELE_MAIL).into_bytes();
    let headers = standard("msg_array_1", now(), &body, WHSEC);
    let problem = expect_problem(
        deliver(&app, "tickets", &headers, &body).await,
        400,
        "invalid-json",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("JSON object"),
        "{problem}"
    );
    let rows: Vec<Value> = app.audit_rows().await;
    assert!(rows.iter().all(|r| r["status"] == "failed"), "{rows:?}");
    assert!(app.graph_writes().is_empty());
}
