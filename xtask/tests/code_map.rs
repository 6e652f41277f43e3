//! Keeps `ARCHITECTURE.md`'s code map true: it must name every module of every crate, and no
//! file that is gone.
//!
//! The convention (written at the top of the code map too):
//!
//! - Each crate has a section whose heading is `### ` followed by the crate's folder in
//!   backticks, e.g. ``### `edge/core` — the runtime-free handler``. The section runs to the
//!   next `#`, `##` or `###` heading. The crates are the workspace members of the root
//!   `Cargo.toml`, plus `fuzz` (a workspace of its own).
//! - A module is named in its crate's section, in backticks, by its path relative to the
//!   crate's `src/`: `stack/postgres.rs`; a folder module (one with `mod.rs`) as `auth/`.
//!   `lib.rs` and `main.rs` at the root of `src/` are the crate itself and are not named.
//!   Other source files under `src/` (`.sql`, `.ts`, `.js`, `.html`, which modules include or
//!   serve) are named the same way.
//! - Files of the crate's other target folders (`tests/`, `benches/`, `examples/`,
//!   `fuzz_targets/`) are named relative to the crate's folder: `tests/handler.rs`,
//!   `tests/support/`.
//! - A stale entry: any backticked path in a crate's section that ends in `.rs`, `.sql`, `.ts`,
//!   `.js` or `.html` (and holds no space, wildcard or placeholder) must exist relative to the
//!   crate's `src/`, the crate's folder, or the workspace root. Folder entries (`auth/`) are not
//!   checked for staleness: prose names folders such as `dist/` that exist only after a build.
//!
//! Plain std only: it runs before anything else is built.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// Source files under `src/` that the code map names besides Rust modules.
const ASSET_EXTENSIONS: &[&str] = &["sql", "ts", "js", "html"];
/// Extensions of file entries checked for staleness.
const CHECKED_EXTENSIONS: &[&str] = &["rs", "sql", "ts", "js", "html"];
/// A crate's target folders besides `src/`, named relative to the crate's folder.
const OTHER_TARGET_DIRS: &[&str] = &["tests", "benches", "examples", "fuzz_targets"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The crate folders: the root `Cargo.toml`'s `members`, plus `fuzz` when it exists.
fn crates(root: &Path) -> Vec<String> {
    let manifest = read(&root.join("Cargo.toml"));
    let Some(start) = manifest.find("members") else {
        panic!("no `members` in the root Cargo.toml")
    };
    let list = &manifest[start..];
    let list = &list[..list.find(']').unwrap_or(list.len())];
    let mut crates: Vec<String> = list
        .split('"')
        .skip(1)
        .step_by(2)
        .map(|member| member.trim_end_matches('/').to_owned())
        .collect();
    if root.join("fuzz").join("Cargo.toml").is_file() && !crates.iter().any(|c| c == "fuzz") {
        crates.push("fuzz".to_owned());
    }
    assert!(
        !crates.is_empty(),
        "no workspace members found in the root Cargo.toml"
    );
    crates
}

/// Every file below `dir`, as paths relative to `dir` with `/` separators, sorted (none when
/// `dir` does not exist).
fn files_below(dir: &Path) -> Vec<String> {
    let mut out = vantage_dev_files::tree::relative_files(dir).unwrap_or_default();
    out.sort();
    out
}

fn extension(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.').map_or("", |(_, ext)| ext)
}

/// The name a file goes by in the code map, if it is one the code map must name. `prefix` is
/// `""` for `src/` and `"tests/"` (etc.) for the other target folders.
fn module_name(relative: &str, prefix: &str, in_src: bool) -> Option<String> {
    let ext = extension(relative);
    let is_rust = ext == "rs";
    if !(is_rust || in_src && ASSET_EXTENSIONS.contains(&ext)) {
        return None;
    }
    if in_src && (relative == "lib.rs" || relative == "main.rs") {
        return None;
    }
    if let Some(folder) = relative.strip_suffix("mod.rs")
        && (folder.is_empty() || folder.ends_with('/'))
    {
        return (!folder.is_empty()).then(|| format!("{prefix}{folder}"));
    }
    Some(format!("{prefix}{relative}"))
}

/// Every module of the crate in `crate_dir`, by its code-map name.
fn modules_of(crate_dir: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for relative in files_below(&crate_dir.join("src")) {
        names.extend(module_name(&relative, "", true));
    }
    for dir in OTHER_TARGET_DIRS {
        let prefix = format!("{dir}/");
        for relative in files_below(&crate_dir.join(dir)) {
            names.extend(module_name(&relative, &prefix, false));
        }
    }
    names
}

/// The inline code spans of `text`, outside fenced code blocks.
fn code_spans(text: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        spans.extend(line.split('`').skip(1).step_by(2).map(str::to_owned));
    }
    spans
}

fn is_heading(line: &str) -> bool {
    let hashes = line.len() - line.trim_start_matches('#').len();
    (1..=3).contains(&hashes) && line[hashes..].starts_with(' ')
}

/// The crate a `### ` heading is about: its first code span, without a trailing `/`.
fn heading_crate(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("### ")?;
    let span = rest.split('`').nth(1)?;
    Some(span.trim_end_matches('/'))
}

/// The text of the section of each crate, by crate folder.
fn sections(architecture: &str) -> Vec<(String, String)> {
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    let mut fenced = false;
    for line in architecture.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && is_heading(line) {
            sections.extend(current.take());
            current = heading_crate(line).map(|name| (name.to_owned(), String::new()));
            continue;
        }
        if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    sections.extend(current);
    sections
}

fn section_of<'a>(sections: &'a [(String, String)], krate: &str) -> Option<&'a str> {
    sections
        .iter()
        .find(|(name, _)| name == krate)
        .map(|(_, text)| text.as_str())
}

/// A backticked path that names a file and so must exist.
fn is_checked_file_entry(span: &str) -> bool {
    !span.is_empty()
        && span
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !span.ends_with('/')
        && CHECKED_EXTENSIONS.contains(&extension(span))
}

#[test]
fn the_code_map_names_every_module() {
    let root = workspace_root();
    let architecture = read(&root.join("ARCHITECTURE.md"));
    let sections = sections(&architecture);
    let mut problems = String::new();
    for krate in crates(&root) {
        let heading = format!("### `{krate}`");
        let Some(section) = section_of(&sections, &krate) else {
            let _ = writeln!(
                problems,
                "- crate `{krate}` has no section: add a heading {heading} to the code map"
            );
            continue;
        };
        let named: BTreeSet<String> = code_spans(section).into_iter().collect();
        for module in modules_of(&root.join(&krate)) {
            if !named.contains(&module) {
                let _ = writeln!(
                    problems,
                    "- `{krate}`: module `{module}` is not named; add `{module}` to the \
                     section headed {heading}"
                );
            }
        }
    }
    assert!(
        problems.is_empty(),
        "ARCHITECTURE.md's code map is missing modules (name each in backticks, relative to the \
         crate's src/, or to the crate folder for tests/ and the like):\n{problems}"
    );
}

#[test]
fn the_code_map_names_no_file_that_is_gone() {
    let root = workspace_root();
    let architecture = read(&root.join("ARCHITECTURE.md"));
    let sections = sections(&architecture);
    let mut problems = String::new();
    for krate in crates(&root) {
        let Some(section) = section_of(&sections, &krate) else {
            continue; // reported by the_code_map_names_every_module
        };
        let crate_dir = root.join(&krate);
        let bases = [crate_dir.join("src"), crate_dir.clone(), root.clone()];
        for span in code_spans(section) {
            if is_checked_file_entry(&span) && !bases.iter().any(|base| base.join(&span).is_file())
            {
                let _ = writeln!(
                    problems,
                    "- `{krate}`: `{span}` exists neither under {krate}/src/, {krate}/ nor the \
                     workspace root; remove or rename it in the section ### `{krate}`"
                );
            }
        }
    }
    assert!(
        problems.is_empty(),
        "ARCHITECTURE.md's code map names files that do not exist:\n{problems}"
    );
}

#[test]
fn module_names_follow_the_convention() {
    assert_eq!(module_name("lib.rs", "", true), None);
    assert_eq!(module_name("main.rs", "", true), None);
    assert_eq!(
        module_name("auth/mod.rs", "", true),
        Some("auth/".to_owned())
    );
    assert_eq!(
        module_name("stack/postgres.rs", "", true),
        Some("stack/postgres.rs".to_owned())
    );
    assert_eq!(
        module_name("stack/bootstrap.sql", "", true),
        Some("stack/bootstrap.sql".to_owned())
    );
    assert_eq!(
        module_name("bin/vantage-load.rs", "", true),
        Some("bin/vantage-load.rs".to_owned())
    );
    assert_eq!(
        module_name("support/mod.rs", "tests/", false),
        Some("tests/support/".to_owned())
    );
    assert_eq!(
        module_name("handler.rs", "tests/", false),
        Some("tests/handler.rs".to_owned())
    );
    assert_eq!(module_name("seed.json", "tests/", false), None);
    assert_eq!(
        module_name("remod.rs", "", true),
        Some("remod.rs".to_owned())
    );
    assert!(is_checked_file_entry("stack/postgres.rs"));
    assert!(!is_checked_file_entry("tests/pgtap/*.sql"));
    assert!(!is_checked_file_entry("auth/"));
    assert!(!is_checked_file_entry("<timestamp>_<name>.sql"));
}
