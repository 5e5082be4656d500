//! The `$batch` request body and the rules Graph documents for it. A batch that breaks
//! one is malformed, and "if the batch request itself is malformed, the status code is
//! `400`" (json-batching.md, "Processing the JSON batch response"). Where the docs give
//! no wording, the messages are the emulator's (UNVERIFIED) under Graph's `BadRequest`.

use std::collections::HashSet;

use axum::http::{HeaderName, HeaderValue, Method, Uri, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::errors::GraphError;
use super::form::form_decode;

/// "JSON batch requests are currently limited to 20 individual requests"
/// (json-batching.md, "Batch size limitations"; known-issues.md, "Limit on batch size").
pub(super) const MAX_REQUESTS: usize = 20;

/// One checked request of a batch.
pub(super) struct Item {
    pub(super) id: String,
    pub(super) method: Method,
    /// Path and query under `/v1.0`, e.g. `/v1.0/users?$top=1`.
    pub(super) target: Uri,
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
    pub(super) body: Vec<u8>,
    /// The index of the earlier request this one depends on.
    pub(super) depends_on: Option<usize>,
}

#[derive(Deserialize)]
struct RawBatch {
    requests: Vec<RawItem>,
}

/// Unknown members are ignored: "The `atomicityGroup` property on individual requests
/// will be ignored" (known-issues.md, "No transactions").
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawItem {
    id: String,
    method: String,
    url: String,
    #[serde(default)]
    headers: Map<String, Value>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    depends_on: Vec<String>,
}

/// Parses and checks a batch body: its size, unique ids, each request, and the shape of
/// its dependencies.
pub(super) fn parse(body: &[u8]) -> Result<Vec<Item>, GraphError> {
    let raw: RawBatch = serde_json::from_slice(body)
        .map_err(|e| GraphError::bad_request(format!("Invalid batch payload format: {e}")))?;
    if raw.requests.is_empty() || raw.requests.len() > MAX_REQUESTS {
        let count = raw.requests.len();
        return Err(GraphError::bad_request(format!(
            "A batch must hold 1 to {MAX_REQUESTS} requests; this one holds {count}."
        )));
    }
    check_unique_ids(&raw.requests)?;
    let items = (raw.requests.iter().enumerate())
        .map(|(index, request)| item(request, raw.requests.get(..index).unwrap_or_default()))
        .collect::<Result<Vec<Item>, GraphError>>()?;
    check_shape(&items)?;
    Ok(items)
}

/// The id "must be unique in the batch, otherwise, the batch request fails with a `400`"
/// and is "Not case-sensitive" (json-batching.md, request properties); the message is the
/// one Graph answers (microsoftgraph/microsoft-graph-docs#4449).
fn check_unique_ids(requests: &[RawItem]) -> Result<(), GraphError> {
    let mut seen = HashSet::new();
    for request in requests {
        if !seen.insert(request.id.to_lowercase()) {
            let id = &request.id;
            let message = format!("Request Id {id} has to be unique in a batch.");
            return Err(GraphError::bad_request(message));
        }
    }
    Ok(())
}

fn item(raw: &RawItem, earlier: &[RawItem]) -> Result<Item, GraphError> {
    let id = raw.id.clone();
    let method = match raw.method.to_ascii_uppercase().as_str() {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PATCH" => Method::PATCH,
        "PUT" => Method::PUT,
        "DELETE" => Method::DELETE,
        _ => {
            return Err(invalid(
                &id,
                "its method is not an HTTP method Graph serves",
            ));
        }
    };
    let target = target(&raw.url).map_err(|reason| invalid(&id, reason))?;
    let headers = headers(&raw.headers).ok_or_else(|| invalid(&id, "a header is not text"))?;
    let body = body(raw, &headers)?;
    let depends_on = dependency(raw, earlier)?;
    Ok(Item {
        id,
        method,
        target,
        headers,
        body,
        depends_on,
    })
}

fn invalid(id: &str, reason: &str) -> GraphError {
    GraphError::bad_request(format!("Request Id {id} is invalid: {reason}."))
}

/// The item's URL under the version root. "Always specify relative URIs in batch
/// requests. Microsoft Graph then makes these URLs absolute by using the version endpoint
/// included in the batch URL" (known-issues.md, "URIs must be relative"); "JSON batch
/// requests must not contain any nested batch requests" (known-issues.md, "No nested
/// batch"). Dot segments are refused so that no URL leaves the version root.
fn target(url: &str) -> Result<Uri, &'static str> {
    // A fragment never reaches a server (RFC 3986 §3.5).
    let url = url.split('#').next().unwrap_or_default();
    if url.contains("://") || url.starts_with("//") {
        return Err("its url is not relative");
    }
    let (path, query) = url
        .split_once('?')
        .map_or((url, None), |(p, q)| (p, Some(q)));
    let path = path.trim_start_matches('/');
    let segments: Vec<String> = path.split('/').map(|s| form_decode(s.as_bytes())).collect();
    if segments
        .iter()
        .any(|s| s == "." || s == ".." || s.contains('\\'))
    {
        return Err("its url leaves the version root");
    }
    if segments
        .first()
        .is_some_and(|s| s.eq_ignore_ascii_case("$batch"))
    {
        return Err("a batch cannot hold a batch");
    }
    let query = query.map(|q| format!("?{}", encode(q))).unwrap_or_default();
    Uri::try_from(format!("/v1.0/{}{query}", encode(path))).map_err(|_| "its url is not a URL")
}

/// Percent-encodes what may not stand in a URI (spaces above all: the documented example
/// sends `$filter=city eq null` unencoded, json-batching.md).
fn encode(text: &str) -> String {
    const KEPT: &[u8] = b"-._~!$&'()*+,;=:@/?%";
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || KEPT.contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The item's own headers. The batch's credentials and host stand for every item, so
/// an item cannot name others.
fn headers(raw: &Map<String, Value>) -> Option<Vec<(HeaderName, HeaderValue)>> {
    let mut headers = Vec::new();
    for (name, value) in raw {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_str(value.as_str()?).ok()?;
        if ![header::AUTHORIZATION, header::HOST, header::CONTENT_LENGTH].contains(&name) {
            headers.push((name, value));
        }
    }
    Some(headers)
}

/// "When a body is included with the request, the headers object must contain a value
/// for Content-Type"; the body "might be a JSON object or a base64 URL-encoded value"
/// (json-batching.md, request properties).
fn body(raw: &RawItem, headers: &[(HeaderName, HeaderValue)]) -> Result<Vec<u8>, GraphError> {
    let Some(body) = &raw.body else {
        return Ok(Vec::new());
    };
    if !headers.iter().any(|(name, _)| name == header::CONTENT_TYPE) {
        return Err(invalid(&raw.id, "a body needs a Content-Type header"));
    }
    match body {
        Value::String(text) => [URL_SAFE, URL_SAFE_NO_PAD, STANDARD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or_else(|| invalid(&raw.id, "its body is neither JSON nor base64")),
        json => Ok(serde_json::to_vec(json).unwrap_or_default()),
    }
}

/// "Currently, requests can only depend on a single other request" (known-issues.md,
/// "Simplified dependencies"), and one that comes earlier in the batch: Graph answers
/// "Invalid dependency for request Id …" otherwise
/// (microsoftgraph/msgraph-sdk-dotnet-core#891).
fn dependency(raw: &RawItem, earlier: &[RawItem]) -> Result<Option<usize>, GraphError> {
    let id = &raw.id;
    let refused = || GraphError::bad_request(format!("Invalid dependency for request Id {id}."));
    match raw.depends_on.as_slice() {
        [] => Ok(None),
        [on] => (earlier.iter())
            .position(|e| e.id.eq_ignore_ascii_case(on))
            .map(Some)
            .ok_or_else(refused),
        _ => Err(refused()),
    }
}

/// The three documented shapes (known-issues.md, "Simplified dependencies"): Parallel
/// (no request states a dependency), Serial (every request depends on the one before),
/// Same (every request that states a dependency states the same one). Anything else is
/// the 400 "Batch should be either fully sequential or fully parallel."
/// (microsoftgraph/microsoft-graph-docs-contrib#2339).
fn check_shape(items: &[Item]) -> Result<(), GraphError> {
    let serial = (items.iter().enumerate().skip(1)).all(|(i, item)| item.depends_on == Some(i - 1));
    let stated: HashSet<usize> = items.iter().filter_map(|item| item.depends_on).collect();
    if serial || stated.len() <= 1 {
        return Ok(());
    }
    let message = "Batch should be either fully sequential or fully parallel.";
    Err(GraphError::bad_request(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_urls_stay_under_the_version_root() {
        let ok = |url: &str| target(url).map(|u| u.to_string());
        assert_eq!(ok("/users/a").as_deref(), Ok("/v1.0/users/a"));
        let filter = "users?$filter=city eq null&$count=true";
        let encoded = "/v1.0/users?$filter=city%20eq%20null&$count=true";
        assert_eq!(ok(filter).as_deref(), Ok(encoded));
        assert_eq!(ok("/users/x#EXT#").as_deref(), Ok("/v1.0/users/x"));
        for bad in [
            "https://graph.microsoft.com/v1.0/users",
            "//evil/users",
            "/../_emulator/faults",
            "/users/%2e%2e/%2E%2E/_emulator/faults",
            "/$batch",
        ] {
            assert!(target(bad).is_err(), "{bad}");
        }
    }
}
