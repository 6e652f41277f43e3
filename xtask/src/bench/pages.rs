//! The three pages of `cargo xtask bench widget`, each in a folder of its own as it would be
//! deployed to a CDN: the widget's release build with its settings in its page (as
//! `cargo xtask build-widget --settings` writes them), the plain-JavaScript floor (`floor.html`)
//! and the React + supabase-js peer (`react_peer/`). The peers get their settings at build time,
//! as a team's bundler inlines them from its environment: no page pays a round trip for them. Every page gets the first-card observer,
//! then every file its brotli (`.br`) and gzip (`.gz`) twin for the static server.

use std::path::{Path, PathBuf};
use std::process::Command;

use vantage_dev_files::tree::{copy_dir, files_under};

use crate::digest::sha256_hex;
use crate::error::{Result, XtaskError};
use crate::page_settings::inline_settings;
use crate::paths::workspace_root;
use crate::process::run_captured;
use crate::tools::{self, BROTLI, ESBUILD, REACT_PEER_MODULES};

/// The plain-JavaScript floor page, with `SUPABASE_URL` and `PUBLISHABLE_KEY` to fill in.
const FLOOR_HTML: &str = include_str!("floor.html");

/// The React peer's page, with `MAIN_JS` to fill in.
const REACT_HTML: &str = include_str!("react_peer/index.html");

/// The React peer's source folder, relative to the workspace root.
const REACT_SOURCE: &str = "xtask/src/bench/react_peer";

/// Records when the first card appears; put first in each peer's page.
const FIRST_CARD_OBSERVER: &str = "<script>new MutationObserver((_, o) => { \
    if (document.querySelector('.vss-card')) { window.__firstCard = performance.now(); o.disconnect(); } \
    }).observe(document.documentElement, { childList: true, subtree: true });</script>";

/// Records, in the widget's page, when the first card appears, and when its first screen is up
/// (the summary bar and a card both shown), with the page's element count at that moment; and
/// keeps the wasm module's memory (from Trunk's `TrunkApplicationStarted` event) to size it.
const FIRST_SCREEN_OBSERVER: &str = "<script>addEventListener('TrunkApplicationStarted', \
    (e) => { window.__wasmMemory = e.detail.wasm.memory; }); \
    new MutationObserver((_, o) => { \
    const card = document.querySelector('.vss-card'); \
    if (card && window.__firstCard === undefined) window.__firstCard = performance.now(); \
    if (card && document.querySelector('.vss-summary')) { window.__firstScreen = performance.now(); \
    window.__firstScreenNodes = document.getElementsByTagName('*').length; o.disconnect(); } \
    }).observe(document.documentElement, { childList: true, subtree: true });</script>";

/// The pages compared, in the order they are loaded and printed.
pub const PAGES: [&str; 3] = ["widget", "floor", "React"];

/// What a browser page may hold: the project URL and its publishable key.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The project URL (the gateway, or the shaping proxy in front of it).
    pub supabase_url: String,
    /// The publishable key.
    pub publishable_key: String,
}

/// Writes the three pages for `settings` under `dir` (`widget/`, `floor/`, `react/`), the
/// widget copied from the release build in `dist`; returns their folders in [`PAGES`] order.
pub fn write(dir: &Path, dist: &Path, settings: &Settings) -> Result<[PathBuf; 3]> {
    let _ = std::fs::remove_dir_all(dir);
    let folders = [dir.join("widget"), dir.join("floor"), dir.join("react")];
    let [widget, floor, react] = &folders;
    copy_dir(dist, widget)?;
    let config = serde_json::json!({
        "supabase-url": settings.supabase_url,
        "publishable-key": settings.publishable_key,
    });
    // As docs/deploy.md recommends: in the page, so no round trip for config.json comes first.
    inline_settings(widget, &config)?;
    let index = widget.join("index.html");
    let html = std::fs::read_to_string(&index).map_err(XtaskError::io("reading", &index))?;
    write_file(&index, &with_observer(&html, FIRST_SCREEN_OBSERVER))?;

    let js_string = |s: &str| serde_json::Value::from(s).to_string();
    let floor_html = FLOOR_HTML
        .replace("SUPABASE_URL", &js_string(&settings.supabase_url))
        .replace("PUBLISHABLE_KEY", &js_string(&settings.publishable_key));
    std::fs::create_dir_all(floor).map_err(XtaskError::io("creating", floor))?;
    write_file(
        &floor.join("index.html"),
        &with_observer(&floor_html, FIRST_CARD_OBSERVER),
    )?;

    build_react(react, settings)?;
    for folder in &folders {
        precompress(folder)?;
    }
    Ok(folders)
}

/// Bundles `main.jsx` with esbuild as a production build would (minified, React's production
/// build, settings inlined), named after its content like the widget's files.
fn build_react(out: &Path, settings: &Settings) -> Result<()> {
    std::fs::create_dir_all(out).map_err(XtaskError::io("creating", out))?;
    let bundle = out.join("main.js");
    let define =
        |name: &str, value: &str| format!("--define:{name}={}", serde_json::Value::from(value));
    run_captured(
        Command::new(tools::path(&ESBUILD)?)
            .arg(workspace_root().join(REACT_SOURCE).join("main.jsx"))
            .args([
                "--bundle",
                "--minify",
                "--format=esm",
                "--jsx=automatic",
                "--log-level=warning",
                "--define:process.env.NODE_ENV=\"production\"",
            ])
            .arg(define("SUPABASE_URL", &settings.supabase_url))
            .arg(define("PUBLISHABLE_KEY", &settings.publishable_key))
            .arg(format!("--outfile={}", bundle.display()))
            // The packages are installed outside the repository, by the tools step.
            .env("NODE_PATH", tools::path(&REACT_PEER_MODULES)?),
    )?;
    let code = std::fs::read(&bundle).map_err(XtaskError::io("reading", &bundle))?;
    let name = format!("main-{}.js", &sha256_hex(&code)[..16]);
    let hashed = out.join(&name);
    std::fs::rename(&bundle, &hashed).map_err(XtaskError::io("renaming", &bundle))?;
    write_file(
        &out.join("index.html"),
        &with_observer(&REACT_HTML.replace("MAIN_JS", &name), FIRST_CARD_OBSERVER),
    )
}

/// `html` with `observer` right after its doctype (a minified page has no `<head>` tag, and
/// nothing may come before the doctype).
fn with_observer(html: &str, observer: &str) -> String {
    let after_doctype = html
        .to_ascii_lowercase()
        .find("<!doctype html>")
        .map_or(0, |at| at + "<!doctype html>".len());
    format!(
        "{}{observer}{}",
        &html[..after_doctype],
        &html[after_doctype..]
    )
}

/// Writes `file.br` (`brotli -q 11`) and `file.gz` (`gzip -9`) beside each file of `dir`, as a
/// CDN stores them.
fn precompress(dir: &Path) -> Result<()> {
    let brotli = tools::path(&BROTLI)?;
    for file in files_under(dir)? {
        let mut br = file.clone().into_os_string();
        br.push(".br");
        run_captured(
            Command::new(&brotli)
                .args(["-q", "11", "-f", "-o"])
                .arg(&br)
                .arg(&file),
        )?;
        let gzip = run_captured_bytes(Command::new("gzip").args(["-9", "-n", "-c"]).arg(&file))?;
        let mut gz = file.into_os_string();
        gz.push(".gz");
        std::fs::write(&gz, gzip).map_err(XtaskError::io("writing", Path::new(&gz)))?;
    }
    Ok(())
}

/// `cmd`'s standard output as bytes.
fn run_captured_bytes(cmd: &mut Command) -> Result<Vec<u8>> {
    let output = cmd
        .output()
        .map_err(|e| crate::process::spawn_error(cmd, e))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(XtaskError::CommandFailed {
            command: crate::process::describe(cmd),
            status: output.status.to_string(),
            detail: String::new(),
        })
    }
}

/// A file's sizes as served: raw, and its `.gz` and `.br` twins.
pub fn served_sizes(file: &Path) -> Result<[u64; 3]> {
    let len = |path: &Path| {
        std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(XtaskError::io("reading", path))
    };
    let twin = |ext: &str| {
        let mut name = file.as_os_str().to_owned();
        name.push(ext);
        PathBuf::from(name)
    };
    Ok([len(file)?, len(&twin(".gz"))?, len(&twin(".br"))?])
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(XtaskError::io("writing", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_observer_goes_right_after_the_doctype() {
        assert_eq!(
            with_observer("<!DOCTYPE html><html></html>", FIRST_CARD_OBSERVER),
            format!("<!DOCTYPE html>{FIRST_CARD_OBSERVER}<html></html>")
        );
        assert_eq!(
            with_observer("<p>no doctype</p>", FIRST_CARD_OBSERVER),
            format!("{FIRST_CARD_OBSERVER}<p>no doctype</p>")
        );
    }
}
