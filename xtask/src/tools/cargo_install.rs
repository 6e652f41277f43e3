//! Crates' binaries, built with `cargo install --root <tools folder>`.
//!
//! One rule for every crate: the exact version (`=x.y.z`), resolved afresh, without `--locked`.
//! The lock file a crate publishes can stop resolving against the registry (wasm-bindgen-cli
//! 0.2.130's pins a `webpki-roots` the registry no longer serves: `--locked` fails there), while
//! a fresh resolution builds every tool of the table with this machine's rustc; a
//! `cargo xtask install --fresh-tools` run proves it for all of them at once.

use std::path::PathBuf;
use std::process::Command;

use super::table::{Source, Tool};
use crate::error::Result;
use crate::paths::tools_dir;
use crate::process::{cargo, run, run_captured};

/// Where the binaries go.
pub fn bin_dir() -> PathBuf {
    tools_dir().join("bin")
}

/// Whether every binary of `tool` is there and the first reports the pinned version.
pub fn is_installed(tool: &Tool) -> bool {
    let Source::Cargo {
        version, binaries, ..
    } = tool.source
    else {
        return false;
    };
    let dir = bin_dir();
    binaries.iter().all(|binary| dir.join(binary).exists())
        && run_captured(Command::new(dir.join(binaries[0])).arg("--version"))
            .is_ok_and(|answer| answer.split_whitespace().any(|word| word == version))
}

/// Builds and installs the pinned version (replacing another one).
pub fn install(tool: &Tool) -> Result<()> {
    let Source::Cargo { krate, version, .. } = tool.source else {
        return Ok(());
    };
    run(cargo()
        .args(["install", krate, "--version"])
        .arg(format!("={version}"))
        .args(["--force", "--root"])
        .arg(tools_dir()))
}
