//! `$search` on directory collections (search-query-parameter.md, "Using $search on
//! directory object collections"): `$search="clause1" [AND | OR] "clauseX"`, any number
//! of clauses, parentheses for precedence, each clause `"<property>:<text>"` in double
//! quotes with `"` and `\` escaped by a backslash, `AND`/`OR` upper case outside the
//! quotes. The header rule lives in `advanced_query.rs`; clauses and matching in
//! `search_terms.rs`.
//!
//! Graph reads `$search` with the OData library's search parser: its unquoted-clause
//! error, "Syntax error: character ':' is not valid at position 11 in
//! 'displayName:room'.", is that lexer's (Microsoft.OData `SearchLexer`). So the
//! grammar and the syntax messages here are the library's (its resource strings), under
//! Graph's `BadRequest` (seen for `$search` in microsoftgraph/msgraph-sdk-java#2346):
//! adjacent clauses are an implicit `AND`, a bare word of letters is a search term, and
//! `NOT` is a keyword. What the directory then refuses (a term without a property, an
//! unknown property, `NOT`) is a 400 `Request_UnsupportedQuery` whose wording is
//! UNVERIFIED (see `search_terms.rs`).

use super::errors::GraphError;
use super::search_lexer::{Kind, Lexer, Token};
use super::search_terms::Term;

/// A `$search` expression over clauses of type `T`.
#[derive(Debug, PartialEq)]
pub(super) enum Expr<T> {
    Term(T),
    Not(Box<Expr<T>>),
    And(Box<Expr<T>>, Box<Expr<T>>),
    Or(Box<Expr<T>>, Box<Expr<T>>),
}

/// A parsed and resolved `$search`.
pub(super) type Search = Expr<Term>;

impl Search {
    /// Whether the object satisfies the expression.
    pub(super) fn matches(&self, object: &serde_json::Map<String, serde_json::Value>) -> bool {
        match self {
            Expr::Term(term) => term.matches(object),
            Expr::Not(inner) => !inner.matches(object),
            Expr::And(left, right) => left.matches(object) && right.matches(object),
            Expr::Or(left, right) => left.matches(object) || right.matches(object),
        }
    }
}

/// A clause as the syntax gives it.
#[derive(Debug, PartialEq)]
enum Clause {
    Quoted(String),
    Bare(String),
}

/// Parses a `$search` value (already URL-decoded): the syntax first, as the OData layer
/// reads it, then what the directory makes of each clause.
pub(super) fn parse(text: &str) -> Result<Search, GraphError> {
    let mut parser = Parser::new(text)?;
    let syntax = parser.or()?;
    if parser.token.kind != Kind::End {
        // The library's `ValidateToken(End)`: the position after the stray token.
        return Err(parser.syntax(format!("Syntax error at position {}", parser.lexer.pos)));
    }
    resolve(syntax)
}

fn resolve(syntax: Expr<Clause>) -> Result<Search, GraphError> {
    let both = |l: Box<Expr<Clause>>, r: Box<Expr<Clause>>| -> Result<_, GraphError> {
        Ok((Box::new(resolve(*l)?), Box::new(resolve(*r)?)))
    };
    Ok(match syntax {
        Expr::Term(Clause::Quoted(clause)) => Expr::Term(Term::parse(&clause)?),
        Expr::Term(Clause::Bare(word)) => return Err(Term::without_property(&word)),
        Expr::Not(_) => return Err(Term::not_supported()),
        Expr::And(l, r) => both(l, r).map(|(l, r)| Expr::And(l, r))?,
        Expr::Or(l, r) => both(l, r).map(|(l, r)| Expr::Or(l, r))?,
    })
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    token: Token,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Result<Parser<'a>, GraphError> {
        let mut lexer = Lexer::new(text);
        let token = lexer.next()?;
        Ok(Parser { lexer, token })
    }

    fn advance(&mut self) -> Result<(), GraphError> {
        self.token = self.lexer.next()?;
        Ok(())
    }

    fn or(&mut self) -> Result<Expr<Clause>, GraphError> {
        let mut left = self.and()?;
        while self.token.kind == Kind::Keyword("OR") {
            self.advance()?;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `AND`, explicit or implied by a clause or `(` that follows directly.
    fn and(&mut self) -> Result<Expr<Clause>, GraphError> {
        let mut left = self.unary()?;
        loop {
            match self.token.kind {
                Kind::Keyword("AND") => self.advance()?,
                Kind::Phrase(_) | Kind::Word(_) | Kind::Open => {}
                _ => return Ok(left),
            }
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr<Clause>, GraphError> {
        if self.token.kind != Kind::Keyword("NOT") {
            return self.primary();
        }
        self.advance()?;
        Ok(Expr::Not(Box::new(self.unary()?)))
    }

    fn primary(&mut self) -> Result<Expr<Clause>, GraphError> {
        let position = self.token.position;
        let clause = match std::mem::replace(&mut self.token.kind, Kind::End) {
            Kind::Phrase(text) => Clause::Quoted(text),
            Kind::Word(word) => Clause::Bare(word),
            Kind::Open => return self.parenthesised(),
            _ => return Err(self.syntax(format!("Expression expected at position {position}"))),
        };
        self.advance()?;
        Ok(Expr::Term(clause))
    }

    fn parenthesised(&mut self) -> Result<Expr<Clause>, GraphError> {
        self.advance()?;
        let inner = self.or()?;
        if self.token.kind != Kind::Close {
            let position = self.token.position;
            return Err(self.syntax(format!("')' or operator expected at position {position}")));
        }
        self.advance()?;
        Ok(inner)
    }

    fn syntax(&self, message: String) -> GraphError {
        self.lexer.error(&message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(clause: &str) -> Search {
        Expr::Term(Term::parse(clause).expect("a valid clause"))
    }

    fn and(left: Search, right: Search) -> Search {
        Expr::And(Box::new(left), Box::new(right))
    }

    fn or(left: Search, right: Search) -> Search {
        Expr::Or(Box::new(left), Box::new(right))
    }

    #[test]
    fn clauses_combine_with_and_binding_tighter_than_or() {
        let (a, b, c) = ("displayName:a", "mail:b", "surname:c");
        let cases = [
            (r#""displayName:a""#, term(a)),
            (r#""displayName:a" OR "mail:b""#, or(term(a), term(b))),
            (
                r#""displayName:a" OR "mail:b" AND "surname:c""#,
                or(term(a), and(term(b), term(c))),
            ),
            (
                r#"("displayName:a" OR "mail:b") AND "surname:c""#,
                and(or(term(a), term(b)), term(c)),
            ),
            (r#" "displayName:a"  "mail:b" "#, and(term(a), term(b))),
            (r#""displayName:a"("mail:b")"#, and(term(a), term(b))),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).ok(), Some(expected), "{text}");
        }
    }

    #[test]
    fn quotes_and_backslashes_are_escaped_with_a_backslash() {
        let parsed = parse(r#""displayName:say \"hi\" \\o/""#).ok();
        assert_eq!(parsed, Some(term(r#"displayName:say "hi" \o/"#)));
    }

    #[test]
    fn malformed_expressions_are_the_librarys_syntax_errors() {
        let cases = [
            (
                "displayName:room",
                "Syntax error: character ':' is not valid at position 11 in 'displayName:room'.",
            ),
            (
                r#""mail:a"#,
                r#"There is an unterminated string literal at position 7 in '"mail:a'."#,
            ),
            (
                r#""mail:\a""#,
                r#"There is an invalid escape sequence '\a' at position 7 in '"mail:\a"'."#,
            ),
            (r#""""#, "An identifier was expected at position 0."),
            (
                r#"("mail:a""#,
                r#"')' or operator expected at position 9 in '("mail:a"'."#,
            ),
            (
                r#""mail:a" OR"#,
                r#"Expression expected at position 11 in '"mail:a" OR'."#,
            ),
            (
                r#""mail:a" AND OR "mail:b""#,
                r#"Expression expected at position 13 in '"mail:a" AND OR "mail:b"'."#,
            ),
            (
                r#""mail:a")"#,
                r#"Syntax error at position 9 in '"mail:a")'."#,
            ),
            ("", "Expression expected at position 0 in ''."),
        ];
        for (text, message) in cases {
            let error = parse(text).err();
            let got = error.as_ref().map(|e| (e.code, e.message.as_str()));
            assert_eq!(got, Some(("BadRequest", message)), "{text}");
        }
    }

    #[test]
    fn the_syntax_is_checked_before_the_clauses() {
        let error = parse(r#""favouriteColour:teal" OR"#).err().map(|e| e.code);
        assert_eq!(error, Some("BadRequest"));
    }

    #[test]
    fn what_the_directory_does_not_take_is_an_unsupported_query() {
        for text in [
            "adele",
            r#""adele""#,
            r#"NOT "mail:a""#,
            r#""favouriteColour:teal""#,
            r#""accountEnabled:true""#,
            r#""mail:a" and "mail:b""#,
        ] {
            let code = parse(text).err().map(|e| e.code);
            assert_eq!(code, Some("Request_UnsupportedQuery"), "{text}");
        }
    }
}
