//! The service's RFC 9457 error answers, as the operator reads them.

use std::fmt;

use serde::Deserialize;

/// A problem+json body. Every member is optional on the wire: a proxy or an
/// older server may send less, and the client must still say something.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub title: Option<String>,
    pub status: Option<u16>,
    pub detail: Option<String>,
    /// job-invalid: the CSV line (or JSON item number) at fault.
    pub line: Option<u64>,
    /// Quoted to whoever runs the service, to find the request in its logs.
    pub request_id: Option<String>,
}

impl Problem {
    /// The problem in `body`, if it is one (a JSON object with a type or a
    /// title); anything else is left to the caller to show raw.
    pub fn parse(body: &[u8]) -> Option<Problem> {
        let problem: Problem = serde_json::from_slice(body).ok()?;
        (problem.kind.is_some() || problem.title.is_some()).then_some(problem)
    }
}

/// `<title>: <detail> (type <type>, line <n>, request <id>)`.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let title = self
            .title
            .as_deref()
            .unwrap_or("The service refused the request");
        write!(f, "{title}")?;
        if let Some(detail) = self.detail.as_deref().filter(|d| !d.is_empty()) {
            write!(f, ": {detail}")?;
        }
        let mut notes = Vec::new();
        if let Some(kind) = &self.kind {
            notes.push(format!("type {kind}"));
        }
        if let Some(line) = self.line {
            notes.push(format!("line {line}"));
        }
        if let Some(id) = &self.request_id {
            notes.push(format!("request {id}"));
        }
        if !notes.is_empty() {
            write!(f, " ({})", notes.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_reads_as_title_detail_and_type() {
        let body =
            br#"{"type": "urn:guest-reset:problem:job-invalid", "title": "Job input is invalid",
            "status": 400, "detail": "unknown column `mail`", "line": 1, "request_id": "r-1"}"#;
        let problem = Problem::parse(body).unwrap();
        assert_eq!(problem.status, Some(400));
        assert_eq!(
            problem.to_string(),
            "Job input is invalid: unknown column `mail` \
             (type urn:guest-reset:problem:job-invalid, line 1, request r-1)"
        );
    }

    #[test]
    fn a_sparse_problem_still_reads() {
        let problem = Problem::parse(br#"{"title": "Not found"}"#).unwrap();
        assert_eq!(problem.to_string(), "Not found");
        let problem = Problem::parse(br#"{"type": "about:blank", "detail": ""}"#).unwrap();
        assert_eq!(
            problem.to_string(),
            "The service refused the request (type about:blank)"
        );
    }

    #[test]
    fn other_bodies_are_not_problems() {
        assert_eq!(Problem::parse(b"<html>Bad Gateway</html>"), None);
        assert_eq!(Problem::parse(br#"{"error": "nope"}"#), None);
        assert_eq!(Problem::parse(b"[1, 2]"), None);
    }
}
