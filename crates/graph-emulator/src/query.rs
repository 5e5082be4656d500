//! OData system query options as Graph reads them: `$select`, `$filter`, `$expand`, `$top`,
//! `$count` and `$search` (see `advanced_query.rs`, `search.rs`) and server-driven paging
//! with `$skiptoken` / `@odata.nextLink`.

use axum::http::{HeaderMap, StatusCode, Uri, header};
use serde_json::Value;

use super::errors::GraphError;
use super::form::parse_form;

/// Graph's metadata root; `@odata.context` always names the real service.
pub(super) const METADATA: &str = "https://graph.microsoft.com/v1.0/$metadata";
/// Page size when the caller gives no `$top` (Graph's default for directory objects).
const DEFAULT_PAGE: usize = 100;
/// Largest `$top` directory collections accept.
const MAX_PAGE: usize = 999;
const SKIPTOKEN_PREFIX: &str = "emu-";

#[derive(Debug, Default)]
pub(super) struct ODataQuery {
    pub(super) select: Option<String>,
    pub(super) filter: Option<String>,
    pub(super) expand: Option<String>,
    pub(super) count: Option<String>,
    pub(super) search: Option<String>,
    top: Option<String>,
    skiptoken: Option<String>,
}

impl ODataQuery {
    /// Reads the options from the raw query string (`+` decodes to a space, as in Graph).
    pub(super) fn parse(raw: Option<&str>) -> ODataQuery {
        let mut query = ODataQuery::default();
        for (name, value) in parse_form(raw.unwrap_or_default().as_bytes()) {
            let slot = match name.as_str() {
                "$select" => &mut query.select,
                "$filter" => &mut query.filter,
                "$expand" => &mut query.expand,
                "$count" => &mut query.count,
                "$search" => &mut query.search,
                "$top" => &mut query.top,
                "$skiptoken" => &mut query.skiptoken,
                _ => continue, // other options are not modelled and are ignored
            };
            *slot = Some(value);
        }
        query
    }

    /// `$select` names, checked by `canonical`; `None` when no (or an empty) `$select`.
    pub(super) fn selected(
        &self,
        canonical: fn(&str) -> Option<&'static str>,
        type_name: &str,
    ) -> Result<Option<Vec<&'static str>>, GraphError> {
        let Some(select) = self.select.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let mut names = Vec::new();
        for name in select.split(',').map(str::trim) {
            let known =
                canonical(name).ok_or_else(|| GraphError::unknown_property(name, type_name))?;
            if !names.contains(&known) {
                names.push(known);
            }
        }
        Ok(Some(names))
    }

    /// Where the emulator does not model `$filter`, it refuses it as Graph refuses a query
    /// it cannot run (400 `Request_UnsupportedQuery`) rather than answer unfiltered.
    pub(super) fn refuse_filter(&self) -> Result<(), GraphError> {
        match self.filter {
            Some(_) => Err(GraphError::unsupported_query()),
            None => Ok(()),
        }
    }

    /// One page of `items` and the offset of the next page, if any.
    pub(super) fn page(
        &self,
        items: Vec<Value>,
    ) -> Result<(Vec<Value>, Option<usize>), GraphError> {
        let size = self.page_size()?;
        let start = self.offset()?;
        let total = items.len();
        let page: Vec<Value> = items.into_iter().skip(start).take(size).collect();
        let next = start + page.len();
        Ok((page, (next < total).then_some(next)))
    }

    fn page_size(&self) -> Result<usize, GraphError> {
        let Some(top) = self.top.as_deref() else {
            return Ok(DEFAULT_PAGE);
        };
        match top.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(GraphError::bad_request(format!(
                "Invalid page size specified: '{top}'. Must be between 1 and {MAX_PAGE} inclusive."
            ))),
        }
    }

    fn offset(&self) -> Result<usize, GraphError> {
        let Some(token) = self.skiptoken.as_deref() else {
            return Ok(0);
        };
        token.strip_prefix(SKIPTOKEN_PREFIX).and_then(|n| n.parse().ok()).ok_or_else(|| {
            let message = "The specified page token value has expired and can no longer be included in your request.";
            GraphError::new(StatusCode::BAD_REQUEST, "Directory_ExpiredPageToken", message)
        })
    }
}

/// `@odata.context` for a collection or entity, with the `$select` list when given.
pub(super) fn context(entity_set: &str, selected: Option<&[&str]>, entity: bool) -> String {
    let select = selected
        .map(|names| format!("({})", names.join(",")))
        .unwrap_or_default();
    let suffix = if entity { "/$entity" } else { "" };
    format!("{METADATA}#{entity_set}{select}{suffix}")
}

/// A collection response: context, nextLink when there is a next page, then the items.
pub(super) fn collection(context: String, page: Vec<Value>, next_link: Option<String>) -> Value {
    let mut body = serde_json::Map::new();
    body.insert("@odata.context".to_owned(), Value::String(context));
    if let Some(link) = next_link {
        body.insert("@odata.nextLink".to_owned(), Value::String(link));
    }
    body.insert("value".to_owned(), Value::Array(page));
    Value::Object(body)
}

/// The next page's URL. It points at the emulator as the caller reached it (not at
/// graph.microsoft.com) so a client that follows nextLink verbatim stays on the emulator.
pub(super) fn next_link(headers: &HeaderMap, uri: &Uri, offset: usize) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let mut pairs: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty() && !is_skiptoken(pair))
        .collect();
    let token = format!("$skiptoken={SKIPTOKEN_PREFIX}{offset}");
    pairs.push(&token);
    format!("http://{host}{}?{}", uri.path(), pairs.join("&"))
}

fn is_skiptoken(pair: &str) -> bool {
    let name = pair.split('=').next().unwrap_or_default();
    name.eq_ignore_ascii_case("$skiptoken") || name.eq_ignore_ascii_case("%24skiptoken")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_decoded_and_unknown_ones_ignored() {
        let query = ODataQuery::parse(Some(
            "%24select=id,mail&$filter=mail+eq+'a'&$count=true&$search=%22mail:a%22+OR+%22mail:b%22",
        ));
        assert_eq!(query.select.as_deref(), Some("id,mail"));
        assert_eq!(query.filter.as_deref(), Some("mail eq 'a'"));
        assert_eq!(query.search.as_deref(), Some("\"mail:a\" OR \"mail:b\""));
    }

    #[test]
    fn top_outside_the_range_is_rejected() {
        for top in ["0", "1000", "x"] {
            let query = ODataQuery::parse(Some(&format!("$top={top}")));
            assert!(query.page(Vec::new()).is_err(), "$top={top}");
        }
    }

    #[test]
    fn next_link_replaces_the_skiptoken() {
        let uri: Uri = "/v1.0/users?$top=1&$skiptoken=emu-1"
            .parse()
            .unwrap_or_default();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::HOST,
            "127.0.0.1:9"
                .parse()
                .unwrap_or(header::HeaderValue::from_static("x")),
        );
        let link = next_link(&headers, &uri, 2);
        assert_eq!(
            link,
            "http://127.0.0.1:9/v1.0/users?$top=1&$skiptoken=emu-2"
        );
    }
}
