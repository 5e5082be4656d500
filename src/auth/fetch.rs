//! HTTP for the key set: the discovery document (when no `jwks_uri` is
//! configured) and the JWKS itself. URLs come only from configuration or the
//! configured discovery document, never from a token header (`jku`, `x5u`).

use std::time::Duration;

use jsonwebtoken::Algorithm;
use reqwest::header::ACCEPT;
use serde_json::Value;

use super::keys::KeySet;
use super::settings::KeySource;

/// Per request; the lead's client may set a shorter one.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Entra's JWKS is a few KiB; anything near this size is not a key set.
const MAX_BODY: usize = 1024 * 1024;

/// Why a key set could not be fetched. The text names configured URLs only.
#[derive(Debug, thiserror::Error)]
pub(super) enum FetchError {
    #[error("GET {url} failed: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("GET {url} answered {status}")]
    Status {
        url: String,
        status: reqwest::StatusCode,
    },
    #[error("GET {url} sent more than {MAX_BODY} bytes")]
    TooLarge { url: String },
    #[error("GET {url} sent a body that is not JSON: {source}")]
    Json {
        url: String,
        source: serde_json::Error,
    },
    #[error("the discovery document {url} has no jwks_uri")]
    NoJwksUri { url: String },
}

/// Fetch and reduce the key set (one "fetch", even when discovery comes first).
#[tracing::instrument(skip_all, fields(source = %source))]
pub(super) async fn key_set(
    http: &reqwest::Client,
    source: &KeySource,
    pinned: &[Algorithm],
) -> Result<KeySet, FetchError> {
    let jwks_uri = match source {
        KeySource::Jwks(url) => url.clone(),
        KeySource::Discovery(url) => discover(http, url).await?,
    };
    let doc = get_json(http, &jwks_uri).await?;
    let set = KeySet::from_jwks(&doc, pinned);
    tracing::info!(jwks_uri, usable = set.len(), "key set fetched");
    Ok(set)
}

async fn discover(http: &reqwest::Client, url: &str) -> Result<String, FetchError> {
    let doc = get_json(http, url).await?;
    match doc["jwks_uri"].as_str() {
        Some(uri) => Ok(uri.to_owned()),
        None => Err(FetchError::NoJwksUri {
            url: url.to_owned(),
        }),
    }
}

/// GET a JSON document, reading at most [`MAX_BODY`] bytes of it.
async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, FetchError> {
    let http_error = |source| FetchError::Http {
        url: url.to_owned(),
        source,
    };
    let mut response = http
        .get(url)
        .header(ACCEPT, "application/json")
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(http_error)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status {
            url: url.to_owned(),
            status,
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http_error)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(FetchError::TooLarge {
                url: url.to_owned(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|source| FetchError::Json {
        url: url.to_owned(),
        source,
    })
}
