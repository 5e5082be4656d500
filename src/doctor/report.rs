//! The checklist as text for a person at a terminal, or as JSON.

use serde::Serialize;

use super::{Check, Status};

/// Every check, in the order they ran.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub passed: bool,
    pub checks: Vec<Check>,
    /// Tenant name and the line that heads its checks in the text; JSON
    /// carries the name on each check instead.
    #[serde(skip)]
    headings: Vec<(String, String)>,
}

impl Report {
    pub(super) fn new(checks: Vec<Check>) -> Report {
        Report::with_headings(checks, Vec::new())
    }

    pub(super) fn with_headings(checks: Vec<Check>, headings: Vec<(String, String)>) -> Report {
        let passed = checks
            .iter()
            .all(|c| matches!(c.status, Status::Ok | Status::Skipped));
        Report {
            passed,
            checks,
            headings,
        }
    }

    /// One line per check, the fix indented below it, then a summary. A
    /// tenant's checks sit under its heading, indented.
    pub fn to_text(&self) -> String {
        let mut out = String::from("guest-reset doctor\n");
        let mut current: Option<&str> = None;
        for check in &self.checks {
            let tenant = check.tenant.as_deref();
            if let Some(name) = tenant
                && tenant != current
            {
                out.push_str(&self.heading(name));
                out.push('\n');
            }
            current = tenant;
            let indent = if tenant.is_some() { "  " } else { "" };
            let label = match check.status {
                Status::Ok => "ok",
                Status::Missing => "MISSING",
                Status::Failed => "FAILED",
                Status::Skipped => "skipped",
            };
            out.push_str(&format!(
                "{indent}{label:<8} {}: {}\n",
                check.what, check.detail
            ));
            if let Some(fix) = &check.fix {
                out.push_str(&format!("{indent}{:<8} fix: {fix}\n", ""));
            }
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    fn heading(&self, tenant: &str) -> String {
        self.headings
            .iter()
            .find(|(name, _)| name == tenant)
            .map_or_else(|| format!("tenant {tenant}"), |(_, line)| line.clone())
    }

    pub fn to_json(&self) -> String {
        // A struct of strings and enums always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn summary(&self) -> String {
        let count = |s: Status| self.checks.iter().filter(|c| c.status == s).count();
        let (missing, failed) = (count(Status::Missing), count(Status::Failed));
        let skipped = match count(Status::Skipped) {
            0 => String::new(),
            n => format!(", {n} skipped"),
        };
        match self.passed {
            true => format!("all checks passed ({} ok{skipped})", count(Status::Ok)),
            false => format!(
                "{missing} missing, {failed} failed{skipped}: apply the fixes above{}, then run \
                 `guest-reset doctor` again",
                self.failing_tenants()
            ),
        }
    }

    /// " (tenants: a, b)" when tenants' checks failed, else nothing.
    fn failing_tenants(&self) -> String {
        let mut names: Vec<&str> = Vec::new();
        let failing = self
            .checks
            .iter()
            .filter(|c| matches!(c.status, Status::Missing | Status::Failed));
        for name in failing.filter_map(|c| c.tenant.as_deref()) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        match names.is_empty() {
            true => String::new(),
            false => format!(" (tenants: {})", names.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_line_fails_the_report_and_prints_its_fix() {
        let report = Report::new(vec![
            Check::ok("a", "fine".into()),
            Check::skipped("b", "unused"),
            Check::missing("c", "absent".into(), "grant it".into()),
        ]);
        assert!(!report.passed);
        let text = report.to_text();
        assert!(
            text.contains("MISSING  c: absent\n         fix: grant it\n"),
            "{text}"
        );
        assert!(text.contains("1 missing, 0 failed, 1 skipped"), "{text}");
    }

    #[test]
    fn ok_and_skipped_lines_pass() {
        let report = Report::new(vec![
            Check::ok("a", "fine".into()),
            Check::skipped("b", "x"),
        ]);
        assert!(report.passed);
        assert!(
            report
                .to_text()
                .ends_with("all checks passed (1 ok, 1 skipped)\n")
        );
    }
}
