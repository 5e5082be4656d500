//! Sponsors and a group's user members, against a scripted Graph of our own
//! that answers JSON pages and records each request's path and query.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use reqwest::Url;
use serde_json::{Value, json};

use super::{api, client, quick};
use crate::graph::{GraphError, SponsorKind};

/// One scripted answer: a status and its JSON body.
type Answer = (u16, Value);

#[derive(Clone, Default)]
struct Script {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    /// Path and query of each Graph request, as sent.
    seen: Arc<Mutex<Vec<String>>>,
}

/// A running scripted Graph; the last answer repeats once the rest are used.
struct Pages {
    url: String,
    script: Script,
}

impl Pages {
    /// `answers` gets the server's URL, to write same-origin next links.
    async fn start(answers: impl FnOnce(&str) -> Vec<Answer>) -> Pages {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let script = Script::default();
        script.answers.lock().unwrap().extend(answers(&url));
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/v1.0/{*rest}", any(graph))
            .with_state(script.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Pages { url, script }
    }

    fn seen(&self) -> Vec<String> {
        self.script.seen.lock().unwrap().clone()
    }

    /// The query pairs of request `n`, decoded.
    fn query(&self, n: usize) -> Vec<(String, String)> {
        let url = Url::parse(&format!("{}{}", self.url, self.seen()[n])).unwrap();
        url.query_pairs().into_owned().collect()
    }
}

async fn token() -> Response {
    axum::Json(json!({ "token_type": "Bearer", "expires_in": 3599, "access_token": "tok" }))
        .into_response()
}

async fn graph(State(script): State<Script>, OriginalUri(uri): OriginalUri) -> Response {
    let n = {
        let mut seen = script.seen.lock().unwrap();
        seen.push(uri.path_and_query().unwrap().to_string());
        seen.len()
    };
    let (status, body) = {
        let mut answers = script.answers.lock().unwrap();
        match answers.len() {
            0 | 1 => answers.front().cloned().unwrap(),
            _ => answers.pop_front().unwrap(),
        }
    };
    let status = StatusCode::from_u16(status).unwrap();
    let request_id = format!("req-{n}");
    (status, [("request-id", request_id)], axum::Json(body)).into_response()
}

fn page(value: Value, next: Option<String>) -> Answer {
    let mut body = json!({ "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", "value": value });
    if let Some(next) = next {
        body["@odata.nextLink"] = Value::String(next);
    }
    (200, body)
}

fn not_found() -> Answer {
    let error = json!({ "error": {
        "code": "Request_ResourceNotFound",
        "message": "Resource 'x' does not exist or one of its queried reference-property objects are not present.",
    }});
    (404, error)
}

const GUEST_UPN: &str = "adele_contoso.com#EXT#@fabrikam.onmicrosoft.com";

#[tokio::test]
async fn sponsors_follow_the_next_link_and_map_each_kind() {
    // Arrange
    let graph = Pages::start(|url| {
        vec![
            page(
                json!([
                    { "@odata.type": "#microsoft.graph.user", "id": "u-1", "displayName": "Sara Davis" },
                    { "@odata.type": "#microsoft.graph.group", "id": "g-1", "displayName": "Sponsors" },
                ]),
                Some(format!("{url}/v1.0/users/guest/sponsors?$select=id,displayName&$skiptoken=X1")),
            ),
            page(
                json!([
                    { "@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp-1" },
                    { "id": "bare-1" },
                ]),
                None,
            ),
        ]
    })
    .await;
    let client = client(&graph.url, quick());

    // Act
    let call = client.sponsors(GUEST_UPN).await.unwrap();

    // Assert
    let got: Vec<_> = call
        .value
        .iter()
        .map(|s| (s.id.as_str(), s.kind, s.display_name.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("u-1", SponsorKind::User, Some("Sara Davis")),
            ("g-1", SponsorKind::Group, Some("Sponsors")),
            ("sp-1", SponsorKind::Other, None),
            ("bare-1", SponsorKind::Other, None),
        ]
    );
    assert_eq!(call.request_id.as_deref(), Some("req-2"), "the last page's");
    let seen = graph.seen();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[0].starts_with(
            "/v1.0/users/adele_contoso.com%23EXT%23@fabrikam.onmicrosoft.com/sponsors?"
        ),
        "the UPN's # is percent-encoded: {}",
        seen[0]
    );
    assert_eq!(
        graph.query(0),
        [("$select".into(), "id,displayName".into())]
    );
    assert!(
        seen[1].starts_with("/v1.0/users/guest/sponsors?"),
        "{}",
        seen[1]
    );
    assert!(graph.query(1).contains(&("$skiptoken".into(), "X1".into())));
}

#[tokio::test]
async fn group_user_members_keeps_only_users_across_pages() {
    // Arrange
    let graph = Pages::start(|url| {
        vec![
            page(
                json!([
                    { "@odata.type": "#microsoft.graph.user", "id": "u-1" },
                    { "@odata.type": "#microsoft.graph.group", "id": "g-2" },
                    { "@odata.type": "#microsoft.graph.device", "id": "d-1" },
                ]),
                Some(format!(
                    "{url}/v1.0/groups/g-1/transitiveMembers?$select=id&$top=999&$skiptoken=X1"
                )),
            ),
            page(
                json!([
                    { "@odata.type": "#microsoft.graph.orgContact", "id": "c-1" },
                    { "@odata.type": "#microsoft.graph.user", "id": "u-2" },
                ]),
                None,
            ),
        ]
    })
    .await;
    let client = client(&graph.url, quick());

    // Act
    let call = client.group_user_members("g-1").await.unwrap();

    // Assert
    assert_eq!(call.value, ["u-1", "u-2"]);
    assert_eq!(call.request_id.as_deref(), Some("req-2"));
    let seen = graph.seen();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[0].starts_with("/v1.0/groups/g-1/transitiveMembers?"),
        "no cast: {}",
        seen[0]
    );
    assert_eq!(
        graph.query(0),
        [
            ("$select".into(), "id".into()),
            ("$top".into(), "999".into())
        ]
    );
    assert!(graph.query(1).contains(&("$skiptoken".into(), "X1".into())));
}

#[tokio::test]
async fn an_unknown_user_or_group_is_an_api_404_with_graphs_request_id() {
    // Arrange
    let graph = Pages::start(|_| vec![not_found()]).await;
    let client = client(&graph.url, quick());

    // Act
    let sponsors = client.sponsors("missing").await.unwrap_err();
    let members = client.group_user_members("missing").await.unwrap_err();

    // Assert
    for (error, request_id) in [(&sponsors, "req-1"), (&members, "req-2")] {
        assert_eq!(api(error), (404, None));
        assert!(
            matches!(error, GraphError::Api { code, .. } if code == "Request_ResourceNotFound"),
            "{error:?}"
        );
        assert_eq!(error.request_id(), Some(request_id), "a 404 is not retried");
    }
    assert_eq!(graph.seen().len(), 2);
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_not_followed() {
    // Arrange
    let graph = Pages::start(|_| {
        let next = "https://attacker.example/v1.0/users/guest/sponsors?$skiptoken=X1";
        vec![
            page(json!([{ "id": "u-1" }]), Some(next.into())),
            page(json!([]), None),
        ]
    })
    .await;
    let client = client(&graph.url, quick());

    // Act
    let error = client.sponsors("guest").await.unwrap_err();

    // Assert
    assert!(matches!(error, GraphError::Decode(_)), "{error:?}");
    assert_eq!(graph.seen().len(), 1);
}

#[tokio::test]
async fn paging_stops_with_an_error_after_ten_pages() {
    // Arrange: every page points at one more.
    let graph = Pages::start(|url| {
        let next = format!("{url}/v1.0/groups/g-1/transitiveMembers?$skiptoken=again");
        let user = json!([{ "@odata.type": "#microsoft.graph.user", "id": "u-1" }]);
        vec![page(user, Some(next))]
    })
    .await;
    let client = client(&graph.url, quick());

    // Act
    let error = client.group_user_members("g-1").await.unwrap_err();

    // Assert
    assert!(matches!(error, GraphError::Decode(_)), "{error:?}");
    assert_eq!(graph.seen().len(), 10);
}
