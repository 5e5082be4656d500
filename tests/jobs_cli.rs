//! `guest-reset jobs ...`, the real binary against a small fake of the jobs
//! API (notes/jobs-contract.md): what it prints, to which stream, and its
//! exit code.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

use std::io::Write;
use std::process::{Command, Output};

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

const TOKEN: &str = "secret-token-123";
const CSV_RESULTS: &str = "item,user,new_email,tenant,status,problem_type,detail,reset_id\r\n\
    2,ben@x.example,,contoso,failed,urn:guest-reset:problem:graph-error,\"Graph failed, twice\",r-2\r\n";

fn problem(status: u16, slug: &str, title: &str, detail: &str) -> Response {
    let body = json!({"type": format!("urn:guest-reset:problem:{slug}"), "title": title,
        "status": status, "detail": detail});
    let status = StatusCode::from_u16(status).unwrap();
    let content_type = [(header::CONTENT_TYPE, "application/problem+json")];
    (status, content_type, body.to_string()).into_response()
}

fn job(id: &str, state: &str, counts: Value) -> Value {
    json!({"id": id, "kind": "items", "state": state, "created_at": "2026-01-01T10:00:00Z",
        "finished_at": "2026-01-01T10:00:03Z", "requested_by": "op", "tenant": null,
        "total": 3, "done": 3, "counts": counts, "rate_per_second": null, "eta_seconds": null})
}

/// The 401 the service would send, unless the caller sent the token.
fn refusal(headers: &HeaderMap) -> Option<Response> {
    let bearer = format!("Bearer {TOKEN}");
    let sent = headers.get(header::AUTHORIZATION);
    let missing = sent.is_none_or(|v| v != bearer.as_str());
    missing.then(|| {
        problem(
            401,
            "unauthenticated",
            "Authentication required",
            "no token",
        )
    })
}

async fn create(headers: HeaderMap, query: Query<Vec<(String, String)>>, body: String) -> Response {
    if let Some(r) = refusal(&headers) {
        return r;
    }
    let kind = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    if !matches!(kind.as_deref(), Some("text/csv" | "application/json")) {
        return problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "csv or json",
        );
    }
    if body.starts_with("user,mail,") {
        return problem(
            400,
            "job-invalid",
            "Job input is invalid",
            "unknown column `mail`",
        );
    }
    if query.0.contains(&("dry_run".into(), "true".into())) {
        return axum::Json(json!({"dry_run": true, "total": 2,
            "counts": {"would_succeed": 1, "refused": 1},
            "refusals": {"urn:guest-reset:problem:user-not-found": 1},
            "items": [{"item": 1, "user": "adele@x.example", "outcome": "would_succeed", "problem": null},
                {"item": 2, "user": "nobody@x.example", "outcome": "refused", "problem":
                    {"type": "urn:guest-reset:problem:user-not-found", "detail": "no such guest"}}]}))
        .into_response();
    }
    let location = [(header::LOCATION, "/v1/jobs/job-1")];
    let created = job("job-1", "running", json!({"queued": 3}));
    (StatusCode::CREATED, location, axum::Json(created)).into_response()
}

async fn show(headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(r) = refusal(&headers) {
        return r;
    }
    match id.as_str() {
        "job-1" => axum::Json(job(&id, "finished", json!({"succeeded": 2, "failed": 1}))),
        "job-ok" => axum::Json(job(&id, "finished", json!({"succeeded": 3}))),
        _ => return problem(404, "not-found", "Not found", &format!("no job {id}")),
    }
    .into_response()
}

async fn items(headers: HeaderMap, query: Query<Vec<(String, String)>>) -> Response {
    if let Some(r) = refusal(&headers) {
        return r;
    }
    let accept = headers.get(header::ACCEPT).map(|v| v.to_str().unwrap());
    let failed_only = query.0 == [("state".to_owned(), "failed".to_owned())];
    match accept == Some("text/csv") && failed_only {
        true => ([(header::CONTENT_TYPE, "text/csv")], CSV_RESULTS).into_response(),
        false => problem(
            400,
            "invalid-request",
            "Request is invalid",
            "unexpected query",
        ),
    }
}

async fn cancel(headers: HeaderMap) -> Response {
    if let Some(r) = refusal(&headers) {
        return r;
    }
    problem(
        409,
        "job-finished",
        "The job is finished",
        "job job-1 is finished",
    )
}

/// The fake service on a free port, in a thread of its own; its base URL.
fn fake_service() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/v1/jobs", post(create))
        .route("/v1/jobs/{id}", get(show))
        .route("/v1/jobs/{id}/items", get(items))
        .route("/v1/jobs/{id}/cancel", post(cancel));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    url
}

fn temp_file(suffix: &str, content: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    file.write_all(content.as_bytes()).unwrap();
    file
}

/// Run `guest-reset jobs <args>` with the URL and token file from the
/// environment (as an operator's shell would set them).
fn jobs(url: &str, args: &[&str]) -> (Output, String, String) {
    let token = temp_file(".token", &format!("  {TOKEN}\n"));
    let output = Command::new(env!("CARGO_BIN_EXE_guest-reset"))
        .arg("jobs")
        .args(args)
        .env("GUEST_RESET_URL", url)
        .env("GUEST_RESET_TOKEN_FILE", token.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token leaked"
    );
    (output, stdout, stderr)
}

#[test]
fn submit_watches_the_job_to_its_end_and_exits_2_when_an_item_failed() {
    let url = fake_service();
    let csv = temp_file(
        ".csv",
        "user,new_email,ticket,reason\nadele@x.example,,INC1,move\n",
    );
    let (out, stdout, stderr) = jobs(&url, &["submit", csv.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("submitted job job-1"), "{stderr}");
    assert!(
        stdout.starts_with("job job-1 finished in 3.0s: 3 item(s), 3 done\n"),
        "{stdout}"
    );
    assert!(stdout.contains("  succeeded                2\n  failed                   1\n"));
}

#[test]
fn watch_exits_0_when_every_item_succeeded() {
    let url = fake_service();
    let (out, stdout, stderr) = jobs(&url, &["watch", "job-ok"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("succeeded                3"), "{stdout}");
}

#[test]
fn a_dry_run_prints_the_refused_items_and_exits_0() {
    let url = fake_service();
    let file = temp_file(".json", r#"{"items": [{"user": "adele@x.example"}]}"#);
    let (out, stdout, stderr) = jobs(
        &url,
        &["submit", "--dry-run", file.path().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.starts_with("dry run: 2 item(s); refused 1, would_succeed 1\n"),
        "{stdout}"
    );
    let refused = "  2\tnobody@x.example\turn:guest-reset:problem:user-not-found\tno such guest\n";
    assert!(stdout.contains(refused), "{stdout}");
}

#[test]
fn results_are_the_service_csv_on_stdout() {
    let url = fake_service();
    let (out, stdout, stderr) = jobs(&url, &["results", "job-1", "--state", "failed"]);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout, CSV_RESULTS);
}

#[test]
fn a_problem_answer_exits_1_with_its_title_detail_and_type() {
    let url = fake_service();
    let csv = temp_file(
        ".csv",
        "user,mail,ticket\nadele@x.example,a@b.example,INC1\n",
    );
    let cases: [(&[&str], &str); 3] = [
        (
            &["watch", "job-9"],
            "error: Not found: no job job-9 (type urn:guest-reset:problem:not-found)",
        ),
        (
            &["cancel", "job-1"],
            "error: The job is finished: job job-1 is finished (type urn:guest-reset:problem:job-finished)",
        ),
        (
            &["submit", csv.path().to_str().unwrap()],
            "error: Job input is invalid: unknown column `mail`",
        ),
    ];
    for (args, expected) in cases {
        let (out, stdout, stderr) = jobs(&url, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
    }
}

#[test]
fn an_unreachable_service_is_named_by_its_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (out, _, stderr) = jobs(&url, &["pause", "job-1"]);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let expected = format!("error: cannot reach {url}/v1/jobs/job-1/pause: ");
    assert!(stderr.contains(&expected), "{stderr}");
}
