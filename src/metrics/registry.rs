//! A minimal Prometheus registry: labelled counters and histograms rendered in
//! the text exposition format 0.0.4. Hand-written because the service needs a
//! dozen series, not a metrics framework in its dependency tree.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Latency buckets in seconds: from a local SQLite commit to a throttled Graph.
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A counter with labels `labels`.
pub struct Counters {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    values: Mutex<BTreeMap<Vec<String>, u64>>,
}

impl Counters {
    pub const fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Self {
        Counters {
            name,
            help,
            labels,
            values: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn inc(&self, values: &[&str]) {
        self.add(values, 1);
    }

    pub fn add(&self, values: &[&str], n: u64) {
        let mut map = self.values.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(values.iter().map(|v| (*v).to_owned()).collect())
            .or_default() += n;
    }

    pub fn render(&self, out: &mut String) {
        header(out, self.name, self.help, "counter");
        for (values, count) in self.values.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(
                out,
                "{}{} {count}",
                self.name,
                labels(self.labels, values, None)
            );
        }
    }
}

#[derive(Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// A histogram with labels `labels` and the [`BUCKETS`].
pub struct Histograms {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    values: Mutex<BTreeMap<Vec<String>, Histogram>>,
}

impl Histograms {
    pub const fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Self {
        Histograms {
            name,
            help,
            labels,
            values: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn observe(&self, values: &[&str], seconds: f64) {
        let mut map = self.values.lock().unwrap_or_else(|e| e.into_inner());
        let h = map
            .entry(values.iter().map(|v| (*v).to_owned()).collect())
            .or_default();
        for (bucket, bound) in h.buckets.iter_mut().zip(BUCKETS) {
            *bucket += u64::from(seconds <= bound);
        }
        h.sum += seconds;
        h.count += 1;
    }

    pub fn render(&self, out: &mut String) {
        header(out, self.name, self.help, "histogram");
        for (values, h) in self.values.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            for (count, bound) in h.buckets.iter().zip(BUCKETS) {
                let le = labels(self.labels, values, Some(&bound.to_string()));
                let _ = writeln!(out, "{}_bucket{le} {count}", self.name);
            }
            let inf = labels(self.labels, values, Some("+Inf"));
            let plain = labels(self.labels, values, None);
            let _ = writeln!(out, "{}_bucket{inf} {}", self.name, h.count);
            let _ = writeln!(out, "{}_sum{plain} {}", self.name, h.sum);
            let _ = writeln!(out, "{}_count{plain} {}", self.name, h.count);
        }
    }
}

/// One gauge line, with its header.
pub fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    header(out, name, help, "gauge");
    let _ = writeln!(out, "{name} {value}");
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn labels(names: &[&str], values: &[String], le: Option<&str>) -> String {
    let mut pairs: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
        .collect();
    pairs.extend(le.map(|le| format!("le=\"{le}\"")));
    match pairs.is_empty() {
        true => String::new(),
        false => format!("{{{}}}", pairs.join(",")),
    }
}

/// Label values are escaped as the exposition format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_histograms() {
        let c = Counters::new("c_total", "A counter.", &["route"]);
        c.inc(&["/a\"b"]);
        c.inc(&["/a\"b"]);
        let h = Histograms::new("h_seconds", "A histogram.", &["op"]);
        h.observe(&["x"], 0.003);
        h.observe(&["x"], 20.0);
        let mut out = String::new();
        c.render(&mut out);
        h.render(&mut out);
        assert!(
            out.contains("# TYPE c_total counter\nc_total{route=\"/a\\\"b\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("h_seconds_bucket{op=\"x\",le=\"0.0025\"} 0\n"),
            "{out}"
        );
        assert!(
            out.contains("h_seconds_bucket{op=\"x\",le=\"0.005\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("h_seconds_bucket{op=\"x\",le=\"10\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("h_seconds_bucket{op=\"x\",le=\"+Inf\"} 2\n"),
            "{out}"
        );
        assert!(out.contains("h_seconds_count{op=\"x\"} 2\n"), "{out}");
    }
}
