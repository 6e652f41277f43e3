//! Crates' binaries, built with `cargo install --root <tools folder>`.
//!
//! One rule for every crate: its exact version (`=x.y.z`), built with the lock file it was
//! published with (`--locked`, the dependency versions its authors tested). Where that lock no
//! longer resolves against the registry, the same version is resolved afresh. Both halves are
//! needed today: wasm-bindgen-cli 0.2.130's lock pins a `webpki-roots` the registry no longer
//! serves, and Trunk 0.21.14 resolved afresh pulls a `cssparser` its `lightningcss` does not
//! build with (both seen with `cargo xtask test --fresh-tools`).

use std::path::PathBuf;
use std::process::Command;

use super::table::{Source, Tool};
use crate::error::Result;
use crate::error::XtaskError;
use crate::paths::tools_dir;
use crate::process::{cargo, describe, run, run_captured, run_keeping_stderr};

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

/// What cargo says when a published lock file names a version the registry cannot give.
const LOCK_DOES_NOT_RESOLVE: &str = "failed to select a version";

/// Builds and installs the pinned version (replacing another one).
pub fn install(tool: &Tool) -> Result<()> {
    let Source::Cargo { krate, version, .. } = tool.source else {
        return Ok(());
    };
    let install = || {
        let mut cmd = cargo();
        cmd.args(["install", krate, "--version"])
            .arg(format!("={version}"))
            .args(["--force", "--root"])
            .arg(tools_dir());
        cmd
    };
    let mut locked = install();
    locked.arg("--locked");
    let (status, errors) = run_keeping_stderr(&mut locked)?;
    if status.success() {
        return Ok(());
    }
    if !errors.contains(LOCK_DOES_NOT_RESOLVE) {
        return Err(XtaskError::CommandFailed {
            command: describe(&locked),
            status: status.to_string(),
            detail: String::new(),
        });
    }
    println!("    {krate} {version}'s published lock file no longer resolves: resolving afresh");
    run(&mut install())
}
