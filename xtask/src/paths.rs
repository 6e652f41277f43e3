//! Where things live: the workspace, its `target/`, and the tool folder that `cargo clean` keeps.

use std::path::PathBuf;
use std::sync::OnceLock;

/// The tools folder chosen for this run by `--fresh-tools`, if any.
static TOOLS_DIR: OnceLock<PathBuf> = OnceLock::new();

/// The workspace root (the folder holding the top `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // xtask's manifest is `<root>/xtask/Cargo.toml`; the parent is always there at build time.
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

/// The workspace's `target/` folder.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// Makes `dir` the tools folder (and so the `cargo install` root) for the rest of this run.
/// Returns false when one was chosen already.
pub fn use_tools_dir(dir: PathBuf) -> bool {
    TOOLS_DIR.set(dir).is_ok()
}

/// The folder for installed tools (npm packages, cargo-installed binaries, virtualenvs).
///
/// Outside `target/` on purpose: `cargo clean` and a fresh clone keep it, so a machine installs
/// each pinned tool once. Override with `VANTAGE_TOOLS_DIR`, or for one run with
/// `--fresh-tools`.
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = TOOLS_DIR.get() {
        return dir.clone();
    }
    if let Some(dir) = std::env::var_os("VANTAGE_TOOLS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache").join("vantage-sync").join("tools")
}
