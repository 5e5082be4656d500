//! Which tenant of a [`crate::Cloud`] answers a request. Entra and Graph serve every
//! tenant from one authority host and one Graph host: the authority reads the tenant
//! from the URL path, Graph from the access token. The chosen tenant's own router
//! then answers exactly as a lone emulator would.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use super::Emulator;
use super::bearer::bearer_token;

const CONTROL_PREFIX: &str = "/_emulator/";
const TENANT_CONTROL_PREFIX: &str = "/_emulator/tenants/";

/// The tenants and their routers, built once; index 0 is the home tenant.
#[derive(Clone)]
struct Dispatch {
    tenants: Arc<[Emulator]>,
    routers: Arc<[Router]>,
}

/// The router of a cloud: `GET /_emulator/tenants` lists the tenants, everything else
/// goes to one tenant's router (see [`Dispatch::pick`]).
pub(super) fn router(tenants: Arc<[Emulator]>) -> Router {
    let routers = tenants.iter().map(Emulator::router).collect();
    Router::new()
        .route("/_emulator/tenants", get(list_tenants))
        .fallback(dispatch)
        .with_state(Dispatch { tenants, routers })
}

async fn dispatch(State(cloud): State<Dispatch>, request: Request) -> Response {
    let (index, request) = match cloud.pick(request) {
        Ok(picked) => picked,
        Err(unknown) => return not_found(format!("no tenant '{unknown}'")),
    };
    let Some(router) = cloud.routers.get(index).cloned() else {
        return not_found("the emulator hosts no tenant".to_owned());
    };
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

impl Dispatch {
    /// The tenant for a request, and the request as that tenant must see it:
    /// - `/_emulator/tenants/{id or domain}/{rest}`: that tenant, as `/_emulator/{rest}`;
    /// - any other `/_emulator/…`: the home tenant, as with a lone emulator;
    /// - `/{id or domain}/…` (the authority: token, discovery, keys): that tenant;
    /// - anything else (Graph): the tenant of the bearer token, see [`token_tenant`].
    ///
    /// What names no tenant goes to the home tenant, which answers it as a lone
    /// emulator does: `common`, `organizations` and unknown tenants at the authority
    /// (AADSTS9001023, AADSTS90002), a missing or foreign token at Graph (401).
    ///
    /// Err names the tenant a per-tenant control route asked for and none is.
    fn pick(&self, request: Request) -> Result<(usize, Request), String> {
        let path = request.uri().path();
        if let Some(rest) = path.strip_prefix(TENANT_CONTROL_PREFIX) {
            let (name, rest) = rest.split_once('/').unwrap_or((rest, ""));
            let Some(index) = self.find(name) else {
                return Err(name.to_owned());
            };
            let path = format!("{CONTROL_PREFIX}{rest}");
            return Ok((index, with_path(request, &path)));
        }
        if path.starts_with(CONTROL_PREFIX) {
            return Ok((0, request));
        }
        let first = path.trim_start_matches('/').split('/').next();
        let index = (first.and_then(|segment| self.find(segment)))
            .or_else(|| token_tenant(request.headers()).and_then(|tid| self.find(&tid)))
            .unwrap_or(0);
        Ok((index, request))
    }

    /// The first tenant whose id or domain is `name` (case-insensitive).
    fn find(&self, name: &str) -> Option<usize> {
        self.tenants.iter().position(|t| t.is_tenant(name))
    }
}

/// The `tid` claim of the bearer token, read WITHOUT verifying the token. This is only
/// how Graph picks the tenant (the token's tenant); the chosen tenant then validates the
/// signature with its own key, so a token of tenant A whose `tid` was edited to B is
/// refused by B as an invalid token, never served by either.
fn token_tenant(headers: &HeaderMap) -> Option<String> {
    let payload = bearer_token(headers)?.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("tid")?.as_str().map(str::to_owned)
}

/// The request with another path, its query kept.
fn with_path(request: Request, path: &str) -> Request {
    let (mut parts, body) = request.into_parts();
    let target = match parts.uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut uri = parts.uri.clone().into_parts();
    // The new path is a suffix of a valid one behind a valid prefix, so it parses.
    if let Ok(target) = PathAndQuery::try_from(target) {
        uri.path_and_query = Some(target);
    }
    if let Ok(uri) = Uri::from_parts(uri) {
        parts.uri = uri;
    }
    Request::from_parts(parts, body)
}

/// `GET /_emulator/tenants`: id, domain and display name of each tenant, home first.
async fn list_tenants(State(cloud): State<Dispatch>) -> Json<Value> {
    let tenants = cloud.tenants.iter().enumerate().map(|(i, tenant)| {
        json!({
            "id": tenant.tenant_id(),
            "domain": tenant.tenant_domain(),
            "displayName": tenant.tenant_display_name(),
            "home": i == 0,
        })
    });
    Json(Value::Array(tenants.collect()))
}

/// The control surface's 404 shape (`{"error": …}`), as for an unknown user.
fn not_found(message: String) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": message }))).into_response()
}
