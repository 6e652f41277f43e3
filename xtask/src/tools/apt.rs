//! Debian packages, with apt, as root (one `apt-get update`, then one `apt-get install`).

use std::process::Command;

use super::table::{Source, Tool};
use crate::error::{Result, XtaskError};
use crate::process::{run, running_as_root};
use crate::progress::Step;

/// Installs the Debian packages of `tools` (all of [`Source::Apt`]) in one go.
pub fn install(tools: &[&Tool]) -> Result<()> {
    let packages: Vec<&str> = tools
        .iter()
        .filter_map(|tool| match tool.source {
            Source::Apt { package, .. } => Some(package),
            _ => None,
        })
        .collect();
    if packages.is_empty() {
        return Ok(());
    }
    let list = packages.join(" ");
    if !running_as_root() {
        return Err(XtaskError::MissingTool {
            tool: format!("Debian's {list}"),
            hint: format!(
                "install them with `sudo apt-get update && sudo apt-get install -y {list}`, then run this again"
            ),
        });
    }
    let step = Step::start(format!("Installing Debian packages: {list}"));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    step.done();
    Ok(())
}
