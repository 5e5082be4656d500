//! The operator console at `/console/`: server-rendered pages, compiled into
//! the binary, signed in with OpenID Connect (docs/console.md). Every page
//! acts as the signed-in person through the API's own routes, in process:
//! the same policy, approvals, problems and audit as a caller with that
//! person's token, never a console super-user.

// A handler that refuses returns the page it answers with; that a Response
// is larger than clippy likes for an `Err` costs nothing on this path.
#![allow(clippy::result_large_err)]

mod api;
mod approvals;
mod audit;
mod guests;
mod html;
mod jobs;
mod me;
mod oidc;
mod posted;
mod resets;
mod rows;
mod session;
mod signin;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use reqwest::Url;
use session::Person;

use super::AppState;
use crate::auth::{AuthSettings, Verifier};
use crate::config::ConsoleConfig;

/// How long the console waits for the identity provider.
const IDP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The console's sign-in settings and what it learned from the issuer.
pub struct Console {
    config: ConsoleConfig,
    /// Follows no redirects: the token endpoint is called with a secret.
    http: reqwest::Client,
    /// ID tokens: the issuer's keys, the console's client id as audience.
    id_tokens: Verifier,
    endpoints: tokio::sync::RwLock<Option<Endpoints>>,
}

#[derive(Clone)]
struct Endpoints {
    authorization: Url,
    token: Url,
}

impl Console {
    pub fn new(config: ConsoleConfig, auth: &AuthSettings) -> anyhow::Result<Console> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(IDP_TIMEOUT)
            .build()?;
        let settings = AuthSettings {
            oidc: auth.oidc.clone(),
            hs256: None,
            audiences: vec![config.client_id.clone()],
            leeway_secs: auth.leeway_secs,
        };
        Ok(Console {
            id_tokens: Verifier::new(settings, http.clone()),
            config,
            http,
            endpoints: tokio::sync::RwLock::new(None),
        })
    }

    /// The console's origin as browsers see it: the configured URL, else
    /// the request's own (http on loopback, https elsewhere).
    fn origin(&self, headers: &HeaderMap) -> String {
        match &self.config.public_url {
            Some(url) => Url::parse(url)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_else(|_| url.clone()),
            None => session::own_origin(headers),
        }
    }

    fn redirect_uri(&self, headers: &HeaderMap) -> String {
        format!("{}/console/auth/callback", self.origin(headers))
    }

    /// Cookies are `Secure` unless the console is reached over plain http.
    fn secure(&self, headers: &HeaderMap) -> bool {
        self.origin(headers).starts_with("https://")
    }
}

/// The console, when this service has one.
fn console_of(state: &AppState) -> Result<Arc<Console>, Response> {
    state
        .console
        .clone()
        .ok_or_else(|| StatusCode::NOT_FOUND.into_response())
}

/// The configured tenants where the person holds `p`, by name.
fn tenants_for(state: &AppState, person: &Person, p: crate::policy::Permission) -> Vec<String> {
    state.resets.tenants_granting(&person.session.identity, p)
}

/// The console's routes (merged only when it is configured).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { html::see_other("/console/") }))
        .route("/console/", get(guests::home))
        .route("/console/login", get(signin::login_page))
        .route("/console/auth/start", get(signin::start))
        .route("/console/auth/callback", get(signin::callback))
        .route("/console/logout", post(signin::logout))
        .route("/console/guests", get(guests::search))
        .route("/console/guests/{id}", get(guests::show))
        .route("/console/guests/{id}/plan", post(resets::plan))
        .route("/console/guests/{id}/reset", post(resets::confirm))
        .route("/console/resets/{id}", get(resets::show))
        .route("/console/resets/{id}/approve", post(approvals::approve))
        .route("/console/resets/{id}/deny", post(approvals::deny))
        .route("/console/approvals", get(approvals::inbox))
        .route("/console/audit", get(audit::log))
        .route("/console/audit.csv", get(audit::csv))
        // A job's CSV comes as a form field: URL-encoding may triple its size.
        .route(
            "/console/jobs",
            get(jobs::list).post(jobs::create).layer(job_limit()),
        )
        .route("/console/jobs/plan", post(jobs::plan).layer(job_limit()))
        .route("/console/jobs/{id}", get(jobs::show))
        .route("/console/jobs/{id}/events", get(jobs::events))
        .route("/console/jobs/{id}/results.csv", get(jobs::results))
        .route("/console/me", get(me::show))
        .route(
            "/console/assets/console.css",
            get(|| asset("text/css", include_str!("assets/console.css"))),
        )
        .route(
            "/console/assets/console.js",
            get(|| asset("text/javascript", include_str!("assets/console.js"))),
        )
        .route(
            "/console/assets/icon.svg",
            get(|| asset("image/svg+xml", include_str!("assets/icon.svg"))),
        )
        .route("/console/{*rest}", get(not_found).post(not_found))
}

fn job_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(3 * crate::http::jobs::BODY_LIMIT)
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    html::secure(headers);
    response
}

async fn not_found() -> Response {
    html::with_status(
        StatusCode::NOT_FOUND,
        html::page(
            None,
            "Not found",
            &html::notice("error", "There is no such page in the console."),
        ),
    )
}
