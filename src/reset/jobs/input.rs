//! A job as submitted: CSV rows or JSON items, or a domain move. Every
//! mistake names its line (CSV) or item number (JSON), so an operator with a
//! 3,000-row file knows where to look.

use std::collections::HashMap;

use serde::Deserialize;

use super::JobError;
use super::csv;

/// One guest to reset, as the job names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInput {
    /// The CSV line (1-based, the header is line 1) or the JSON item number.
    pub line: usize,
    pub user: String,
    pub new_email: Option<String>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
    pub tenant: Option<String>,
}

/// What the job does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobInput {
    Items(Vec<ItemInput>),
    /// Every guest whose mail ends with `@from` moves to `@to`.
    DomainMove {
        from: String,
        to: String,
    },
}

/// The job and its defaults for items that leave them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSubmission {
    pub input: JobInput,
    /// What an item's number counts: `line` (CSV) or `item` (JSON).
    pub unit: &'static str,
    pub tenant: Option<String>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonJob {
    #[serde(default)]
    items: Option<Vec<JsonItem>>,
    #[serde(default)]
    select: Option<Select>,
    #[serde(default)]
    rewrite_domain: Option<String>,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    ticket: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonItem {
    user: String,
    #[serde(default)]
    new_email: Option<String>,
    #[serde(default)]
    ticket: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    tenant: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Select {
    mail_domain: String,
}

fn invalid(line: Option<usize>, detail: String) -> JobError {
    JobError::Invalid { line, detail }
}

/// A JSON job body (already known to be an object).
pub fn from_json(body: serde_json::Value, max: usize) -> Result<JobSubmission, JobError> {
    let job: JsonJob = serde_path_to_error::deserialize(body)
        .map_err(|e| invalid(None, format!("{}: {}", e.path(), e.inner())))?;
    let input = match (job.items, job.select, job.rewrite_domain) {
        (Some(items), None, None) => JobInput::Items(json_items(items, max)?),
        (None, Some(select), Some(to)) => JobInput::DomainMove {
            from: domain("select.mail_domain", &select.mail_domain)?,
            to: domain("rewrite_domain", &to)?,
        },
        _ => {
            let why = "give either `items`, or `select` with `rewrite_domain` (a domain move)";
            return Err(invalid(None, why.into()));
        }
    };
    Ok(JobSubmission {
        input,
        unit: "item",
        tenant: job.tenant,
        ticket: job.ticket,
        reason: job.reason,
    })
}

fn json_items(items: Vec<JsonItem>, max: usize) -> Result<Vec<ItemInput>, JobError> {
    let items: Vec<ItemInput> = items
        .into_iter()
        .enumerate()
        .map(|(i, it)| ItemInput {
            line: i + 1,
            user: it.user,
            new_email: it.new_email,
            ticket: it.ticket,
            reason: it.reason,
            tenant: it.tenant,
        })
        .collect();
    checked(items, max, "item")
}

/// A domain as a job names it: no `@`, no spaces, at least one dot.
fn domain(field: &str, raw: &str) -> Result<String, JobError> {
    let d = raw.trim().trim_start_matches('@').to_ascii_lowercase();
    let ok = d.len() <= 253
        && d.contains('.')
        && d.split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    match ok {
        true => Ok(d),
        false => Err(invalid(
            None,
            format!("{field}: {raw:?} is not a domain name"),
        )),
    }
}

/// A CSV job body: a header row naming `user` (required), `new_email`,
/// `ticket`, `reason` and `tenant` (optional) in any order.
pub fn from_csv(body: &[u8], max: usize) -> Result<JobSubmission, JobError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        let line = body[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        invalid(Some(line), format!("line {line}: the CSV is not UTF-8"))
    })?;
    let rows = csv::parse(text.trim_start_matches('\u{feff}'))
        .map_err(|(line, why)| invalid(Some(line), format!("line {line}: {why}")))?;
    let mut rows = rows.into_iter();
    let (_, header) = rows
        .next()
        .ok_or_else(|| invalid(Some(1), "line 1: the header row is missing".into()))?;
    let columns = Columns::of(&header)?;
    let items = rows
        .filter(|(_, cells)| !cells.iter().all(|c| c.trim().is_empty()))
        .map(|(line, cells)| columns.item(line, &cells))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(JobSubmission {
        input: JobInput::Items(checked(items, max, "line")?),
        unit: "line",
        tenant: None,
        ticket: None,
        reason: None,
    })
}

const KNOWN: [&str; 5] = ["user", "new_email", "ticket", "reason", "tenant"];

/// Where each known column is.
struct Columns(HashMap<&'static str, usize>, usize);

impl Columns {
    fn of(header: &[String]) -> Result<Columns, JobError> {
        let mut at = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            let name = name.trim().to_ascii_lowercase();
            let Some(known) = KNOWN.iter().find(|k| **k == name) else {
                let why = format!("line 1: unknown column {name:?}; the columns are {KNOWN:?}");
                return Err(invalid(Some(1), why));
            };
            if at.insert(*known, i).is_some() {
                return Err(invalid(Some(1), format!("line 1: column {name:?} twice")));
            }
        }
        if !at.contains_key("user") {
            let why = "line 1: the header has no `user` column";
            return Err(invalid(Some(1), why.into()));
        }
        Ok(Columns(at, header.len()))
    }

    fn item(&self, line: usize, cells: &[String]) -> Result<ItemInput, JobError> {
        if cells.len() != self.1 {
            let why = format!(
                "line {line}: {} cells, the header has {}",
                cells.len(),
                self.1
            );
            return Err(invalid(Some(line), why));
        }
        let cell = |name: &str| {
            self.0
                .get(name)
                .map(|i| cells[*i].trim().to_owned())
                .filter(|c| !c.is_empty())
        };
        Ok(ItemInput {
            line,
            user: cell("user")
                .ok_or_else(|| invalid(Some(line), format!("line {line}: `user` is empty")))?,
            new_email: cell("new_email"),
            ticket: cell("ticket"),
            reason: cell("reason"),
            tenant: cell("tenant"),
        })
    }
}

/// Not empty, not too many, no guest twice (the second row names the first).
pub(super) fn checked(
    items: Vec<ItemInput>,
    max: usize,
    what: &str,
) -> Result<Vec<ItemInput>, JobError> {
    if items.is_empty() {
        return Err(invalid(None, "the job has no items".into()));
    }
    if let Some(over) = items.get(max) {
        let line = over.line;
        let why = format!("{what} {line}: a job has at most {max} items");
        return Err(invalid(Some(line), why));
    }
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for item in &items {
        let key = (
            item.tenant.clone().unwrap_or_default().to_lowercase(),
            item.user.to_lowercase(),
        );
        if let Some(first) = seen.insert(key, item.line) {
            let (line, user) = (item.line, &item.user);
            let why = format!("{what} {line}: guest {user:?} is already in {what} {first}");
            return Err(invalid(Some(line), why));
        }
    }
    Ok(items)
}

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
