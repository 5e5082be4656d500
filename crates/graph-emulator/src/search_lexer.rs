//! The `$search` lexer of the OData library Graph parses `$search` with (its
//! `SearchLexer`, see `search.rs`): quoted clauses with `\"` and `\\` escapes,
//! parentheses, the case-sensitive keywords `AND`, `OR` and `NOT`, and bare words of
//! letters; its errors carry the library's messages.

use super::errors::GraphError;

#[derive(Debug, PartialEq)]
pub(super) enum Kind {
    /// A quoted clause, unescaped.
    Phrase(String),
    /// A bare word of letters (not a keyword).
    Word(String),
    /// `AND`, `OR` or `NOT`: case-sensitive, as the library's keyword set.
    Keyword(&'static str),
    Open,
    Close,
    End,
}

pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) position: usize,
}

pub(super) struct Lexer<'a> {
    text: &'a str,
    chars: Vec<char>,
    /// In characters, as the library counts (it counts UTF-16 units; the same below
    /// U+10000).
    pub(super) pos: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            text,
            chars: text.chars().collect(),
            pos: 0,
        }
    }

    pub(super) fn next(&mut self) -> Result<Token, GraphError> {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
        let position = self.pos;
        let kind = match self.chars.get(position) {
            None => Kind::End,
            Some('"') => self.phrase()?,
            Some('(') => self.single(Kind::Open),
            Some(')') => self.single(Kind::Close),
            Some(_) => self.word()?,
        };
        Ok(Token { kind, position })
    }

    fn single(&mut self, kind: Kind) -> Kind {
        self.pos += 1;
        kind
    }

    /// A quoted clause; only `\"` and `\\` may be escaped.
    fn phrase(&mut self) -> Result<Kind, GraphError> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            match self.chars.get(self.pos).copied() {
                None => {
                    let at = self.chars.len();
                    let message =
                        format!("There is an unterminated string literal at position {at}");
                    return Err(self.error(&message));
                }
                Some('"') => break,
                Some('\\') => value.push(self.escaped()?),
                Some(c) => value.push(c),
            }
            self.pos += 1;
        }
        self.pos += 1;
        if value.is_empty() {
            // The library's message names no text here.
            let message = format!("An identifier was expected at position {start}.");
            return Err(GraphError::bad_request(message));
        }
        Ok(Kind::Phrase(value))
    }

    /// The character after a backslash; the wording of this error is UNVERIFIED (the
    /// library's resource string was not found).
    fn escaped(&mut self) -> Result<char, GraphError> {
        self.pos += 1;
        match self.chars.get(self.pos).copied() {
            Some(c @ ('"' | '\\')) => Ok(c),
            other => {
                let shown = other.map(String::from).unwrap_or_default();
                let at = self.pos;
                let message =
                    format!("There is an invalid escape sequence '\\{shown}' at position {at}");
                Err(self.error(&message))
            }
        }
    }

    /// Up to whitespace or `)`; a word that is not a keyword may hold letters only.
    fn word(&mut self) -> Result<Kind, GraphError> {
        let start = self.pos;
        while (self.chars.get(self.pos)).is_some_and(|c| !c.is_whitespace() && *c != ')') {
            self.pos += 1;
        }
        let word: String = self
            .chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect();
        if let Some(keyword) = ["AND", "OR", "NOT"].into_iter().find(|k| *k == word) {
            return Ok(Kind::Keyword(keyword));
        }
        match word.chars().position(|c| !c.is_alphabetic()) {
            None => Ok(Kind::Word(word)),
            Some(offset) => {
                let bad = word.chars().nth(offset).unwrap_or_default();
                let at = start + offset;
                let message =
                    format!("Syntax error: character '{bad}' is not valid at position {at}");
                Err(self.error(&message))
            }
        }
    }

    /// The library's messages end with ` in '<the whole $search>'.`.
    pub(super) fn error(&self, message: &str) -> GraphError {
        GraphError::bad_request(format!("{message} in '{}'.", self.text))
    }
}
