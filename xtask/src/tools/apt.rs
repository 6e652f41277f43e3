//! Debian packages, with apt, as root (one `apt-get update`, then one `apt-get install`).

use std::path::Path;
use std::process::Command;

use super::table::{Source, Tool};
use crate::error::{Result, XtaskError};
use crate::process::{make_executable, run, running_as_root};
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
    let _no_services = NoServiceStarts::during_install()?;
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    step.done();
    Ok(())
}

/// Debian's way to keep package scripts from starting services (`policy-rc.d` answering 101):
/// installing nginx or PostgreSQL would otherwise start a system nginx on port 80 of every
/// address and a system cluster on 5432. The stack runs its own servers, on loopback only.
/// A `policy-rc.d` that is already there is left as it is; one made here is removed on drop.
struct NoServiceStarts {
    made: Option<&'static Path>,
}

const POLICY_RC_D: &str = "/usr/sbin/policy-rc.d";

impl NoServiceStarts {
    fn during_install() -> Result<Self> {
        let path = Path::new(POLICY_RC_D);
        if path.exists() {
            return Ok(Self { made: None });
        }
        std::fs::write(
            path,
            "#!/bin/sh\n# Written by cargo xtask for one apt-get install.\nexit 101\n",
        )
        .map_err(XtaskError::io("writing", path))?;
        make_executable(path)?;
        Ok(Self { made: Some(path) })
    }
}

impl Drop for NoServiceStarts {
    fn drop(&mut self) {
        if let Some(path) = self.made {
            // Nothing to do about a failure here but leave the file, which only keeps services
            // from starting during later installs.
            let _ = std::fs::remove_file(path);
        }
    }
}
