//! Client authentication at the token endpoint, for every grant: a client secret in the
//! form body or HTTP Basic (RFC 6749 §2.3.1), or a certificate's client assertion (see
//! `assertion`), exactly one of them, checked against the app registration.

use axum::http::{HeaderMap, StatusCode, header};

use super::assertion;
use super::errors::AadError;
use super::form::{basic_credentials, field};
use super::seen_assertions::UsedAssertion;
use super::state::{App, State as Directory};

pub(super) fn required<'a>(form: &'a [(String, String)], name: &str) -> Result<&'a str, AadError> {
    match field(form, name) {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(AadError::missing_parameter(name)),
    }
}

/// How the client proved who it is.
pub(super) enum Credential {
    Secret(String),
    Assertion(String),
}

impl Credential {
    /// `appidacr` / `azpacr`: "1" for a client secret, "2" for a client certificate
    /// (access-token-claims-reference.md).
    pub(super) fn acr(&self) -> &'static str {
        match self {
            Credential::Secret(_) => "1",
            Credential::Assertion(_) => "2",
        }
    }
}

/// Client id and credential: a secret from the form body or HTTP Basic (RFC 6749
/// §2.3.1), or a client assertion. Exactly one: RFC 6749 §2.3 forbids more than one
/// authentication method per request, and §5.2 answers that with `invalid_request`.
pub(super) fn client_credentials(
    form: &[(String, String)],
    headers: &HeaderMap,
) -> Result<(String, Credential), AadError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(basic_credentials);
    let client_id = field(form, "client_id")
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .or_else(|| basic.as_ref().map(|(id, _)| id.clone()))
        .ok_or_else(|| AadError::missing_parameter("client_id"))?;
    let secret = field(form, "client_secret")
        .map(str::to_owned)
        .or_else(|| basic.map(|(_, secret)| secret))
        .filter(|s| !s.is_empty());
    let assertion = field(form, "client_assertion").filter(|a| !a.is_empty());
    let credential = match (secret, assertion) {
        (Some(secret), None) => Credential::Secret(secret),
        (None, Some(jwt)) => {
            check_assertion_type(form)?;
            Credential::Assertion(jwt.to_owned())
        }
        (Some(_), Some(_)) => {
            // Entra's answer is undocumented; 90023 is its generic InvalidRequest.
            let message = "Only one client authentication method may be used: send 'client_assertion' or 'client_secret', not both.";
            return Err(AadError::invalid_request(90023, message.to_owned()));
        }
        (None, None) => {
            // Real AAD answers this with AADSTS7000218 / invalid_client.
            let message = "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.";
            return Err(AadError::invalid_client(7000218, message.to_owned()));
        }
    };
    Ok((client_id, credential))
}

fn check_assertion_type(form: &[(String, String)]) -> Result<(), AadError> {
    let kind = required(form, "client_assertion_type")?;
    if kind == assertion::JWT_BEARER {
        return Ok(());
    }
    let message = format!(
        "The provided value for the input parameter 'client_assertion_type' is not valid: '{kind}'. Expected '{}'.",
        assertion::JWT_BEARER
    );
    Err(AadError::invalid_request(90023, message))
}

pub(super) fn authenticate<'a>(
    directory: &'a Directory,
    tenant: &str,
    client_id: &str,
    credential: &Credential,
    origin: &str,
) -> Result<(&'a App, Option<UsedAssertion>), AadError> {
    let Some(app) = directory.app(client_id) else {
        return Err(client_not_found(client_id, tenant));
    };
    match credential {
        Credential::Secret(secret) => check_secret(app, secret).map(|()| (app, None)),
        Credential::Assertion(jwt) => {
            let used = assertion::verify(directory, app, jwt, origin)?;
            Ok((app, Some(used)))
        }
    }
}

fn check_secret(app: &App, secret: &str) -> Result<(), AadError> {
    // An app with certificates only has an empty secret, which no request can match.
    if app.client_secret.is_empty() || app.client_secret != secret {
        let message = format!(
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
            app.client_id
        );
        return Err(AadError::invalid_client(7000215, message));
    }
    if app.secret_expired {
        let message = format!(
            "The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
            app.client_id
        );
        return Err(AadError::invalid_client(7000222, message));
    }
    Ok(())
}

/// AADSTS700016: the client is not registered in the tenant (`tenant` as the request
/// named it).
pub(super) fn client_not_found(client_id: &str, tenant: &str) -> AadError {
    let message = format!(
        "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
    );
    AadError::new(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
        message,
    )
}
