//! HTTP calls to the service's jobs API. Every failure says what went wrong in
//! the operator's terms: the service's problem, or which URL could not be
//! reached, or what unexpected answer came back.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{RequestBuilder, Response, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::job::{DryRun, Job};
use super::problem::Problem;

/// Reads and small writes; a slower service is as good as down for a person
/// waiting at the terminal.
const SHORT: Duration = Duration::from_secs(30);
/// Submitting plans every item (a domain move lists the guests first), which
/// takes a while for thousands of items.
const SUBMIT: Duration = Duration::from_secs(900);

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Problem(Problem),
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("unexpected answer from {url} (status {status}): {body}")]
    Unexpected {
        url: String,
        status: u16,
        body: String,
    },
    #[error("cannot write the results: {0}")]
    Output(#[from] std::io::Error),
}

impl ApiError {
    /// Worth asking again in a moment: the service is restarting, overloaded
    /// or behind a proxy that lost it for a while.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Unreachable { .. } => true,
            ApiError::Unexpected { status, .. } => *status >= 500,
            ApiError::Problem(p) => matches!(p.status, Some(429 | 503)),
            ApiError::Output(_) => false,
        }
    }
}

/// The service at one base URL, called with one bearer token.
pub struct Api {
    client: reqwest::Client,
    base: Url,
    token: SecretString,
}

impl Api {
    /// `url` is the service's base URL; `token_file` holds the bearer token.
    pub fn new(url: &str, token_file: &Path) -> anyhow::Result<Api> {
        let base = Url::parse(url).map_err(|e| anyhow::anyhow!("--url {url:?}: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") {
            anyhow::bail!("--url {url:?}: not an http(s) URL");
        }
        // The file's name may be shown; its content never is.
        let token = std::fs::read_to_string(token_file).map_err(|e| {
            anyhow::anyhow!("cannot read the token file {}: {e}", token_file.display())
        })?;
        let token = token.trim();
        if token.is_empty() {
            anyhow::bail!("the token file {} is empty", token_file.display());
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("guest-reset-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let token = SecretString::from(token.to_owned());
        Ok(Api {
            client,
            base,
            token,
        })
    }

    /// POST /v1/jobs: create the job (`tenant`: of CSV rows naming none).
    pub async fn create(
        &self,
        body: Vec<u8>,
        content_type: &str,
        tenant: Option<&str>,
    ) -> Result<Job, ApiError> {
        self.post_job(body, content_type, false, tenant).await
    }

    /// POST /v1/jobs?dry_run=true: what the job would do.
    pub async fn dry_run(
        &self,
        body: Vec<u8>,
        content_type: &str,
        tenant: Option<&str>,
    ) -> Result<DryRun, ApiError> {
        self.post_job(body, content_type, true, tenant).await
    }

    async fn post_job<T: DeserializeOwned>(
        &self,
        body: Vec<u8>,
        content_type: &str,
        dry_run: bool,
        tenant: Option<&str>,
    ) -> Result<T, ApiError> {
        let mut url = self.endpoint(&["v1", "jobs"]);
        if dry_run {
            url.query_pairs_mut().append_pair("dry_run", "true");
        }
        if let Some(tenant) = tenant {
            url.query_pairs_mut().append_pair("tenant", tenant);
        }
        let request = self
            .client
            .post(url.clone())
            .header(CONTENT_TYPE, content_type);
        json(
            self.send(request.body(body).timeout(SUBMIT), &url).await?,
            &url,
        )
        .await
    }

    /// GET /v1/jobs/{id}.
    pub async fn job(&self, id: &str) -> Result<Job, ApiError> {
        let url = self.endpoint(&["v1", "jobs", id]);
        let request = self.client.get(url.clone()).timeout(SHORT);
        json(self.send(request, &url).await?, &url).await
    }

    /// POST /v1/jobs/{id}/{verb} (pause, resume, cancel).
    pub async fn act(&self, id: &str, verb: &str) -> Result<Job, ApiError> {
        let url = self.endpoint(&["v1", "jobs", id, verb]);
        let request = self.client.post(url.clone()).timeout(SHORT);
        json(self.send(request, &url).await?, &url).await
    }

    /// GET /v1/jobs/{id}/items as CSV, copied to `out` as it arrives (no
    /// overall timeout: a big job's results take as long as they take).
    pub async fn results(
        &self,
        id: &str,
        state: Option<&str>,
        out: &mut impl Write,
    ) -> Result<(), ApiError> {
        let mut url = self.endpoint(&["v1", "jobs", id, "items"]);
        if let Some(state) = state {
            url.query_pairs_mut().append_pair("state", state);
        }
        let request = self.client.get(url.clone()).header(ACCEPT, "text/csv");
        let mut response = self.send(request, &url).await?;
        while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(&url, e))? {
            out.write_all(&chunk)?;
        }
        out.flush()?;
        Ok(())
    }

    /// The base URL with `segments` appended, each escaped (a job id is
    /// whatever the operator typed).
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        // Never fails: new() accepted only http(s) URLs, which have a path.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Send with the token; a non-2xx answer becomes the error it describes.
    async fn send(&self, request: RequestBuilder, url: &Url) -> Result<Response, ApiError> {
        let request = request.bearer_auth(self.token.expose_secret());
        let response = request.send().await.map_err(|e| unreachable(url, e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| unreachable(url, e))?;
        Err(match Problem::parse(&body) {
            Some(problem) => ApiError::Problem(problem),
            None => unexpected(url, status, &body),
        })
    }
}

/// The body as `T`, or an error quoting the start of what came instead.
async fn json<T: DeserializeOwned>(response: Response, url: &Url) -> Result<T, ApiError> {
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| unreachable(url, e))?;
    serde_json::from_slice(&body).map_err(|_| unexpected(url, status, &body))
}

fn unexpected(url: &Url, status: u16, body: &[u8]) -> ApiError {
    let text = String::from_utf8_lossy(body);
    let mut body: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if body.len() > 300 {
        let cut = (0..=300)
            .rev()
            .find(|i| body.is_char_boundary(*i))
            .unwrap_or(0);
        body.truncate(cut);
        body.push_str("...");
    }
    ApiError::Unexpected {
        url: url.to_string(),
        status,
        body,
    }
}

/// A transport failure, its causes spelled out (reqwest's own message says
/// only "error sending request").
fn unreachable(url: &Url, e: reqwest::Error) -> ApiError {
    let e = e.without_url();
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    ApiError::Unreachable {
        url: url.to_string(),
        reason,
    }
}
