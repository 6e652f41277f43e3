//! Targets of the Rust toolchain, and pinned toolchains beside it, with rustup.

use std::process::Command;

use crate::error::Result;
use crate::process::{run, run_captured};

/// Whether rustup has `target` installed for the active toolchain.
pub fn has_target(target: &str) -> bool {
    run_captured(Command::new("rustup").args(["target", "list", "--installed"]))
        .is_ok_and(|list| list.lines().any(|line| line.trim() == target))
}

/// Adds `target` to the active toolchain.
pub fn add_target(target: &str) -> Result<()> {
    run(Command::new("rustup").args(["target", "add", target]))
}

/// Whether rustup has `toolchain` installed with every one of `components`.
pub fn has_toolchain(toolchain: &str, components: &[&str]) -> bool {
    // Fails when the toolchain is not installed.
    run_captured(Command::new("rustup").args([
        "component",
        "list",
        "--installed",
        "--toolchain",
        toolchain,
    ]))
    .is_ok_and(|list| {
        components
            .iter()
            .all(|wanted| list.lines().any(|line| line.trim() == *wanted))
    })
}

/// Installs `toolchain` (minimal profile) with `components`; adds what is missing to one that is
/// installed already.
pub fn install_toolchain(toolchain: &str, components: &[&str]) -> Result<()> {
    let mut cmd = Command::new("rustup");
    cmd.args(["toolchain", "install", toolchain, "--profile", "minimal"]);
    for component in components {
        cmd.args(["--component", component]);
    }
    run(&mut cmd)
}
