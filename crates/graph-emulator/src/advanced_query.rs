//! Advanced queries on directory objects (aad-advanced-queries.md): some `$filter`
//! operators work only when the request sends the **ConsistencyLevel** header set to
//! `eventual` *and* the `$count=true` query string, "referred to as *advanced query
//! parameters*". The emulator models them on `GET /users`:
//! - `endsWith` without both parameters is the documented 400 (section "Error handling
//!   for advanced queries on directory objects");
//! - with both, the answer carries `@odata.count`, the number of matching objects
//!   (user-list.md, examples 4 and 5), on every page;
//! - `$count=true` without the header is "silently" ignored: no `@odata.count`;
//! - "`$expand` is not currently supported with advanced queries": refused with
//!   `Request_UnsupportedQuery` (the docs give no wording; UNVERIFIED).
//!
//! In `$batch` the header goes in the item's own `headers` ("specify the
//! **ConsistencyLevel** header in the JSON body of the `POST` request").

use axum::http::{HeaderMap, StatusCode};

use super::errors::GraphError;
use super::filter::{self, Clause};
use super::query::ODataQuery;

/// The documented message for `endsWith` without the advanced query parameters.
const ENDS_WITH_NEEDS_ADVANCED: &str = "Operator 'endsWith' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information";

/// Whether the request is an advanced query, so its answer carries `@odata.count`; or
/// the documented refusal.
pub(super) fn check(
    query: &ODataQuery,
    headers: &HeaderMap,
    clauses: Option<&[Clause]>,
) -> Result<bool, GraphError> {
    let eventual = (headers.get("consistencylevel"))
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"));
    let count = (query.count.as_deref()).is_some_and(|c| c.trim().eq_ignore_ascii_case("true"));
    let advanced = eventual && count;
    if !advanced && clauses.is_some_and(filter::needs_advanced_query) {
        let error = GraphError::new(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            ENDS_WITH_NEEDS_ADVANCED,
        );
        return Err(error);
    }
    if advanced && query.expand.is_some() {
        let message = "$expand is not supported with advanced queries.";
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            message,
        ));
    }
    Ok(advanced)
}

#[cfg(test)]
mod tests {
    use super::filter::{Clause, needs_advanced_query, parse};

    #[test]
    fn ends_with_parses_on_the_documented_properties() {
        let ends = |property, suffix: &str| Clause::EndsWith {
            property,
            suffix: suffix.to_owned(),
        };
        let upn = parse("endsWith(userPrincipalName, '#EXT#@x')").ok();
        assert_eq!(upn, Some(vec![ends("userPrincipalName", "#EXT#@x")]));
        let any = parse("proxyAddresses/any(p:endswith(p,'@f.example'))").ok();
        let any_ends = Clause::AnyEndsWith {
            collection: "proxyAddresses",
            suffix: "@f.example".to_owned(),
        };
        assert_eq!(any, Some(vec![any_ends]));
        assert!(
            parse("endswith(mail,'@f.example') or mail eq 'a'")
                .is_ok_and(|c| needs_advanced_query(&c))
        );
        for bad in [
            "endswith(displayName,'a')",
            "endswith(otherMails,'a')",
            "otherMails/any(p:endswith(q,'a'))",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
