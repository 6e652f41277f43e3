//! Folders file by file: every file under a folder, and a folder copied. One walk for both
//! (`walkdir`), in name order, following symbolic links as `std::fs::copy` and the Supabase
//! CLI's file system do.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::{Error, Result};

/// Every file under `dir` (in its sub-folders too), in name order, folder by folder.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in walk(dir) {
        let entry = entry?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

/// Every file under `dir`, as [`files_under`] lists them, relative to `dir` with `/`
/// separators (`a/c/d.txt`): how a bundle or a crate names its files on every platform.
pub fn relative_files(dir: &Path) -> Result<Vec<String>> {
    Ok(files_under(dir)?
        .iter()
        .map(|file| {
            let relative = file.strip_prefix(dir).unwrap_or(file);
            let parts: Vec<_> = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect();
            parts.join("/")
        })
        .collect())
}

/// Copies the folder `from` to `to` (created if missing), with everything in it.
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for entry in walk(from) {
        let entry = entry?;
        let target = to.join(entry.path().strip_prefix(from).unwrap_or(entry.path()));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).map_err(Error::io("creating", &target))?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(Error::io("copying", &target))?;
        }
    }
    Ok(())
}

/// The entries under `dir`, `dir` first, each folder's before its contents, in name order.
fn walk(dir: &Path) -> impl Iterator<Item = Result<walkdir::DirEntry>> {
    WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .map(move |entry| {
            entry.map_err(|e| {
                let path = e.path().unwrap_or(dir).to_path_buf();
                Error::io("reading", path)(e.into())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vantage-tree-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (file, text) in [
            ("b.txt", "b"),
            ("a/z.txt", "z"),
            ("a/c/d.txt", "d"),
            ("a.txt", "a"),
        ] {
            let path = dir.join(file);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("creating a test folder");
            }
            std::fs::write(&path, text).expect("writing a test file");
        }
        dir
    }

    fn relative(dir: &Path) -> Vec<String> {
        relative_files(dir).expect("walking the test folder")
    }

    #[test]
    fn every_file_in_name_order() {
        let dir = folder("files");
        let files = relative(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(files, ["a/c/d.txt", "a/z.txt", "a.txt", "b.txt"]);
    }

    #[test]
    fn a_copy_holds_every_file() {
        let dir = folder("copy");
        let copy = dir.with_extension("copy");
        let _ = std::fs::remove_dir_all(&copy);
        copy_dir(&dir, &copy).expect("copying the test folder");
        let (original, copied) = (relative(&dir), relative(&copy));
        let text = std::fs::read_to_string(copy.join("a/c/d.txt"));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&copy);
        assert_eq!(original, copied);
        assert_eq!(text.ok().as_deref(), Some("d"));
    }

    #[test]
    fn a_missing_folder_is_an_error_that_names_it() {
        let missing = Path::new("/nonexistent/vantage-tree");
        let error = files_under(missing).map_err(|e| e.to_string());
        assert!(
            matches!(&error, Err(text) if text.contains("/nonexistent/vantage-tree")),
            "{error:?}"
        );
    }
}
