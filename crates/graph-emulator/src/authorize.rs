//! The authorization endpoint, `/{tenant}/oauth2/v2.0/authorize`, for the authorization
//! code flow with PKCE and OpenID Connect (v2-oauth2-auth-code-flow.md,
//! v2-protocols-oidc.md). `GET` with the request in the query shows the sign-in page
//! (`sign_in_page`); the page posts the request back with the person chosen, and the
//! answer is a `302` to the client's `redirect_uri` with `code`, `state` and
//! `session_state` (`response_mode=query`, the default for a code and the only mode the
//! emulator answers in).
//!
//! The client and its redirect URI are checked first. While either is unknown the
//! endpoint cannot trust the redirect URI, so, as Entra, it shows its error page
//! (AADSTS700016, AADSTS50011, …) and does not redirect. Every later error goes back to
//! the redirect URI as `error`, `error_description` (with the AADSTS code) and `state`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::auth_codes::Grant;
use super::authorize_checks::{Checked, Refusal, check};
use super::errors::{AadError, correlation_id};
use super::form::{field, parse_form};
use super::sign_in_page::{self, Page, Person};
use super::state::{App, State as Directory, text};
use super::{Emulator, redirect_uri};

/// The route, under the authority.
pub(super) const PATH: &str = "/{tenant}/oauth2/v2.0/authorize";
/// The request parameters the sign-in page carries from the `GET` to its `POST`.
const CARRIED: &[&str] = &[
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "response_mode",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "login_hint",
    "domain_hint",
];

/// `GET`: the sign-in page, or a refusal.
pub(super) async fn show(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let form = parse_form(raw.unwrap_or_default().as_bytes());
    let directory = emulator.lock();
    match check(&directory, &tenant, &form) {
        Ok(checked) => page(&directory, &tenant, &checked, &form),
        Err(refusal) => refusal.render(&correlation_id(&headers)),
    }
}

/// `POST` from the sign-in page: the request checked again, then a code for the person
/// chosen (`user`, an object id) and the redirect that carries it.
pub(super) async fn sign_in(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let correlation = correlation_id(&headers);
    let mut directory = emulator.lock();
    let checked = match check(&directory, &tenant, &form) {
        Ok(checked) => checked,
        Err(refusal) => return refusal.render(&correlation),
    };
    let chosen = field(&form, "user").filter(|id| is_offered(&directory, id));
    let Some(user_id) = chosen.map(str::to_owned) else {
        return sign_in_page::error_page(&no_such_user(&directory), &correlation);
    };
    let grant = grant(&checked, user_id);
    let Some(code) = directory.auth_codes.issue(grant) else {
        let refusal = checked.refuse(AadError::signing_failed("no random bytes for a code"));
        return refusal.render(&correlation);
    };
    let session_state = uuid::Uuid::new_v4().to_string();
    let mut params = vec![("code", code.as_str())];
    params.extend(checked.state.as_deref().map(|s| ("state", s)));
    params.push(("session_state", &session_state));
    found(
        &redirect_uri::with_params(&checked.redirect_uri, &params),
        &correlation,
    )
}

fn grant(checked: &Checked, user_id: String) -> Grant {
    Grant {
        client_id: checked.client_id.clone(),
        redirect_uri: checked.redirect_uri.clone(),
        scope: checked.scope.clone(),
        nonce: checked.nonce.clone(),
        challenge: checked.challenge.clone(),
        user_id,
    }
}

/// A `302` to `location`; a location that is no header value (it came from a registered
/// redirect URI, so it should not happen) is the error page.
pub(super) fn found(location: &str, correlation: &str) -> Response {
    let Ok(value) = HeaderValue::from_str(location) else {
        let error = AadError::signing_failed("the redirect URI is not a valid header value");
        return sign_in_page::error_page(&error, correlation);
    };
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(header::LOCATION, value);
    let no_store = HeaderValue::from_static("no-store, no-cache");
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, no_store);
    response
}

fn page(
    directory: &Directory,
    tenant: &str,
    checked: &Checked,
    form: &[(String, String)],
) -> Response {
    let api = directory.app(&checked.scope.api_client_id);
    let params = CARRIED
        .iter()
        .filter_map(|name| field(form, name).map(|v| (*name, v)));
    let page = Page {
        tenant_name: directory
            .tenant
            .display_name
            .as_deref()
            .unwrap_or(&directory.tenant.domain),
        client_name: &checked.client_name,
        api_name: api.map_or(checked.scope.resource.as_str(), |a| a.display_name.as_str()),
        action: format!("/{tenant}/oauth2/v2.0/authorize"),
        params: params.collect(),
        people: people(directory, api),
    };
    sign_in_page::sign_in(&page)
}

/// The tenant's enabled members, with their roles on the API asked for.
fn people(directory: &Directory, api: Option<&App>) -> Vec<Person> {
    let person = |user: &Map<String, Value>| {
        let id = text(user, "id").unwrap_or_default();
        Person {
            id: id.to_owned(),
            name: text(user, "displayName").unwrap_or(id).to_owned(),
            mail: text(user, "mail")
                .or(text(user, "userPrincipalName"))
                .unwrap_or_default()
                .to_owned(),
            roles: api
                .map(|api| directory.user_roles_on(id, api))
                .unwrap_or_default(),
        }
    };
    directory
        .users
        .iter()
        .filter(|u| is_member(u))
        .map(person)
        .collect()
}

/// The page offers members only (guests sign in through their home tenant); an
/// account disabled in the directory cannot sign in.
fn is_member(user: &Map<String, Value>) -> bool {
    let member = text(user, "userType").is_some_and(|t| t.eq_ignore_ascii_case("Member"));
    member && user.get("accountEnabled") != Some(&Value::Bool(false))
}

fn is_offered(directory: &Directory, user_id: &str) -> bool {
    directory.user(user_id).is_some_and(is_member)
}

/// AADSTS50034 "UserAccountNotFound" (reference-error-codes.md), the answer to a choice
/// the page did not offer; the wording is as observed, the account hidden.
fn no_such_user(directory: &Directory) -> AadError {
    let message = format!(
        "The user account {{EmailHidden}} does not exist in the '{}' directory. To sign into this application, the account must be added to the directory.",
        directory.tenant.domain
    );
    AadError::new(StatusCode::BAD_REQUEST, "invalid_request", 50034, message)
}

impl Refusal {
    /// The error page, or the redirect that carries the error.
    pub(super) fn render(&self, correlation: &str) -> Response {
        match self {
            Refusal::Page(error) => sign_in_page::error_page(error, correlation),
            Refusal::Redirect { to, state, error } => {
                let trace = uuid::Uuid::new_v4().to_string();
                let description =
                    error.description(&trace, correlation, &super::clock::aad_timestamp());
                let mut params = vec![("error", error.error), ("error_description", &description)];
                params.extend(state.as_deref().map(|s| ("state", s)));
                found(&redirect_uri::with_params(to, &params), correlation)
            }
        }
    }
}
