//! The console's calls to the API, in process: a request to the API's own
//! router carrying the signed-in person (a request extension no client can
//! set) instead of a token. Whatever the API decides, the console shows.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tower::ServiceExt as _;

use super::session::Person;
use crate::http::auth::SignedIn;
use crate::http::problem::Problem;
use crate::http::{AppState, routes};
use crate::problem::ProblemType;

/// The largest API answer a page reads (a job's items as CSV stream instead).
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// An API answer, read whole.
pub(super) struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    pub(super) fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The problem's `detail` (or its title) when the API refused.
    pub(super) fn problem(&self) -> String {
        let detail = self.body["detail"].as_str().or(self.body["title"].as_str());
        detail.unwrap_or("The service could not answer.").to_owned()
    }
}

/// A request to the API as `person`.
pub(super) struct Call<'a> {
    pub method: Method,
    pub uri: String,
    pub body: Option<(&'static str, Bytes)>,
    pub headers: Vec<(&'static str, String)>,
    pub person: &'a Person,
}

impl<'a> Call<'a> {
    pub(super) fn get(person: &'a Person, uri: impl Into<String>) -> Call<'a> {
        Call {
            method: Method::GET,
            uri: uri.into(),
            body: None,
            headers: Vec::new(),
            person,
        }
    }

    pub(super) fn post_json(person: &'a Person, uri: impl Into<String>, body: &Value) -> Call<'a> {
        let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
        Call {
            method: Method::POST,
            uri: uri.into(),
            body: Some(("application/json", bytes)),
            headers: Vec::new(),
            person,
        }
    }

    pub(super) fn header(mut self, name: &'static str, value: impl Into<String>) -> Call<'a> {
        self.headers.push((name, value.into()));
        self
    }

    /// The API's answer as it is (streams, CSV).
    pub(super) async fn send(self, state: &AppState) -> Response {
        let mut request = Request::builder().method(self.method).uri(&self.uri);
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        let body = match self.body {
            Some((content_type, bytes)) => {
                request =
                    request.header(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let request = request
            .extension(SignedIn(self.person.session.identity.clone()))
            .body(body);
        let Ok(request) = request else {
            let problem = Problem::new(ProblemType::InvalidRequest, "a console link is malformed");
            return problem.into_response();
        };
        match routes().with_state(state.clone()).oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// The API's answer, read as JSON.
    pub(super) async fn json(self, state: &AppState) -> Answer {
        let response = self.send(state).await;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER)
            .await
            .unwrap_or_default();
        Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }
}
