//! The one table of pinned tools, and the step that installs them.
//!
//! Every program any `cargo xtask` command runs that is not part of the Rust toolchain is a
//! row of [`TABLE`]: where it comes from (Debian, npm with its SHA-256, a lock file of this
//! repository through `npm ci`, `cargo install`, rustup's targets and toolchains, PyPI), its exact version, and which commands need it. The first step of `demo`,
//! `up`, `test`, `bench` and `bundle` is [`ensure`]: it installs what those commands need and
//! is missing, with a line of progress per tool. After it, nothing installs anything: code that
//! runs a tool asks [`path`] where it is, and a tool that is not there is a
//! [`XtaskError::MissingTool`] naming it and the command that installs it.

mod apt;
mod cargo_install;
mod npm;
mod npm_lock;
mod pypi;
mod rustup;
mod table;

use std::ffi::OsString;
use std::path::PathBuf;

use crate::error::{Result, XtaskError};
use crate::paths::tools_dir;
use crate::progress::Step;
pub use table::*;

/// Whether the pinned version of `tool` is installed.
fn is_installed(tool: &Tool) -> bool {
    match &tool.source {
        Source::Apt { provides, .. } => PathBuf::from(provides).exists(),
        Source::Npm { .. } => npm::is_installed(tool),
        Source::NpmLock { folder } => npm_lock::is_installed(folder),
        Source::Cargo { .. } => cargo_install::is_installed(tool),
        Source::Rustup { target } => rustup::has_target(target),
        Source::RustupToolchain {
            toolchain,
            components,
        } => rustup::has_toolchain(toolchain, components),
        Source::Pypi { .. } => pypi::is_installed(tool),
    }
}

/// Installs every tool the `needs` call for that is not installed yet, cheapest first, with a
/// progress line per tool; the Debian packages in one `apt-get install`.
pub fn ensure(needs: &[Need]) -> Result<()> {
    let wanted: Vec<&Tool> = TABLE
        .iter()
        .copied()
        .filter(|tool| tool.is_needed_for(needs))
        .collect();
    let missing: Vec<&Tool> = wanted
        .iter()
        .copied()
        .filter(|tool| !is_installed(tool))
        .collect();
    if missing.is_empty() {
        println!(
            "==> Tools: all {} pinned tools this command needs are installed ({})",
            wanted.len(),
            tools_dir().display()
        );
        return Ok(());
    }
    let minutes: u32 = missing
        .iter()
        .map(|tool| match tool.source {
            Source::Cargo { minutes, .. } => minutes,
            _ => 0,
        })
        .sum();
    let step = Step::start(format!(
        "Tools: installing {} of {} into {}{}",
        missing.len(),
        wanted.len(),
        tools_dir().display(),
        if minutes > 0 {
            format!(" (about {minutes} min of cargo builds, once per machine)")
        } else {
            String::new()
        }
    ));
    let apt_packages: Vec<&Tool> = missing
        .iter()
        .copied()
        .filter(|tool| matches!(tool.source, Source::Apt { .. }))
        .collect();
    apt::install(&apt_packages)?;
    for (done, tool) in missing
        .iter()
        .filter(|tool| !matches!(tool.source, Source::Apt { .. }))
        .enumerate()
    {
        let step = Step::start(format!(
            "Installing {} ({}; {} of {})",
            tool.name,
            tool.pin(),
            done + 1 + apt_packages.len(),
            missing.len()
        ));
        match &tool.source {
            Source::Apt { .. } => {}
            Source::Npm { .. } => npm::install(tool)?,
            Source::NpmLock { folder } => npm_lock::install(folder)?,
            Source::Cargo { .. } => cargo_install::install(tool)?,
            Source::Rustup { target } => rustup::add_target(target)?,
            Source::RustupToolchain {
                toolchain,
                components,
            } => rustup::install_toolchain(toolchain, components)?,
            Source::Pypi { .. } => pypi::install(tool)?,
        }
        step.done();
    }
    step.done();
    Ok(())
}

/// The installed program of `tool` (for a lock file's packages, their `node_modules`); a [`XtaskError::MissingTool`] naming the tool and the
/// command that installs it when it is not there.
pub fn path(tool: &Tool) -> Result<PathBuf> {
    let path = match &tool.source {
        Source::Apt { provides, .. } => PathBuf::from(provides),
        Source::Npm { .. } => npm::program(tool),
        Source::NpmLock { folder } => npm_lock::node_modules(folder),
        Source::Cargo { binaries, .. } => cargo_install::bin_dir().join(binaries[0]),
        Source::Pypi { .. } => pypi::program(tool),
        Source::Rustup { .. } | Source::RustupToolchain { .. } => PathBuf::new(),
    };
    if is_installed(tool) {
        Ok(path)
    } else {
        Err(missing(tool))
    }
}

/// The error for a tool that is not installed.
pub fn missing(tool: &Tool) -> XtaskError {
    XtaskError::MissingTool {
        tool: format!("{} ({})", tool.name, tool.pin()),
        hint: format!(
            "`cargo xtask install` installs it into {}",
            tools_dir().display()
        ),
    }
}

/// `PATH` with the folders of `tools` first: Trunk finds `wasm-bindgen` and `wasm-opt` there
/// (and checks their versions), cargo's wasm32 runner is `wasm-bindgen-test-runner`.
pub fn path_with(tools: &[&Tool]) -> Result<OsString> {
    let mut dirs = Vec::new();
    for tool in tools {
        if let Some(dir) = path(tool)?.parent() {
            dirs.push(dir.to_path_buf());
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).map_err(|e| XtaskError::MissingTool {
        tool: "a usable PATH".into(),
        hint: format!("a tool folder holds a `:` ({e}); set VANTAGE_TOOLS_DIR to another folder"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::workspace_root;

    fn read(name: &str) -> String {
        let path = workspace_root().join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn the_wasm_bindgen_crate_and_cli_pins_agree() {
        let crate_pin = format!("wasm-bindgen = \"={WASM_BINDGEN_VERSION}\"");
        assert!(
            read("Cargo.toml").contains(&crate_pin),
            "the workspace's wasm-bindgen is not pinned to {crate_pin:?}: change tools::WASM_BINDGEN_VERSION with it"
        );
        let trunk_pin = format!("wasm_bindgen = \"{WASM_BINDGEN_VERSION}\"");
        assert!(
            read("Trunk.toml").contains(&trunk_pin),
            "Trunk.toml does not say {trunk_pin:?}"
        );
        let lock = read("Cargo.lock");
        assert!(
            lock.contains(&format!(
                "name = \"wasm-bindgen\"\nversion = \"{WASM_BINDGEN_VERSION}\""
            )),
            "Cargo.lock resolves another wasm-bindgen than {WASM_BINDGEN_VERSION}"
        );
        for manifest in ["app/Cargo.toml", "edge/deno/Cargo.toml"] {
            assert!(
                read(manifest).contains("wasm-bindgen.workspace = true"),
                "{manifest} must take wasm-bindgen from the workspace, where it is pinned"
            );
        }
    }

    #[test]
    fn trunk_is_told_the_pinned_wasm_opt() {
        let Source::Npm { version, .. } = WASM_OPT.source else {
            panic!("wasm-opt comes from npm");
        };
        let major = version.split('.').next().unwrap_or(version);
        assert!(read("Trunk.toml").contains(&format!("wasm_opt = \"version_{major}\"")));
    }

    #[test]
    fn every_npm_tool_has_a_checksum_and_every_tool_a_user() {
        for tool in TABLE {
            assert!(
                !tool.needed_by.is_empty(),
                "{} is needed by nothing",
                tool.name
            );
            if let Source::Npm { sha256, .. } = tool.source {
                assert_eq!(sha256.len(), 64, "{} has no SHA-256", tool.name);
                assert!(sha256.bytes().all(|b| b.is_ascii_hexdigit()));
            }
        }
    }

    #[test]
    fn a_missing_tool_names_itself_and_the_install_command() {
        let message = missing(&DENO).to_string();
        assert!(
            message.contains("Deno (npm @deno/linux-x64-glibc@2.9.6)"),
            "{message}"
        );
        assert!(message.contains("cargo xtask install"), "{message}");
    }
}
