//! PyPI packages, each in a virtualenv of its own under the tools folder.

use std::path::PathBuf;
use std::process::Command;

use super::table::{Source, Tool};
use crate::error::Result;
use crate::paths::tools_dir;
use crate::process::{run, run_captured};

/// The virtualenv of `tool`'s package and version.
fn venv(tool: &Tool) -> PathBuf {
    match tool.source {
        Source::Pypi {
            package, version, ..
        } => tools_dir()
            .join("pypi")
            .join(format!("{package}-{version}")),
        _ => PathBuf::new(),
    }
}

/// Where `tool`'s program is once installed.
pub fn program(tool: &Tool) -> PathBuf {
    match tool.source {
        Source::Pypi { binary, .. } => venv(tool).join("bin").join(binary),
        _ => PathBuf::new(),
    }
}

/// Whether the virtualenv holds the pinned version of the package and of each requirement
/// pinned with it (as pip lists them: not every program answers `--version`).
pub fn is_installed(tool: &Tool) -> bool {
    let Source::Pypi {
        package,
        version,
        with,
        ..
    } = tool.source
    else {
        return false;
    };
    let Ok(listed) = run_captured(Command::new(venv(tool).join("bin").join("pip")).args([
        "list",
        "--format=freeze",
        "--disable-pip-version-check",
    ])) else {
        return false;
    };
    let listed: Vec<String> = listed.lines().map(normalise).collect();
    let main = format!("{package}=={version}");
    std::iter::once(main.as_str())
        .chain(with.iter().copied())
        .all(|pin| listed.contains(&normalise(pin)))
}

/// A requirement as pip lists it: lower case, `_` as `-`, without extras (`psycopg[binary]`).
fn normalise(pin: &str) -> String {
    let (name, version) = pin.split_once("==").unwrap_or((pin, ""));
    let name = name.split('[').next().unwrap_or(name);
    format!("{}=={version}", name.to_lowercase().replace('_', "-"))
}

/// Makes a fresh virtualenv and installs the pinned package into it.
pub fn install(tool: &Tool) -> Result<()> {
    let Source::Pypi {
        package,
        version,
        with,
        ..
    } = tool.source
    else {
        return Ok(());
    };
    let venv = venv(tool);
    run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv))?;
    run(Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("{package}=={version}"))
        .args(with))
}
