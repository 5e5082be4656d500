//! Advanced queries on directory objects (aad-advanced-queries.md): some `$filter`
//! operators work only when the request sends the **ConsistencyLevel** header set to
//! `eventual` *and* the `$count=true` query string, "referred to as *advanced query
//! parameters*". The emulator models them on `GET /users`:
//! - `endsWith` without both parameters is the documented 400 (section "Error handling
//!   for advanced queries on directory objects");
//! - `$search` needs the header "with the exception of `$search`" for `$count`: without
//!   the header it is the documented 400 `Request_UnsupportedQuery`, with it (and no
//!   `$count=true`) it runs but the answer has no `@odata.count`;
//! - with both parameters, the answer carries `@odata.count`, the number of matching
//!   objects (user-list.md, examples 4 and 5), on every page;
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
/// The documented message for `$search` without the header (aad-advanced-queries.md,
/// "Error handling for advanced queries on directory objects"; also
/// microsoft-graph-docs-contrib#3495).
const SEARCH_NEEDS_EVENTUAL: &str = "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'";

/// Whether the request is an advanced query whose answer carries `@odata.count`; or the
/// documented refusal. `searching`: the request has a `$search`.
pub(super) fn check(
    query: &ODataQuery,
    headers: &HeaderMap,
    clauses: Option<&[Clause]>,
    searching: bool,
) -> Result<bool, GraphError> {
    let eventual = (headers.get("consistencylevel"))
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"));
    let count = (query.count.as_deref()).is_some_and(|c| c.trim().eq_ignore_ascii_case("true"));
    let counted = eventual && count;
    let unsupported = |message: &str| -> Result<bool, GraphError> {
        let code = "Request_UnsupportedQuery";
        Err(GraphError::new(StatusCode::BAD_REQUEST, code, message))
    };
    if searching && !eventual {
        return unsupported(SEARCH_NEEDS_EVENTUAL);
    }
    if !counted && clauses.is_some_and(filter::needs_advanced_query) {
        return unsupported(ENDS_WITH_NEEDS_ADVANCED);
    }
    let advanced = counted || (searching && eventual);
    if advanced && query.expand.is_some() {
        return unsupported("$expand is not supported with advanced queries.");
    }
    Ok(counted)
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
