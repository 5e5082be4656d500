//! One-way arrows between modules, read from the sources: no two top-level
//! modules depend on each other (directly or round a loop), no two files of
//! one module import each other, and the lower layers never reach up into
//! the HTTP edge (`config` is read by everything; the worker runs without a
//! server).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// The emulator is its own crate (`crates/graph-emulator`), re-exported by
/// lib.rs for the demo; it is not one of the service's layers.
const NOT_CHECKED: &[&str] = &["emulator"];

/// The only service modules that may use the emulator: the demo and the
/// command line that starts it alone. The Graph client above all must not
/// (the emulator crate cannot see the client: Cargo enforces the other way).
const MAY_USE_THE_EMULATOR: &[&str] = &["src/demo.rs", "src/cli.rs", "src/lib.rs"];

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The code of `path` without its unit tests (they may reach anywhere).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Top-level module of a file under src/ (`src/http/auth.rs` -> `http`).
fn top(path: &Path) -> String {
    let rel = path.strip_prefix("src").unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

fn is_test_file(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "tests")
        || path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("tests"))
}

/// Which top-level modules each top-level module names (`crate::<m>`).
fn top_level_graph() -> BTreeMap<String, BTreeSet<String>> {
    let uses = Regex::new(r"crate::(\w+)").unwrap();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in sources(Path::new("src"))
        .iter()
        .filter(|p| !is_test_file(p))
    {
        let from = top(path);
        if ["lib", "main"].contains(&from.as_str()) || NOT_CHECKED.contains(&from.as_str()) {
            continue;
        }
        let text = code(path);
        let names = uses.captures_iter(&text).map(|c| c[1].to_owned());
        let entry = graph.entry(from.clone()).or_default();
        entry.extend(names.filter(|n| *n != from && !NOT_CHECKED.contains(&n.as_str())));
    }
    graph
}

/// A loop through `graph` starting at `node`, if there is one.
fn cycle_from(
    graph: &BTreeMap<String, BTreeSet<String>>,
    node: &str,
    path: &mut Vec<String>,
) -> Option<Vec<String>> {
    if let Some(i) = path.iter().position(|p| p == node) {
        return Some(path[i..].iter().cloned().chain([node.to_owned()]).collect());
    }
    path.push(node.to_owned());
    for next in graph.get(node).into_iter().flatten() {
        if let Some(found) = cycle_from(graph, next, path) {
            return Some(found);
        }
    }
    path.pop();
    None
}

#[test]
fn top_level_modules_form_no_loop() {
    let graph = top_level_graph();
    for node in graph.keys() {
        let found = cycle_from(&graph, node, &mut Vec::new());
        assert!(
            found.is_none(),
            "import loop: {}",
            found.unwrap().join(" -> ")
        );
    }
    assert!(
        !graph["config"].contains("http"),
        "config must not import http"
    );
}

#[test]
fn no_two_files_of_a_module_import_each_other() {
    no_sibling_loops(Path::new("src"));
    // The emulator crate's modules sit at its root (lib.rs is their parent).
    no_sibling_loops(Path::new("crates/graph-emulator/src"));
}

fn no_sibling_loops(root: &Path) {
    let sibling = Regex::new(r"super::(\w+)|super::\{([^}]*)\}").unwrap();
    let mut imports: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    for path in sources(root).iter().filter(|p| !is_test_file(p)) {
        let skipped = root == Path::new("src") && NOT_CHECKED.contains(&top(path).as_str());
        if skipped || path.ends_with("mod.rs") || path.ends_with("lib.rs") {
            continue;
        }
        let text = code(path);
        let mut names = BTreeSet::new();
        for c in sibling.captures_iter(&text) {
            // `super::a::X` or `super::{a, b::Y}`: the first segment of each.
            let list = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
            let first = |n: &str| n.trim().split("::").next().unwrap_or_default().to_owned();
            names.extend(list.split(',').map(first));
        }
        imports.insert(path.clone(), names);
    }
    for (path, names) in &imports {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        for name in names {
            let other = path.with_file_name(format!("{name}.rs"));
            let back = imports.get(&other).is_some_and(|n| n.contains(&stem));
            assert!(
                !back,
                "{} and {} import each other",
                path.display(),
                other.display()
            );
        }
    }
}

#[test]
fn the_http_edge_talks_to_the_use_case_not_to_graph() {
    for path in sources(Path::new("src/http"))
        .iter()
        .filter(|p| !is_test_file(p))
    {
        let text = code(path);
        assert!(
            !text.contains("crate::graph") && !text.contains(".graph()"),
            "{} reaches the Graph client",
            path.display()
        );
        assert!(
            !text.contains(".store()"),
            "{} reaches the store",
            path.display()
        );
    }
}

#[test]
fn the_worker_runs_without_the_http_edge() {
    let worker = code(Path::new("src/worker.rs"));
    assert!(
        !worker.contains("crate::http"),
        "src/worker.rs imports http"
    );
}

#[test]
fn only_the_demo_and_the_command_line_use_the_emulator() {
    let uses = Regex::new(r"crate::emulator|graph_emulator").unwrap();
    for path in sources(Path::new("src")) {
        let allowed = MAY_USE_THE_EMULATOR.iter().any(|a| path == Path::new(a));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            allowed || !uses.is_match(&text),
            "{} uses the Graph emulator",
            path.display()
        );
    }
    let manifest = std::fs::read_to_string("crates/graph-emulator/Cargo.toml").unwrap();
    let depends = Regex::new(r"(?m)^guest[-_]reset\s*=").unwrap();
    assert!(
        !depends.is_match(&manifest),
        "the emulator crate depends on the service"
    );
}
