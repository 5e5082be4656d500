//! One `$search` clause, `"<property>:<text>"`, on users, and how the directory matches
//! it (search-query-parameter.md, "Using $search on directory object collections"):
//! - **displayName** is searched by tokens: both the value and the text are split "using
//!   spaces, numbers, different casing, and symbols" ([`tokens`]), the tokens "are matched
//!   independently of the original casing, and they are matched in any order". Every
//!   token of the text must match a token of the value, and a match is a prefix match:
//!   the doc's own example `displayName:Guthr` is a word's beginning, and `Li 李` finds
//!   `李四(David Li)`. (**description**, the other tokenized property, is not a user
//!   property.)
//! - Any other property "that can be used in `$filter`" falls back to `startsWith`: here
//!   the string properties whose `$filter` supports `startsWith`
//!   (filter-directory-objects.md), collections meaning "some item starts with",
//!   case-insensitive as Graph's string comparisons are.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::errors::GraphError;
use super::state::{strings, text};

/// Single-valued user properties with `startsWith` in `$filter`.
const STARTS_WITH: &[&str] = &[
    "city",
    "companyName",
    "country",
    "department",
    "employeeId",
    "employeeType",
    "givenName",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "onPremisesSamAccountName",
    "onPremisesUserPrincipalName",
    "postalCode",
    "preferredLanguage",
    "state",
    "streetAddress",
    "surname",
    "usageLocation",
    "userPrincipalName",
];
/// String collections of users with `startsWith` in `$filter`.
const ANY_STARTS_WITH: &[&str] = &["imAddresses", "otherMails", "proxyAddresses"];
const TOKENIZED: &str = "displayName";

/// How a clause compares its text with the property.
#[derive(Debug, PartialEq)]
enum Behaviour {
    Tokens,
    StartsWith,
    AnyStartsWith,
}

/// A resolved clause: the property (canonical name), how it matches, and the text.
#[derive(Debug, PartialEq)]
pub(super) struct Term {
    property: &'static str,
    behaviour: Behaviour,
    text: String,
}

impl Term {
    /// `<property>:<text>`; the property name is case-insensitive, as in `$filter`.
    pub(super) fn parse(clause: &str) -> Result<Term, GraphError> {
        let Some((name, text)) = clause.split_once(':') else {
            return Err(Term::without_property(clause));
        };
        let known =
            |list: &[&'static str]| list.iter().copied().find(|p| p.eq_ignore_ascii_case(name));
        let (property, behaviour) = if name.eq_ignore_ascii_case(TOKENIZED) {
            (TOKENIZED, Behaviour::Tokens)
        } else if let Some(property) = known(STARTS_WITH) {
            (property, Behaviour::StartsWith)
        } else if let Some(property) = known(ANY_STARTS_WITH) {
            (property, Behaviour::AnyStartsWith)
        } else {
            return Err(unsupported_property(name));
        };
        let text = text.to_owned();
        Ok(Term {
            property,
            behaviour,
            text,
        })
    }

    /// A clause without `<property>:`: the docs require one ("The property name must be
    /// specified in the clause"); Graph's answer is UNVERIFIED.
    pub(super) fn without_property(clause: &str) -> GraphError {
        let message = format!(
            "Search clause '{clause}' does not name a property; the syntax is \"<property>:<text to search>\"."
        );
        unsupported(message)
    }

    /// `NOT`: the docs name only `AND` and `OR` for directory objects; Graph's answer is
    /// UNVERIFIED.
    pub(super) fn not_supported() -> GraphError {
        unsupported("The NOT operator is not supported in $search on directory objects.".to_owned())
    }

    pub(super) fn matches(&self, object: &Map<String, Value>) -> bool {
        match self.behaviour {
            Behaviour::Tokens => {
                text(object, self.property).is_some_and(|v| tokens_match(&self.text, v))
            }
            Behaviour::StartsWith => {
                text(object, self.property).is_some_and(|v| starts_with(v, &self.text))
            }
            Behaviour::AnyStartsWith => {
                strings(object, self.property).any(|v| starts_with(v, &self.text))
            }
        }
    }
}

/// Modelled on the directory's answer to a `$filter` on a property it cannot filter
/// ("Unsupported or invalid query filter clause specified for property '…' of resource
/// 'User'.", microsoft/botframework-components#1108); the `$search` wording is UNVERIFIED.
fn unsupported_property(name: &str) -> GraphError {
    let message = format!(
        "Unsupported or invalid search clause specified for property '{name}' of resource 'User'."
    );
    unsupported(message)
}

fn unsupported(message: String) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", message)
}

fn starts_with(value: &str, prefix: &str) -> bool {
    value.to_lowercase().starts_with(&prefix.to_lowercase())
}

/// Every token of the search text is a prefix of some token of the value.
fn tokens_match(search: &str, value: &str) -> bool {
    let indexed = tokens(value, true);
    tokens(search, false).iter().all(|wanted| {
        indexed
            .iter()
            .any(|token| token.starts_with(wanted.as_str()))
    })
}

/// What a character is to the tokenizer.
#[derive(Clone, Copy, PartialEq)]
enum Class {
    Letter,
    Digit,
    Symbol,
}

fn class(c: char) -> Class {
    if c.is_alphabetic() {
        Class::Letter
    } else if c.is_numeric() {
        Class::Digit
    } else {
        Class::Symbol
    }
}

/// Lower-case tokens of `text`: words split at spaces, at a change between letters,
/// digits and symbols, and where a lower-case letter is followed by an upper-case one
/// ("`HelloWorld`" is `hello`, `world`; "`HELLOworld`" one token). A run of symbols is a
/// token of its own (the doc lists `.` among the tokens of `hello.world`).
///
/// With `combined` (the indexed value, not the search text), words separated only by
/// symbols also give their concatenation ("searching for `helloworld` will find
/// `hello-world` and `hello.world`"). Applying that to the search text too would make
/// `hello.world` miss `hello world`; the docs do not say, so that reading is UNVERIFIED.
pub(super) fn tokens(text: &str, combined: bool) -> Vec<String> {
    let mut found = Vec::new();
    for chunk in text.split_whitespace() {
        let pieces = pieces(chunk);
        let words: Vec<&String> = pieces
            .iter()
            .filter(|p| class_of(p) != Class::Symbol)
            .collect();
        let joined = words.len() > 1 && words.len() < pieces.len();
        if combined && joined {
            found.push(words.iter().map(|w| w.as_str()).collect());
        }
        found.extend(pieces);
    }
    found
}

fn class_of(piece: &str) -> Class {
    piece.chars().next().map_or(Class::Symbol, class)
}

/// One whitespace-free chunk split into lower-case pieces.
fn pieces(chunk: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut previous: Option<char> = None;
    for c in chunk.chars() {
        let split =
            previous.is_none_or(|p| class(p) != class(c) || (p.is_lowercase() && c.is_uppercase()));
        if split {
            pieces.push(String::new());
        }
        if let Some(piece) = pieces.last_mut() {
            piece.extend(c.to_lowercase());
        }
        previous = Some(c);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_follow_the_documented_examples() {
        let cases: [(&str, bool, &[&str]); 9] = [
            ("hello world", false, &["hello", "world"]),
            ("HelloWorld", false, &["hello", "world"]),
            ("helloWORLD", false, &["hello", "world"]),
            ("HELLOworld", false, &["helloworld"]),
            ("HelloWORld", false, &["hello", "world"]),
            ("hello123world", false, &["hello", "123", "world"]),
            ("hello.world", false, &["hello", ".", "world"]),
            ("hello.world", true, &["helloworld", "hello", ".", "world"]),
            (
                "李四(David Li)",
                true,
                &["李四david", "李四", "(", "david", "li", ")"],
            ),
        ];
        for (text, combined, expected) in cases {
            assert_eq!(
                tokens(text, combined),
                expected,
                "{text} (combined: {combined})"
            );
        }
    }

    #[test]
    fn display_name_tokens_match_by_prefix_in_any_order_and_case() {
        for (search, value, expected) in [
            ("adele", "Adele Vance", true),
            ("vance", "Adele Vance", true),
            ("ade", "Adele Vance", true),
            ("Vance Adele", "Adele Vance", true),
            ("vance adelheid", "Adele Vance", false),
            ("dele", "Adele Vance", false),
            ("helloworld", "hello-world", true),
            ("Li 李", "李四(David Li)", true),
            ("David)", "李四(David Li)", true),
            ("OneVideo", "One Video Team", true),
            ("Liam O'Connor", "Liam O'Connor", true),
            ("oconnor", "Liam O'Connor", true),
        ] {
            assert_eq!(
                tokens_match(search, value),
                expected,
                "{search:?} in {value:?}"
            );
        }
    }

    #[test]
    fn other_properties_start_with_the_text() {
        let user: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "displayName": "Adele Vance",
            "mail": "adele.vance@fabrikam.example",
            "otherMails": ["av@northwind.example"],
        }))
        .unwrap_or_default();
        for (clause, expected) in [
            ("mail:Adele", true),
            ("mail:vance", false),
            ("MAIL:adele.v", true),
            ("otherMails:AV@", true),
            ("displayName:vance", true),
            ("surname:v", false),
        ] {
            let term = Term::parse(clause).expect("a valid clause");
            assert_eq!(term.matches(&user), expected, "{clause}");
        }
    }
}
