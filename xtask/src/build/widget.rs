//! The widget's release build with Trunk (offline, pinned tools), its JS glue minified with
//! esbuild, the stable loader for host pages, and its transfer sizes.
//!
//! What ships is built on the pinned nightly ([`Toolchain::Nightly`]): the standard library
//! rebuilt for size with the widget. Nothing in the repository asks for nightly: the build sets
//! it for its own cargo only, through environment variables, and the stable toolchain builds
//! the same widget ([`Toolchain::Stable`]) where the nightly is not wanted.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::ValueEnum;
use vantage_dev_files::tree::files_under;

use crate::error::{Result, XtaskError};
use crate::page_settings;
use crate::paths::{target_dir, workspace_root};
use crate::process::{cargo, describe, run, run_captured};
use crate::progress::Step;
use crate::tools::{
    self, BROTLI, ESBUILD, TRUNK, WASM_BINDGEN, WASM_OPT, WIDGET_NIGHTLY, WIDGET_NIGHTLY_VERSION,
};

/// The compiler that builds the widget's wasm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Toolchain {
    /// The pinned nightly (`tools::WIDGET_NIGHTLY_VERSION`), the standard library rebuilt for
    /// size: what ships.
    Nightly,
    /// The toolchain `cargo xtask` runs on (stable): for a machine without the nightly; the
    /// wasm is larger (docs/performance.md, "Size levers").
    Stable,
}

impl Toolchain {
    /// Sets up `trunk` (and so the cargo it runs) for this toolchain. Cargo's unstable options
    /// are passed as environment variables, so that nothing in the repository (no
    /// `rust-toolchain.toml`, no `[unstable]` in `.cargo/config.toml`) forces nightly on
    /// anyone; `RUSTUP_TOOLCHAIN` picks the nightly for this cargo only.
    fn configure(self, trunk: &mut Command) -> Result<()> {
        match self {
            Self::Stable => {
                // A target folder of its own: switching between the two builds rebuilds
                // nothing, and the nightly's `target/wasm32-unknown-unknown/release/` stays the
                // shipped build (the benchmark's wasm by part reads it).
                trunk.env("CARGO_TARGET_DIR", target_dir().join("stable"));
            }
            Self::Nightly => {
                // Checked here so that a missing nightly is named, not a rustup error.
                tools::path(&WIDGET_NIGHTLY)?;
                trunk
                    .env("CARGO_TARGET_DIR", target_dir())
                    // `cargo xtask`'s own cargo (stable) is in `CARGO`: without it Trunk runs
                    // rustup's `cargo`, which `RUSTUP_TOOLCHAIN` points at the nightly.
                    .env_remove("CARGO")
                    .env("RUSTUP_TOOLCHAIN", WIDGET_NIGHTLY_VERSION)
                    .envs(NIGHTLY_CARGO_ENV);
            }
        }
        Ok(())
    }

    /// `cargo fetch` of what this toolchain's build reads, so that Trunk's cargo can run
    /// offline.
    fn fetch(self) -> Command {
        match self {
            Self::Stable => {
                let mut fetch = cargo();
                fetch.arg("fetch");
                fetch
            }
            Self::Nightly => {
                // rustup's `cargo` on the nightly; with `build-std` and wasm32 it fetches the
                // standard library's own crates too.
                let mut fetch = Command::new("cargo");
                fetch
                    .args(["fetch", "--target", "wasm32-unknown-unknown"])
                    .env("RUSTUP_TOOLCHAIN", WIDGET_NIGHTLY_VERSION)
                    .envs(NIGHTLY_CARGO_ENV);
                fetch
            }
        }
    }

    /// The toolchain's name, for progress lines.
    fn name(self) -> &'static str {
        match self {
            Self::Nightly => WIDGET_NIGHTLY_VERSION,
            Self::Stable => "stable",
        }
    }
}

/// The nightly build's cargo settings, as environment variables (each is the `-Z` flag or
/// config key of the same name).
const NIGHTLY_CARGO_ENV: [(&str, &str); 5] = [
    // The standard library compiled with the widget, at its opt-level, so LTO sees all of it:
    // `-Z build-std=std,panic_abort`, tuned for size (`-Z build-std-features`).
    ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort"),
    ("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size"),
    // A panic traps at once, with no message formatting and no panic machinery. Through the
    // profile (cargo's `-Z panic-immediate-abort`) rather than `-Cpanic=immediate-abort` in
    // RUSTFLAGS: cargo then passes one `-C panic` (not the profile's `abort` and this one), with
    // `-Z unstable-options`, to every crate, the rebuilt standard library included.
    ("CARGO_UNSTABLE_PANIC_IMMEDIATE_ABORT", "true"),
    ("CARGO_PROFILE_RELEASE_PANIC", "immediate-abort"),
    // `{:?}` prints nothing and panics carry no file and line: the widget shows no `Debug` text
    // (tests/components.rs and the end-to-end test check every string it shows). Cargo adds
    // these to `.cargo/config.toml`'s wasm32 flags (`--cfg erase_components`), where `RUSTFLAGS`
    // would replace them; build scripts and proc macros are not affected.
    (
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        "-Zfmt-debug=none -Zlocation-detail=none",
    ),
];

/// Where Trunk writes the bundle (`Trunk.toml` `[build] dist`).
pub fn dist_dir() -> PathBuf {
    workspace_root().join("dist")
}

/// `cargo xtask build-widget [--settings FILE] [--toolchain stable]`: the release bundle in
/// `dist/`, with the settings of `FILE` written into its page, then its sizes.
pub fn build_widget(settings: Option<&Path>, toolchain: Toolchain) -> Result<()> {
    // Read before the build: a bad file is told in a second, not after minutes of building.
    let settings = settings.map(page_settings::read_settings).transpose()?;
    let dist = build_release_with(&dist_dir(), toolchain)?;
    if let Some(settings) = &settings {
        page_settings::inline_settings(&dist, settings)?;
    }
    print_sizes(&bundle_sizes(&dist)?);
    println!(
        "\nThe widget is in {}: serve that folder as static files.",
        dist.display()
    );
    Ok(())
}

/// Builds the shipped release bundle (on the pinned nightly) into `dist`; see
/// [`build_release_with`].
pub fn build_release_to(dist: &Path) -> Result<PathBuf> {
    build_release_with(dist, Toolchain::Nightly)
}

/// Builds the release bundle with Trunk (`trunk build --release=true`) on `toolchain` into
/// `dist`, offline: `cargo fetch` first, then Trunk with the pinned tools first on `PATH`. A
/// server that serves the bundle can build its own copy (e.g. under `target/`) so test runs
/// that rebuild `dist/` never pull files from under it.
pub fn build_release_with(dist: &Path, toolchain: Toolchain) -> Result<PathBuf> {
    // Trunk finds `wasm-bindgen` and `wasm-opt` on PATH and checks their versions.
    let path = tools::path_with(&[&WASM_BINDGEN, &WASM_OPT])?;
    let mut trunk = Command::new(tools::path(&TRUNK)?);
    toolchain.configure(&mut trunk)?;
    let step = Step::start("Fetching crates (cargo fetch), so the build can run offline");
    run_captured(toolchain.fetch().current_dir(workspace_root()))?;
    step.done();
    let step = Step::start(format!(
        "Building the widget on {}: trunk build --release=true (a few minutes)",
        toolchain.name()
    ));
    // Trunk runs cargo offline; the target folder keeps the widget's build out of the way of
    // other builds.
    run(trunk
        .args(["build", "--release=true", "--dist"])
        .arg(dist)
        .current_dir(workspace_root())
        .env("PATH", &path))?;
    step.done();
    let step = Step::start("Minifying the JS glue with esbuild");
    minify_scripts(dist)?;
    step.done();
    write_loader(dist)?;
    Ok(dist.to_path_buf())
}

/// Minifies each script in `dist` in place with esbuild and updates its `integrity` digest in
/// `index.html`. Trunk's own JS minifier fails on wasm-bindgen's glue and ships it as it is:
/// 44 KB, where minified it is 20 KB (2 KB less with brotli).
fn minify_scripts(dist: &Path) -> Result<()> {
    let esbuild = tools::path(&ESBUILD)?;
    let index = dist.join("index.html");
    let mut html = std::fs::read_to_string(&index).map_err(XtaskError::io("reading", &index))?;
    for script in files_under(dist)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "js"))
    {
        let before = std::fs::read(&script).map_err(XtaskError::io("reading", &script))?;
        run_captured(
            Command::new(&esbuild)
                .arg(&script)
                .args([
                    "--minify",
                    "--format=esm",
                    "--allow-overwrite",
                    "--log-level=warning",
                ])
                .arg(format!("--outfile={}", script.display())),
        )?;
        let after = std::fs::read(&script).map_err(XtaskError::io("reading", &script))?;
        let old = sri_digest(&before);
        // Every script Trunk writes is preloaded with its digest: one not found means Trunk's
        // output changed, and a stale digest would make the browser refuse the script.
        if !html.contains(&old) {
            return Err(XtaskError::BuildOutput(format!(
                "{} has no integrity digest for {}",
                index.display(),
                script.display()
            )));
        }
        html = html.replace(&old, &sri_digest(&after));
    }
    std::fs::write(&index, html).map_err(XtaskError::io("writing", &index))
}

/// A file's Subresource Integrity value as Trunk writes it: `sha384-<base64>`.
fn sri_digest(content: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha384::digest(content);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The name of the stable loader in `dist/`, for host pages: the module's other files carry
/// content hashes that change with each build.
pub const LOADER: &str = "vantage-sync-status.js";

/// Writes `dist/vantage-sync-status.js`: it starts the widget's module (which defines
/// `<vantage-sync-status>`) and re-exports `mount`, so a host page needs one stable URL.
fn write_loader(dist: &Path) -> Result<()> {
    let names: Vec<String> = std::fs::read_dir(dist)
        .map_err(XtaskError::io("reading", dist))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    let find = |suffix: &str| {
        names
            .iter()
            .find(|name| name.starts_with("vantage-sync-widget") && name.ends_with(suffix))
            .ok_or_else(|| {
                XtaskError::BuildOutput(format!(
                    "no vantage-sync-widget*{suffix} in {}",
                    dist.display()
                ))
            })
    };
    let (wasm, glue) = (find("_bg.wasm")?, find(".js")?);
    // The glue would look for an unhashed module name: give it the built one, beside it.
    let loader = format!(
        "// Written by `cargo xtask build-widget`: the stable entry for host pages.\n\
         // <script type=\"module\" src=\".../{LOADER}\"></script> defines <vantage-sync-status>;\n\
         // `import {{ mount }} from \".../{LOADER}\"` mounts the widget from a script.\n\
         import init from \"./{glue}\";\n\
         export {{ mount }} from \"./{glue}\";\n\
         await init({{ module_or_path: new URL(\"./{wasm}\", import.meta.url) }});\n"
    );
    let path = dist.join(LOADER);
    std::fs::write(&path, loader).map_err(XtaskError::io("writing", &path))
}

/// One shipped file kind and its sizes in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Size {
    /// `wasm`, `js`, `css`, `html`.
    pub kind: String,
    /// As stored.
    pub raw: u64,
    /// `gzip -9`.
    pub gzip: u64,
    /// `brotli -q 11`.
    pub brotli: u64,
}

/// Sizes of everything in `dist`, summed per file kind.
pub fn bundle_sizes(dist: &Path) -> Result<Vec<Size>> {
    let brotli = tools::path(&BROTLI)?;
    let mut sizes: Vec<Size> = Vec::new();
    for path in files_under(dist)? {
        let kind = path
            .extension()
            .map_or_else(String::new, |e| e.to_string_lossy().into_owned());
        let raw = std::fs::metadata(&path)
            .map_err(XtaskError::io("reading", &path))?
            .len();
        let gzip = compressed_len(Command::new("gzip").args(["-9", "-c"]).arg(&path))?;
        let brotli = compressed_len(Command::new(&brotli).args(["-q", "11", "-c"]).arg(&path))?;
        match sizes.iter_mut().find(|s| s.kind == kind) {
            Some(s) => {
                s.raw += raw;
                s.gzip += gzip;
                s.brotli += brotli;
            }
            None => sizes.push(Size {
                kind,
                raw,
                gzip,
                brotli,
            }),
        }
    }
    let order = |k: &str| ["wasm", "js", "css", "html"].iter().position(|x| *x == k);
    sizes.sort_by_key(|s| order(&s.kind).unwrap_or(usize::MAX));
    Ok(sizes)
}

fn compressed_len(cmd: &mut Command) -> Result<u64> {
    let output = cmd
        .output()
        .map_err(|e| crate::process::spawn_error(cmd, e))?;
    if !output.status.success() {
        return Err(XtaskError::CommandFailed {
            command: describe(cmd),
            status: output.status.to_string(),
            detail: String::new(),
        });
    }
    Ok(output.stdout.len() as u64)
}

/// Prints the sizes, with the transfer total (wasm + js + css: what a visitor downloads
/// besides the page itself).
pub fn print_sizes(sizes: &[Size]) {
    // Bundle sizes are far below 2^52 bytes: the conversion is exact.
    #[allow(clippy::cast_precision_loss)]
    let kb = |b: u64| format!("{:.1} KB", b as f64 / 1024.0);
    println!("\nWidget bundle (dist/)         raw        gzip      brotli");
    let mut total = (0, 0, 0);
    for s in sizes {
        println!(
            "  {:<12} {:>13} {:>11} {:>11}",
            s.kind,
            kb(s.raw),
            kb(s.gzip),
            kb(s.brotli)
        );
        if s.kind != "html" {
            total = (total.0 + s.raw, total.1 + s.gzip, total.2 + s.brotli);
        }
    }
    println!(
        "  {:<12} {:>13} {:>11} {:>11}",
        "wasm+js+css",
        kb(total.0),
        kb(total.1),
        kb(total.2)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nightly_build_adds_to_cargo_configs_wasm32_flags_instead_of_replacing_them() {
        // `RUSTFLAGS` or `CARGO_ENCODED_RUSTFLAGS` would replace the `[target.wasm32-…]`
        // `rustflags` of `.cargo/config.toml`, and the nightly build would lose them.
        for (name, _) in NIGHTLY_CARGO_ENV {
            assert!(
                !name.ends_with("RUSTFLAGS")
                    || name == "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                "{name} would replace .cargo/config.toml's wasm32 flags"
            );
        }
        let path = workspace_root().join(".cargo").join("config.toml");
        let config =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(config.contains("[target.wasm32-unknown-unknown]"));
    }
}
