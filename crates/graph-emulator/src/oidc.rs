//! The OpenID Connect metadata a resource server reads to validate the emulator's API
//! tokens, and a web app reads to sign people in (its authorization and token
//! endpoints, and the keys that sign its ID tokens):
//! `GET /{tenant}/v2.0/.well-known/openid-configuration` and
//! `GET /{tenant}/discovery/v2.0/keys`, in the shape of Entra's v2.0 endpoints
//! (v2-protocols-oidc.md, "Find your app's OpenID configuration document URI").
//!
//! The emulator's authority is its own origin (`http://` + the Host the caller used),
//! so the issuer is `{origin}/{tenant id}/v2.0` just as Entra's is
//! `https://login.microsoftonline.com/{tenant id}/v2.0`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Emulator;
use super::errors::{AadError, correlation_id};

/// The placeholder Entra's tenant-independent documents put in issuers.
const TENANT_TEMPLATE: &str = "{tenantid}";
/// Entra's metadata answers allow a day of caching (observed; not in the docs).
const METADATA_CACHE_CONTROL: &str = "max-age=86400, private";

/// The issuer of API tokens of `tenant_id` at `origin` (no trailing slash).
pub(super) fn issuer(origin: &str, tenant_id: &str) -> String {
    format!("{origin}/{tenant_id}/v2.0")
}

/// `http://{Host}`: the address the caller reached the emulator at.
pub(super) fn origin(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    format!("http://{}", host.unwrap_or("localhost"))
}

/// Which metadata a path's `{tenant}` selects.
struct Authority {
    /// Path segment used in the endpoint URLs: the tenant id, or the alias as given.
    segment: String,
    /// Tenant id for the issuer, or Entra's `{tenantid}` template for the aliases.
    issuer_tenant: String,
    tenant_scoped: bool,
}

fn authority(emulator: &Emulator, tenant: &str) -> Result<Authority, AadError> {
    // `common` and `organizations` serve tenant-independent metadata; `consumers` would
    // name the personal-account tenant, which the emulator does not have.
    if ["common", "organizations"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(tenant))
    {
        return Ok(Authority {
            segment: tenant.to_ascii_lowercase(),
            issuer_tenant: TENANT_TEMPLATE.to_owned(),
            tenant_scoped: false,
        });
    }
    let directory = emulator.lock();
    if !directory.is_tenant(tenant) {
        return Err(AadError::tenant_not_found("invalid_tenant", tenant));
    }
    Ok(Authority {
        segment: directory.tenant.id.clone(),
        issuer_tenant: directory.tenant.id.clone(),
        tenant_scoped: true,
    })
}

pub(super) async fn openid_configuration(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    match authority(&emulator, &tenant) {
        Ok(authority) => metadata_response(configuration(&origin(&headers), &authority)),
        Err(error) => error.render(&correlation_id(&headers)),
    }
}

pub(super) async fn keys(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = authority(&emulator, &tenant).and_then(|authority| {
        let issuer = issuer(&origin(&headers), &authority.issuer_tenant);
        let jwks = emulator.signing_keys().jwks(&issuer);
        jwks.map_err(AadError::signing_failed)
    });
    match result {
        Ok(jwks) => metadata_response(jwks),
        Err(error) => error.render(&correlation_id(&headers)),
    }
}

/// Entra's v2.0 document, less the endpoints of clouds and services the emulator does
/// not stand in for (Kerberos, AAD Graph, RBAC, userinfo). Of the endpoints listed the
/// emulator serves the token endpoint, the authorization endpoint (code flow with PKCE,
/// `response_mode=query`, see `authorize.rs`) and the keys; the device-code and logout
/// endpoints, and the other response types and modes, are listed for shape only.
fn configuration(origin: &str, authority: &Authority) -> Value {
    let base = format!("{origin}/{}", authority.segment);
    let host = origin.trim_start_matches("http://");
    let mut document = json!({
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer(origin, &authority.issuer_tenant),
        "request_uri_parameter_supported": false,
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "tenant_region_scope": null,
        "cloud_instance_name": host,
        "msgraph_host": host,
    });
    // Tenant documents name the tenant's region; Contoso is the usual North America
    // sample. The tenant-independent documents carry null.
    if authority.tenant_scoped {
        document["tenant_region_scope"] = json!("NA");
    }
    document
}

fn metadata_response(body: Value) -> Response {
    let mut response = (StatusCode::OK, Json(body)).into_response();
    let headers = response.headers_mut();
    let cache = HeaderValue::from_static(METADATA_CACHE_CONTROL);
    headers.insert(header::CACHE_CONTROL, cache);
    // Browser-based clients read these documents cross-origin, so Entra allows any origin.
    let any = HeaderValue::from_static("*");
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, any);
    let json = HeaderValue::from_static("application/json; charset=utf-8");
    headers.insert(header::CONTENT_TYPE, json);
    response
}
