//! The `$filter` subset the service needs on `/users`: `mail eq '…'`,
//! `userPrincipalName eq '…'`, `userType eq '…'`, `otherMails/any(a:a eq '…')` (and the
//! same over `proxyAddresses`), and `endsWith` on the four address properties
//! (`endswith(mail,'@x')`, `otherMails/any(a:endswith(a,'@x'))`), joined with `or`.
//! Anything else is refused as Graph refuses queries it cannot run: 400
//! `Request_UnsupportedQuery`. `endsWith` is an advanced query (`advanced_query.rs`).

use serde_json::{Map, Value};

use super::errors::GraphError;
use super::state::{strings, text};

#[derive(Debug, PartialEq)]
pub(super) enum Clause {
    /// A single-valued string property equals the literal.
    Equals {
        property: &'static str,
        value: String,
    },
    /// Some item of a string collection equals the literal.
    AnyEquals {
        collection: &'static str,
        value: String,
    },
    /// A single-valued string property ends with the literal.
    EndsWith {
        property: &'static str,
        suffix: String,
    },
    /// Some item of a string collection ends with the literal.
    AnyEndsWith {
        collection: &'static str,
        suffix: String,
    },
}

/// "The `endsWith` operator is supported only with advanced query parameters by
/// **mail**, **otherMails**, **userPrincipalName**, and **proxyAddresses** properties"
/// (aad-advanced-queries.md, "Support for filter by properties of Azure AD (directory)
/// objects"): the same properties as `eq` here.
pub(super) fn needs_advanced_query(clauses: &[Clause]) -> bool {
    (clauses.iter()).any(|c| matches!(c, Clause::EndsWith { .. } | Clause::AnyEndsWith { .. }))
}

/// What a lambda (`any(v: …)`) tests each item for.
enum Test {
    Equals(String),
    EndsWith(String),
}

/// `eq` works by default on all three (filter-directory-objects.md, the table in
/// aad-advanced-queries.md); `userType eq 'Guest'` is what `$search` examples pair with.
const EQ_PROPERTIES: &[&str] = &["mail", "userPrincipalName", "userType"];
/// `userType` has no `endsWith` (see [`needs_advanced_query`]).
const ENDS_WITH_PROPERTIES: &[&str] = &["mail", "userPrincipalName"];
const ANY_COLLECTIONS: &[&str] = &["otherMails", "proxyAddresses"];

/// Parses a filter into clauses that are OR-ed together.
pub(super) fn parse(filter: &str) -> Result<Vec<Clause>, GraphError> {
    let mut cursor = Cursor {
        rest: filter.trim(),
    };
    let mut clauses = vec![clause(&mut cursor)?];
    while !cursor.rest.is_empty() {
        let spaced = cursor.skip_spaces();
        if !(spaced && cursor.word("or") && cursor.skip_spaces()) {
            return Err(GraphError::unsupported_query());
        }
        clauses.push(clause(&mut cursor)?);
    }
    Ok(clauses)
}

/// Whether the user satisfies any clause; string comparison ignores case, as Graph does.
pub(super) fn matches(clauses: &[Clause], user: &Map<String, Value>) -> bool {
    clauses.iter().any(|clause| match clause {
        Clause::Equals { property, value } => text(user, property).is_some_and(|v| same(v, value)),
        Clause::AnyEquals { collection, value } => {
            strings(user, collection).any(|v| same(v, value))
        }
        Clause::EndsWith { property, suffix } => {
            text(user, property).is_some_and(|v| ends_with(v, suffix))
        }
        Clause::AnyEndsWith { collection, suffix } => {
            strings(user, collection).any(|v| ends_with(v, suffix))
        }
    })
}

fn same(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn ends_with(value: &str, suffix: &str) -> bool {
    value.to_lowercase().ends_with(&suffix.to_lowercase())
}

fn clause(cursor: &mut Cursor<'_>) -> Result<Clause, GraphError> {
    let unsupported = GraphError::unsupported_query;
    let name = cursor.identifier().ok_or_else(unsupported)?;
    if name.eq_ignore_ascii_case("endswith") {
        let (name, suffix) = ends_with_call(cursor).ok_or_else(unsupported)?;
        let property = canonical(ENDS_WITH_PROPERTIES, name).ok_or_else(unsupported)?;
        return Ok(Clause::EndsWith { property, suffix });
    }
    if cursor.symbol("/") {
        let collection = canonical(ANY_COLLECTIONS, name).ok_or_else(unsupported)?;
        return match lambda(cursor).ok_or_else(unsupported)? {
            Test::Equals(value) => Ok(Clause::AnyEquals { collection, value }),
            Test::EndsWith(suffix) => Ok(Clause::AnyEndsWith { collection, suffix }),
        };
    }
    let property = canonical(EQ_PROPERTIES, name).ok_or_else(unsupported)?;
    let value = equals_literal(cursor).ok_or_else(unsupported)?;
    Ok(Clause::Equals { property, value })
}

/// `(name, 'x')` after `endswith`: the argument and the suffix.
fn ends_with_call<'a>(cursor: &mut Cursor<'a>) -> Option<(&'a str, String)> {
    cursor.skip_spaces();
    if !cursor.symbol("(") {
        return None;
    }
    cursor.skip_spaces();
    let name = cursor.identifier()?;
    cursor.skip_spaces();
    if !cursor.symbol(",") {
        return None;
    }
    cursor.skip_spaces();
    let suffix = cursor.string_literal()?;
    cursor.skip_spaces();
    cursor.symbol(")").then_some((name, suffix))
}

/// `any(v:v eq 'x')` or `any(v:endswith(v,'x'))` after the collection's `/`.
fn lambda(cursor: &mut Cursor<'_>) -> Option<Test> {
    if !(cursor.word("any") && cursor.symbol("(")) {
        return None;
    }
    cursor.skip_spaces();
    let variable = cursor.identifier()?;
    cursor.skip_spaces();
    if !cursor.symbol(":") {
        return None;
    }
    cursor.skip_spaces();
    let name = cursor.identifier()?;
    let test = if name.eq_ignore_ascii_case("endswith") {
        let (argument, suffix) = ends_with_call(cursor)?;
        (argument == variable).then_some(Test::EndsWith(suffix))?
    } else if name == variable {
        Test::Equals(equals_literal(cursor)?)
    } else {
        return None;
    };
    cursor.skip_spaces();
    cursor.symbol(")").then_some(test)
}

/// ` eq 'x'` after a property or lambda variable.
fn equals_literal(cursor: &mut Cursor<'_>) -> Option<String> {
    let spaced = cursor.skip_spaces() && cursor.word("eq") && cursor.skip_spaces();
    if spaced {
        cursor.string_literal()
    } else {
        None
    }
}

fn canonical(list: &[&'static str], name: &str) -> Option<&'static str> {
    list.iter()
        .copied()
        .find(|known| known.eq_ignore_ascii_case(name))
}

struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    /// Skips spaces; true if there was at least one.
    fn skip_spaces(&mut self) -> bool {
        let trimmed = self.rest.trim_start();
        let skipped = trimmed.len() != self.rest.len();
        self.rest = trimmed;
        skipped
    }

    fn identifier(&mut self) -> Option<&'a str> {
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest.len());
        let (name, rest) = self.rest.split_at(end);
        self.rest = rest;
        (!name.is_empty()).then_some(name)
    }

    /// A keyword, case-insensitive, not followed by more identifier characters.
    fn word(&mut self, keyword: &str) -> bool {
        let mut probe = Cursor { rest: self.rest };
        let matched = probe
            .identifier()
            .is_some_and(|w| w.eq_ignore_ascii_case(keyword));
        if matched {
            self.rest = probe.rest;
        }
        matched
    }

    fn symbol(&mut self, symbol: &str) -> bool {
        let stripped = self.rest.strip_prefix(symbol);
        if let Some(rest) = stripped {
            self.rest = rest;
        }
        stripped.is_some()
    }

    /// An OData string literal: single quotes, with `''` standing for one quote.
    fn string_literal(&mut self) -> Option<String> {
        let body = self.rest.strip_prefix('\'')?;
        let mut chars = body.char_indices().peekable();
        let mut value = String::new();
        while let Some((i, c)) = chars.next() {
            if c != '\'' {
                value.push(c);
            } else if chars.peek().is_some_and(|(_, next)| *next == '\'') {
                chars.next();
                value.push('\'');
            } else {
                self.rest = &body[i + 1..];
                return Some(value);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(property: &'static str, value: &str) -> Clause {
        Clause::Equals {
            property,
            value: value.to_owned(),
        }
    }

    #[test]
    fn supported_forms_parse() {
        assert_eq!(
            parse("mail eq 'a@b.example'").ok(),
            Some(vec![eq("mail", "a@b.example")])
        );
        assert_eq!(
            parse("UserPrincipalName EQ 'x'").ok(),
            Some(vec![eq("userPrincipalName", "x")])
        );
        let any = Clause::AnyEquals {
            collection: "otherMails",
            value: "o'b@x".to_owned(),
        };
        assert_eq!(
            parse("otherMails/any(m: m eq 'o''b@x')").ok(),
            Some(vec![any])
        );
        let joined = parse("mail eq 'a' or otherMails/any(x:x eq 'a') or userPrincipalName eq 'a'");
        assert_eq!(joined.map(|c| c.len()).ok(), Some(3));
        let guests = parse("userType eq 'Guest'").ok();
        assert_eq!(guests, Some(vec![eq("userType", "Guest")]));
    }

    #[test]
    fn everything_else_is_unsupported() {
        for filter in [
            "",
            "mail ne 'a'",
            "startswith(mail,'a')",
            "displayName eq 'a'",
            "mail eq 'a' and mail eq 'b'",
            "mail eq 'unterminated",
            "otherMails/any(a:b eq 'x')",
            "mail eq 'a' or",
            "mail eq null",
            "mail eq 'a'or mail eq 'b'",
            "endswith(userType,'est')",
        ] {
            let error = parse(filter).err().map(|e| e.code);
            assert_eq!(error, Some("Request_UnsupportedQuery"), "{filter:?}");
        }
    }
}
