//! The token authority: `POST /{tenant}/oauth2/v2.0/token`, with the client-credentials
//! grant (client secret or certificate assertion, see `client_auth`) answering with
//! v1-style Graph access tokens or v2.0 tokens for the tenant's own APIs (see
//! `api_token`), and the authorization-code grant of a user's sign-in (see `code_grant`);
//! or the documented AAD error bodies.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::client_auth::{Credential, authenticate, client_credentials, required};
use super::errors::{AadError, correlation_id};
use super::form::parse_form;
use super::scope::{Resource, requested_resource};
use super::state::{App, State as Directory};
use super::token_headers::add_token_headers;
use super::{Emulator, GRAPH_AUDIENCE, api_token, clock, code_grant, oidc};

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
    let body = match required(&form, "grant_type")? {
        "client_credentials" => app_token(emulator, &mut directory, tenant, headers, &form)?,
        "authorization_code" => {
            code_grant::redeem(emulator, &mut directory, tenant, headers, &form)?
        }
        other => return Err(unsupported_grant_type(other)),
    };
    Ok(token_response(body))
}

/// The client-credentials grant: an app-only token for Graph or one of the tenant's APIs.
fn app_token(
    emulator: &Emulator,
    directory: &mut Directory,
    tenant: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<Value, AadError> {
    let (client_id, credential) = client_credentials(form, headers)?;
    let scope = required(form, "scope")?;
    let origin = oidc::origin(headers);
    let (app, used) = authenticate(directory, tenant, &client_id, &credential, &origin)?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let lifetime = directory.token_lifetime;
    let token = match requested_resource(scope, host, directory)? {
        Resource::Graph => {
            let token = mint(emulator, directory, app, &credential, lifetime)?;
            if directory.issued_graph_tokens.len() < 1000 {
                directory.issued_graph_tokens.push(token.clone());
            }
            token
        }
        Resource::Api(api) => api_token::issue(emulator, directory, app, api, &origin)?,
    };
    // Only an assertion that earned a token is spent; a refused request may be retried.
    if let Some(used) = used {
        directory.seen_assertions.record(used);
    }
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token,
    }))
}

fn token_response(body: Value) -> Response {
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    add_token_headers(&mut response, &uuid::Uuid::new_v4().to_string());
    response
}

fn unsupported_grant_type(grant_type: &str) -> AadError {
    let message = format!(
        "The provided value for the input parameter 'grant_type' is not valid. Grant type '{grant_type}' is not supported."
    );
    AadError::new(
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        70003,
        message,
    )
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

fn mint(
    emulator: &Emulator,
    directory: &Directory,
    app: &App,
    credential: &Credential,
    lifetime: u64,
) -> Result<String, AadError> {
    let acr = credential.acr();
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
