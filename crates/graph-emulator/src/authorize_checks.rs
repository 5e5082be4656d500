//! What the authorization endpoint checks of a request, on the `GET` and again on the
//! `POST` (see `authorize`): first the tenant, the client and the redirect URI, whose
//! failures Entra shows on its own page; then, with a trusted redirect URI, the
//! response type and mode, the scope and the PKCE challenge, whose failures go back to
//! the client.

use axum::http::StatusCode;

use super::client_auth::client_not_found;
use super::delegated_scope::{self, Requested};
use super::errors::AadError;
use super::form::field;
use super::pkce::Challenge;
use super::redirect_uri;
use super::state::{App, State as Directory};

/// A request whose client and redirect URI can be trusted and whose details are valid.
pub(super) struct Checked {
    pub(super) client_id: String,
    pub(super) client_name: String,
    /// As the request sent it (a loopback port included).
    pub(super) redirect_uri: String,
    pub(super) state: Option<String>,
    pub(super) nonce: Option<String>,
    pub(super) scope: Requested,
    pub(super) challenge: Option<Challenge>,
}

/// Why a request is refused, and where the refusal goes.
pub(super) enum Refusal {
    /// Entra's error page: the redirect URI cannot be trusted.
    Page(AadError),
    /// The client's redirect URI, with the request's `state`.
    Redirect {
        to: String,
        state: Option<String>,
        error: AadError,
    },
}

impl Checked {
    /// An error sent back to this request's redirect URI.
    pub(super) fn refuse(&self, error: AadError) -> Refusal {
        Refusal::Redirect {
            to: self.redirect_uri.clone(),
            state: self.state.clone(),
            error,
        }
    }
}

pub(super) fn check(
    directory: &Directory,
    tenant: &str,
    form: &[(String, String)],
) -> Result<Checked, Refusal> {
    let (client, redirect_uri) = trusted(directory, tenant, form).map_err(Refusal::Page)?;
    let state = present(form, "state").map(str::to_owned);
    let refused = |error| Refusal::Redirect {
        to: redirect_uri.to_owned(),
        state: state.clone(),
        error,
    };
    let (scope, challenge) = details(directory, form).map_err(refused)?;
    Ok(Checked {
        client_id: client.client_id.clone(),
        client_name: client.display_name.clone(),
        redirect_uri: redirect_uri.to_owned(),
        nonce: present(form, "nonce").map(str::to_owned),
        state,
        scope,
        challenge,
    })
}

/// The tenant, the client, and a redirect URI registered for it.
fn trusted<'a>(
    directory: &'a Directory,
    tenant: &str,
    form: &'a [(String, String)],
) -> Result<(&'a App, &'a str), AadError> {
    let client_id =
        present(form, "client_id").ok_or_else(|| AadError::missing_parameter("client_id"))?;
    let alias = ["common", "organizations", "consumers"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(tenant));
    if !alias && !directory.is_tenant(tenant) {
        return Err(AadError::tenant_not_found("invalid_request", tenant));
    }
    let client = directory
        .app(client_id)
        .ok_or_else(|| client_not_found(client_id, tenant))?;
    if alias {
        return Err(single_tenant(client));
    }
    let redirect_uri = registered(client, form)?;
    Ok((client, redirect_uri))
}

/// The request's redirect URI, if the client registered it.
fn registered<'a>(client: &App, form: &'a [(String, String)]) -> Result<&'a str, AadError> {
    let redirect_uri = present(form, "redirect_uri");
    let redirect_uri = redirect_uri.ok_or_else(|| AadError::missing_parameter("redirect_uri"))?;
    if client.redirect_uris.is_empty() {
        let message = "No reply address is registered for the application.".to_owned();
        return Err(AadError::invalid_request(500113, message));
    }
    let known = (client.redirect_uris.iter()).any(|r| redirect_uri::matches(r, redirect_uri));
    if !known {
        return Err(redirect_mismatch(redirect_uri, client));
    }
    Ok(redirect_uri)
}

/// Response type and mode, scope, PKCE.
fn details(
    directory: &Directory,
    form: &[(String, String)],
) -> Result<(Requested, Option<Challenge>), AadError> {
    let response_type = present(form, "response_type")
        .ok_or_else(|| AadError::missing_parameter("response_type"))?;
    if response_type != "code" {
        return Err(unsupported_response_type(response_type));
    }
    if let Some(mode) = present(form, "response_mode").filter(|m| *m != "query") {
        // Entra also answers `fragment` and `form_post`; the emulator does not.
        let message =
            format!("The emulator answers with response_mode 'query' only, not '{mode}'.");
        return Err(AadError::invalid_request(70007, message));
    }
    let scope = present(form, "scope").ok_or_else(|| AadError::missing_parameter("scope"))?;
    let scope = delegated_scope::parse(scope, directory)?;
    let challenge = Challenge::from_request(
        present(form, "code_challenge"),
        present(form, "code_challenge_method"),
    )?;
    Ok((scope, challenge))
}

fn present<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    field(form, name).filter(|v| !v.trim().is_empty())
}

/// AADSTS50011 as Entra words it today (e.g. unoplatform/uno.todo#180).
fn redirect_mismatch(redirect_uri: &str, client: &App) -> AadError {
    let message = format!(
        "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
        client.client_id
    );
    AadError::invalid_request(50011, message)
}

/// AADSTS50194: the demo's apps are single-tenant, so `common` and `organizations` do
/// not sign in to them (reference-error-codes.md; the date is the one observed).
fn single_tenant(client: &App) -> AadError {
    let message = format!(
        "Application '{}'({}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.",
        client.client_id, client.display_name
    );
    AadError::invalid_request(50194, message)
}

/// `unsupported_response_type` (the authorization endpoint's documented error code).
/// The app does not enable the implicit grant, so `id_token` (AADSTS700054,
/// reference-error-codes.md) and `token` (AADSTS700051, as observed; UNVERIFIED) are not
/// enabled; the answer to any other value is UNVERIFIED.
fn unsupported_response_type(response_type: &str) -> AadError {
    let types: Vec<&str> = response_type.split_whitespace().collect();
    let (code, message) = if types.contains(&"id_token") {
        (
            700054,
            "response_type 'id_token' is not enabled for the application.".to_owned(),
        )
    } else if types.contains(&"token") {
        (
            700051,
            "response_type 'token' is not enabled for the application.".to_owned(),
        )
    } else {
        let message = format!(
            "The provided value for the input parameter 'response_type' is not valid: '{response_type}'."
        );
        (70005, message)
    };
    AadError::new(
        StatusCode::BAD_REQUEST,
        "unsupported_response_type",
        code,
        message,
    )
}
