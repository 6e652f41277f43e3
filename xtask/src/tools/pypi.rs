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

/// Whether the pinned version answers `--version`.
pub fn is_installed(tool: &Tool) -> bool {
    let Source::Pypi { version, .. } = tool.source else {
        return false;
    };
    run_captured(Command::new(program(tool)).arg("--version"))
        .is_ok_and(|answer| answer.contains(version))
}

/// Makes a fresh virtualenv and installs the pinned package into it.
pub fn install(tool: &Tool) -> Result<()> {
    let Source::Pypi {
        package, version, ..
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
        .arg(format!("{package}=={version}")))
}
