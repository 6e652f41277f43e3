//! The bundle as a set of paths: its files, bundle-relative paths joined and cleaned as Go's
//! `filepath` does, and `static_files` globs matched as Go's `path.Match` reads them.

use std::collections::BTreeSet;
use std::path::Path;

use vantage_dev_files::tree::relative_files;

use crate::error::Result;

/// Every file under `bundle`, relative to it with `/` separators (symbolic links followed, as
/// the CLI's `os` file system follows them).
pub(super) fn bundle_files(bundle: &Path) -> Result<BTreeSet<String>> {
    Ok(relative_files(bundle)?.into_iter().collect())
}

/// `relative` appended to the bundle-relative folder `dir`.
pub(super) fn join(dir: &str, relative: &str) -> String {
    if dir.is_empty() {
        relative.to_owned()
    } else {
        format!("{dir}/{relative}")
    }
}

/// The folder of a bundle-relative path (`""` for the bundle itself).
pub(super) fn parent(path: &str) -> String {
    path.rsplit_once('/')
        .map(|(dir, _)| dir.to_owned())
        .unwrap_or_default()
}

/// A bundle-relative path with `.` and `..` resolved (as Go's `filepath.Join` cleans it), or
/// `None` when it is absolute or leaves the bundle.
pub(super) fn inside(path: &str) -> Option<String> {
    if path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// Whether a bundle-relative `path` matches `pattern`, a clean bundle-relative glob as Go's
/// `path.Match` reads it, limited to `*` (any run of characters but `/`) and `?` (one
/// character but `/`).
pub(super) fn glob_matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    pattern.len() == path.len()
        && pattern.iter().zip(&path).all(|(p, s)| {
            segment_matches(
                &p.chars().collect::<Vec<_>>(),
                &s.chars().collect::<Vec<_>>(),
            )
        })
}

fn segment_matches(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|skip| segment_matches(rest, &text[skip..])),
        Some(('?', rest)) => !text.is_empty() && segment_matches(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && segment_matches(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_go_path_match_does() {
        assert!(glob_matches(
            "functions/f/x_bg.wasm",
            "functions/f/x_bg.wasm"
        ));
        assert!(glob_matches("functions/f/*.wasm", "functions/f/x_bg.wasm"));
        assert!(glob_matches(
            "functions/*/x_bg.wasm",
            "functions/f/x_bg.wasm"
        ));
        assert!(glob_matches(
            "functions/f/x_b?.wasm",
            "functions/f/x_bg.wasm"
        ));
        assert!(!glob_matches("functions/*.wasm", "functions/f/x_bg.wasm"));
        assert!(!glob_matches("functions/f/*.js", "functions/f/x_bg.wasm"));
        assert_eq!(
            inside("./functions/f/../f/x").as_deref(),
            Some("functions/f/x")
        );
        assert_eq!(inside("../x"), None);
        assert_eq!(inside("/x"), None);
    }
}
