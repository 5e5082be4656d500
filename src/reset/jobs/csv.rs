//! Just enough RFC 4180 for job files and results: fields separated by
//! commas, double-quoted when they hold commas, quotes or line breaks (a
//! quote doubled inside), records ended by CRLF or LF.

/// A record's fields, with the line it starts on (1-based).
pub type Record = (usize, Vec<String>);

/// Every record; a mistake comes with its line.
pub fn parse(text: &str) -> Result<Vec<Record>, (usize, String)> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut line, mut start) = (1, 1);
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => match chars.peek() {
                None | Some(',' | '\r' | '\n') => quoted = false,
                Some(_) => return Err((line, "text after a closing quote".into())),
            },
            (true, c) => {
                line += usize::from(c == '\n');
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, '"') => return Err((line, "a quote inside an unquoted field".into())),
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push((start, std::mem::take(&mut record)));
                line += 1;
                start = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err((start, "a quoted field is not closed".into()));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((start, record));
    }
    Ok(records)
}

/// One CSV record (with its CRLF), quoting where needed. A field starting
/// with `=`, `+`, `-` or `@` gets a leading `'`, so a spreadsheet opening
/// the results does not run it as a formula (CSV injection).
pub fn record<S: AsRef<str>>(fields: &[S]) -> String {
    let mut out: Vec<String> = Vec::with_capacity(fields.len());
    for f in fields {
        let f = f.as_ref();
        let f = match f.starts_with(['=', '+', '-', '@']) {
            true => format!("'{f}"),
            false => f.to_owned(),
        };
        out.push(match f.contains([',', '"', '\r', '\n']) {
            true => format!("\"{}\"", f.replace('"', "\"\"")),
            false => f,
        });
    }
    out.join(",") + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(rows: &[(usize, Vec<String>)]) -> Vec<(usize, Vec<&str>)> {
        rows.iter()
            .map(|(l, r)| (*l, r.iter().map(String::as_str).collect()))
            .collect()
    }

    #[test]
    fn quoted_fields_and_line_numbers() {
        let text = "user,reason\r\na@x.example,\"moved, \"\"again\"\"\"\nb@x.example,\"two\nlines\"\nc@x.example,\n";
        let rows = parse(text).unwrap();
        assert_eq!(
            cells(&rows),
            [
                (1, vec!["user", "reason"]),
                (2, vec!["a@x.example", "moved, \"again\""]),
                (3, vec!["b@x.example", "two\nlines"]),
                (5, vec!["c@x.example", ""]),
            ]
        );
    }

    #[test]
    fn broken_quotes_name_the_line() {
        assert_eq!(parse("user\n\"a").unwrap_err().0, 2);
        assert_eq!(parse("user\na\"b\n").unwrap_err().0, 2);
        assert_eq!(parse("user\n\"a\"b\n").unwrap_err().0, 2);
    }

    #[test]
    fn records_quote_and_defuse_formulas() {
        assert_eq!(record(&["a", "b,c", "d\"e"]), "a,\"b,c\",\"d\"\"e\"\r\n");
        assert_eq!(record(&["=1+1", "@x"]), "'=1+1,'@x\r\n");
        let round = parse(&record(&["x,y", "z"])).unwrap();
        assert_eq!(cells(&round), [(1, vec!["x,y", "z"])]);
    }
}
