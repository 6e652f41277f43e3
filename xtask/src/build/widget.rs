//! The widget's release build with Trunk (offline, pinned tools), its JS glue minified with
//! esbuild, the stable loader for host pages, and its transfer sizes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Result, XtaskError};
use crate::page_settings;
use crate::paths::{target_dir, workspace_root};
use crate::process::{cargo, describe, run, run_captured};
use crate::progress::Step;
use crate::tools::{self, BROTLI, ESBUILD, TRUNK, WASM_BINDGEN, WASM_OPT};

/// Where Trunk writes the bundle (`Trunk.toml` `[build] dist`).
pub fn dist_dir() -> PathBuf {
    workspace_root().join("dist")
}

/// `cargo xtask build-widget [--settings FILE]`: the release bundle in `dist/`, with the
/// settings of `FILE` written into its page, then its sizes.
pub fn build_widget(settings: Option<&Path>) -> Result<()> {
    // Read before the build: a bad file is told in a second, not after minutes of building.
    let settings = settings.map(page_settings::read_settings).transpose()?;
    let dist = build_release_to(&dist_dir())?;
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

/// Builds the release bundle with Trunk (`trunk build --release=true`) into `dist`, offline:
/// `cargo fetch` first, then Trunk with the pinned tools first on `PATH`. A server that serves
/// the bundle can build its own copy (e.g. under `target/`) so test runs that rebuild `dist/`
/// never pull files from under it.
pub fn build_release_to(dist: &Path) -> Result<PathBuf> {
    // Trunk finds `wasm-bindgen` and `wasm-opt` on PATH and checks their versions.
    let path = tools::path_with(&[&WASM_BINDGEN, &WASM_OPT])?;
    let step = Step::start("Fetching crates (cargo fetch), so the build can run offline");
    run_captured(cargo().arg("fetch").current_dir(workspace_root()))?;
    step.done();
    let step = Step::start("Building the widget: trunk build --release=true (a few minutes)");
    run(Command::new(tools::path(&TRUNK)?)
        .args(["build", "--release=true", "--dist"])
        .arg(dist)
        .current_dir(workspace_root())
        .env("PATH", &path)
        // Trunk runs cargo offline; keep the widget's build out of the way of other builds.
        .env("CARGO_TARGET_DIR", target_dir()))?;
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
    for script in files(dist)?
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
    for path in files(dist)? {
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

/// Every file under `dir`, sorted (none when `dir` does not exist).
pub fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for entry in entries {
        let path = entry.map_err(XtaskError::io("reading", dir))?.path();
        if path.is_dir() {
            out.extend(files(&path)?);
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
