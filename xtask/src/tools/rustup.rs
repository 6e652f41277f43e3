//! Targets of the Rust toolchain, with rustup.

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
