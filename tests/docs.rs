//! The README and `docs/` stay true to each other and to the code: every
//! relative link reaches a file (and a heading, when it names one), and every
//! TOML example is a policy the service accepts. (tests/container.rs keeps
//! the variables they name in step with the configuration.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use guest_reset::policy::{Effect, Policy};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every Markdown file in docs/, with their text.
fn documents() -> Vec<(PathBuf, String)> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect()
}

/// The text outside fenced code blocks, and the fenced blocks of `language`.
fn split(text: &str, language: &str) -> (String, Vec<String>) {
    let (mut prose, mut blocks) = (String::new(), Vec::new());
    let mut current: Option<(bool, String)> = None;
    for line in text.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut current, fence) {
            (None, Some(info)) => current = Some((info.trim() == language, String::new())),
            (Some((wanted, block)), Some(_)) => {
                if *wanted {
                    blocks.push(std::mem::take(block));
                }
                current = None;
            }
            (Some((_, block)), None) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, None) => {
                prose.push_str(line);
                prose.push('\n');
            }
        }
    }
    (prose, blocks)
}

/// GitHub's anchor for a heading: its text lower-cased, without punctuation
/// other than `-` and `_`, spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let (prose, _) = split(text, "");
    prose
        .lines()
        .filter_map(|line| {
            let hashes = line.len() - line.trim_start_matches('#').len();
            let title = line.get(hashes..)?.strip_prefix(' ')?;
            (hashes > 0).then(|| slug(title.trim()))
        })
        .collect()
}

#[test]
fn every_relative_link_reaches_its_file_and_heading() {
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let mut checked = 0;
    let mut broken = Vec::new();
    for (path, text) in documents() {
        let (prose, _) = split(&text, "");
        let dir = path.parent().unwrap();
        for target in link.captures_iter(&prose).map(|c| c[1].to_owned()) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let file = if file.is_empty() {
                path.clone()
            } else {
                dir.join(file)
            };
            checked += 1;
            let shown = format!("{}: {target}", path.strip_prefix(root()).unwrap().display());
            let Ok(linked) = std::fs::read_to_string(&file) else {
                broken.push(format!("{shown} (no such file)"));
                continue;
            };
            if !anchor.is_empty() && !anchors(&linked).contains(anchor) {
                broken.push(format!("{shown} (no such heading)"));
            }
        }
    }
    assert!(checked > 20, "only {checked} links found");
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}

#[test]
fn every_toml_example_is_a_valid_policy() {
    let mut examples = 0;
    for (path, text) in documents() {
        let shown = path.strip_prefix(root()).unwrap().display().to_string();
        for block in split(&text, "toml").1 {
            Policy::parse(&block, &shown).unwrap_or_else(|e| panic!("{e}"));
            examples += 1;
        }
    }
    assert!(
        examples >= 2,
        "README.md and docs/policy.md each show a policy"
    );
}

/// The commented example in docs/policy.md is a valid policy that says what
/// the text says it does.
#[test]
fn the_policy_reference_example_says_what_it_shows() {
    let text = std::fs::read_to_string(root().join("docs/policy.md")).unwrap();
    let section = &text[text.find("## The policy file").expect("section")..];
    let block = split(section, "toml")
        .1
        .into_iter()
        .next()
        .expect("a toml block");
    let p = Policy::parse(&block, "docs/policy.md").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.grants.len(), 4);
    assert_eq!(p.rules.len(), 2);
    assert_eq!(p.protections.global.users, ["ceo@fabrikam.example"]);
    let rule = &p.rules[0];
    assert_eq!(rule.cooldown_hours, Some(24));
    assert!(rule.allow_cooldown_override && rule.ticket_pattern.is_some());
    assert_eq!(p.rules[1].effect, Effect::Deny);
}

#[test]
fn slugs_follow_github() {
    assert_eq!(
        slug("Which permission am I missing? `guest-reset doctor`"),
        "which-permission-am-i-missing-guest-reset-doctor"
    );
    assert_eq!(slug("Health, readiness, limits"), "health-readiness-limits");
    assert_eq!(
        slug("What to do about `unknown`"),
        "what-to-do-about-unknown"
    );
}

/// The README's `cargo run --release -- demo` (and every `cargo run -- …` in
/// docs/) must pick the service: the workspace builds two binaries.
#[test]
fn cargo_run_runs_the_service() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let package = manifest.split("\n[").next().unwrap_or_default();
    assert!(
        package.contains("default-run = \"guest-reset\""),
        "[package] needs default-run, or `cargo run` cannot choose between the binaries"
    );
}
