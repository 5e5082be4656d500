//! A state-changing console form: the signed-in person and the form's
//! fields, only once its CSRF token (and the browser's `Origin`, when sent)
//! proved it came from this session's own page. Every POST handler takes
//! one, so none can forget the check.

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::console_of;
use super::session::Person;
use crate::http::AppState;

/// The fields of a posted form, after the CSRF check.
pub(super) struct Posted<T> {
    pub person: Person,
    pub form: T,
}

/// What the browser sent: the token beside the handler's own fields.
#[derive(Deserialize)]
struct WithCsrf<T> {
    csrf: Option<String>,
    #[serde(flatten)]
    form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Posted<T>, Response> {
        let (mut parts, body) = request.into_parts();
        let person = Person::from_request_parts(&mut parts, state).await?;
        let headers = parts.headers.clone();
        let request = Request::from_parts(parts, body);
        let Form(sent) = match Form::<WithCsrf<T>>::from_request(request, state).await {
            Ok(sent) => sent,
            Err(e) => {
                return Err(person.refused(
                    StatusCode::BAD_REQUEST,
                    "Not a form of the console",
                    &e.body_text(),
                ));
            }
        };
        let console = console_of(state)?;
        person.check_csrf(&headers, sent.csrf.as_deref(), &console.origin(&headers))?;
        Ok(Posted {
            person,
            form: sent.form,
        })
    }
}
