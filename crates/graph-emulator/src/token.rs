//! The token authority: `POST /{tenant}/oauth2/v2.0/token`, client-credentials grant only
//! (client secret or certificate assertion, see `assertion`),
//! answering with v1-style Graph access tokens, v2.0 tokens for the tenant's own APIs
//! (see `api_token`), or the documented AAD error bodies.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::errors::{AadError, correlation_id};
use super::form::{basic_credentials, field, parse_form};
use super::scope::{Resource, requested_resource};
use super::seen_assertions::UsedAssertion;
use super::state::{App, State as Directory};
use super::token_headers::add_token_headers;
use super::{Emulator, GRAPH_AUDIENCE, api_token, assertion, clock, oidc};

/// Claims of the access tokens the emulator issues, in the v1.0 shape Graph receives for
/// app-only calls (graph.md §6.6): `roles` carries the application permissions.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct AccessClaims {
    pub aud: String,
    pub iss: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub appid: String,
    pub appidacr: String,
    pub idtyp: String,
    pub oid: String,
    pub sub: String,
    pub tid: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub ver: String,
}

pub(super) fn issuer(tenant_id: &str) -> String {
    format!("https://sts.windows.net/{tenant_id}/")
}

pub(super) async fn issue_token(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let correlation_id = correlation_id(&headers);
    match grant(&emulator, &tenant, &headers, &body) {
        Ok(response) => response,
        Err(error) => error.render(&correlation_id),
    }
}

fn grant(
    emulator: &Emulator,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, AadError> {
    let mut directory = emulator.lock();
    check_tenant(&directory, tenant)?;
    let form = parse_form(body);
    check_grant_type(required(&form, "grant_type")?)?;
    let (client_id, credential) = client_credentials(&form, headers)?;
    let scope = required(&form, "scope")?;
    let origin = oidc::origin(headers);
    let (app, used) = authenticate(&directory, tenant, &client_id, &credential, &origin)?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let lifetime = directory.token_lifetime;
    let token = match requested_resource(scope, host, &directory)? {
        Resource::Graph => {
            let token = mint(emulator, &directory, app, &credential, lifetime)?;
            if directory.issued_graph_tokens.len() < 1000 {
                directory.issued_graph_tokens.push(token.clone());
            }
            token
        }
        Resource::Api(api) => api_token::issue(emulator, &directory, app, api, &origin)?,
    };
    // Only an assertion that earned a token is spent; a refused request may be retried.
    if let Some(used) = used {
        directory.seen_assertions.record(used);
    }
    Ok(token_response(&token, lifetime))
}

fn token_response(token: &str, lifetime: u64) -> Response {
    let body = json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token,
    });
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    add_token_headers(&mut response, &uuid::Uuid::new_v4().to_string());
    response
}

fn check_grant_type(grant_type: &str) -> Result<(), AadError> {
    if grant_type == "client_credentials" {
        return Ok(());
    }
    let message = format!(
        "The provided value for the input parameter 'grant_type' is not valid. Grant type '{grant_type}' is not supported."
    );
    Err(AadError::new(
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        70003,
        message,
    ))
}

/// Headers the token service sets on every answer; tokens must never be cached.
fn check_tenant(directory: &Directory, tenant: &str) -> Result<(), AadError> {
    // The client-credentials grant needs a concrete tenant; AAD refuses the multi-tenant
    // aliases. For /organizations the exact code is UNVERIFIED; the /common one is used.
    if ["common", "consumers", "organizations"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(tenant))
    {
        let message = "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.";
        return Err(AadError::invalid_request(9001023, message.to_owned()));
    }
    if directory.is_tenant(tenant) {
        return Ok(());
    }
    Err(AadError::tenant_not_found("invalid_request", tenant))
}

fn required<'a>(form: &'a [(String, String)], name: &str) -> Result<&'a str, AadError> {
    match field(form, name) {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(AadError::missing_parameter(name)),
    }
}

/// How the client proved who it is.
enum Credential {
    Secret(String),
    Assertion(String),
}

/// Client id and credential: a secret from the form body or HTTP Basic (RFC 6749
/// §2.3.1), or a client assertion. Exactly one: RFC 6749 §2.3 forbids more than one
/// authentication method per request, and §5.2 answers that with `invalid_request`.
fn client_credentials(
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

fn authenticate<'a>(
    directory: &'a Directory,
    tenant: &str,
    client_id: &str,
    credential: &Credential,
    origin: &str,
) -> Result<(&'a App, Option<UsedAssertion>), AadError> {
    let Some(app) = directory.app(client_id) else {
        let message = format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
        );
        return Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            message,
        ));
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

fn mint(
    emulator: &Emulator,
    directory: &Directory,
    app: &App,
    credential: &Credential,
    lifetime: u64,
) -> Result<String, AadError> {
    // `appidacr`: 1 = client secret, 2 = client certificate (access-token claims reference).
    let acr = match credential {
        Credential::Secret(_) => "1",
        Credential::Assertion(_) => "2",
    };
    let now = clock::unix_seconds();
    let claims = AccessClaims {
        aud: GRAPH_AUDIENCE.to_owned(),
        iss: issuer(&directory.tenant.id),
        iat: now,
        nbf: now,
        exp: now + lifetime,
        appid: app.client_id.clone(),
        appidacr: acr.to_owned(),
        idtyp: "app".to_owned(),
        oid: app.service_principal_id.clone(),
        sub: app.service_principal_id.clone(),
        tid: directory.tenant.id.clone(),
        roles: app.roles.clone(),
        ver: "1.0".to_owned(),
    };
    // Graph tokens stay HS256 with a per-emulator secret: only the emulator's own Graph
    // routes validate them, and they must never verify against the published API keys.
    let key = EncodingKey::from_secret(emulator.signing_key());
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
        .map_err(AadError::signing_failed)
}
