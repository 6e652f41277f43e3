//! The npm dependencies of a folder of this repository, installed as its lock file pins them:
//! `npm ci` into a folder of the tools folder named after the lock file's SHA-256, so a
//! changed lock installs afresh and an unchanged one is never installed twice.
//! `--ignore-scripts`, as for every npm tool: an install script could download from elsewhere.

use std::path::PathBuf;
use std::process::Command;

use crate::digest::sha256_file;
use crate::error::{Result, XtaskError};
use crate::paths::{tools_dir, workspace_root};
use crate::process::run_captured;

/// The lock file of the repository's `folder`.
fn lock_file(folder: &str) -> PathBuf {
    workspace_root().join(folder).join("package-lock.json")
}

/// Where `folder`'s packages go: named after the folder and its lock file's SHA-256 (none
/// when the lock cannot be read; `install` then says why).
fn prefix(folder: &str) -> Option<PathBuf> {
    let digest = sha256_file(&lock_file(folder)).ok()?;
    let name = folder.rsplit('/').next().unwrap_or(folder);
    Some(
        tools_dir()
            .join("npm")
            .join(format!("{name}-lock-{}", &digest[..16])),
    )
}

/// The installed `node_modules` of `folder`'s lock file.
pub fn node_modules(folder: &str) -> PathBuf {
    prefix(folder).map_or_else(PathBuf::new, |p| p.join("node_modules"))
}

/// A file written once `npm ci` has finished, so a half-done install is not taken for one.
fn done_marker(folder: &str) -> Option<PathBuf> {
    prefix(folder).map(|p| p.join(".installed"))
}

/// Whether `folder`'s current lock file has been installed.
pub fn is_installed(folder: &str) -> bool {
    done_marker(folder).is_some_and(|m| m.exists())
}

/// `npm ci` of `folder`'s `package.json` and lock file into their prefix.
pub fn install(folder: &str) -> Result<()> {
    let lock = lock_file(folder);
    let digest = sha256_file(&lock)?;
    let (Some(prefix), Some(marker)) = (prefix(folder), done_marker(folder)) else {
        return Err(XtaskError::Unreadable {
            path: lock,
            what: "a lock file",
            reason: "it cannot be read".into(),
        });
    };
    let _ = std::fs::remove_dir_all(&prefix);
    std::fs::create_dir_all(&prefix).map_err(XtaskError::io("creating", &prefix))?;
    for file in ["package.json", "package-lock.json"] {
        let from = workspace_root().join(folder).join(file);
        let to = prefix.join(file);
        std::fs::copy(&from, &to).map_err(XtaskError::io("copying", &from))?;
    }
    run_captured(
        Command::new("npm")
            .args([
                "ci",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--prefix",
            ])
            .arg(&prefix),
    )?;
    std::fs::write(&marker, digest).map_err(XtaskError::io("writing", &marker))
}
