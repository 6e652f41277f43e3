//! The widget: its release build with Trunk (offline, pinned tools), its browser tests, the scan
//! that keeps secrets out of `dist/`, and its transfer sizes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Result, XtaskError};
use crate::paths::{target_dir, workspace_root};
use crate::process::{run, run_captured};
use crate::progress::Step;
use crate::tools::WidgetTools;

/// Where Trunk writes the bundle (`Trunk.toml` `[build] dist`).
pub fn dist_dir() -> PathBuf {
    workspace_root().join("dist")
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `cargo xtask build-widget`: the release bundle in `dist/`, then its sizes.
pub fn build_widget() -> Result<()> {
    let tools = crate::tools::ensure_widget_tools()?;
    let dist = build_release(&tools)?;
    print_sizes(&bundle_sizes(&dist)?);
    println!(
        "\nThe widget is in {}: serve that folder as static files.",
        dist.display()
    );
    Ok(())
}

/// Builds the release bundle into `dist/` (see [`build_release_to`]).
pub fn build_release(tools: &WidgetTools) -> Result<PathBuf> {
    build_release_to(tools, &dist_dir())
}

/// Builds the release bundle with Trunk (`trunk build --release=true`) into `dist`, offline:
/// `cargo fetch` first, then Trunk with the pinned tools first on `PATH`. A server that serves
/// the bundle can build its own copy (e.g. under `target/`) so test runs that rebuild `dist/`
/// never pull files from under it.
pub fn build_release_to(tools: &WidgetTools, dist: &Path) -> Result<PathBuf> {
    let step = Step::start("Fetching crates (cargo fetch), so the build can run offline");
    run_captured(cargo().arg("fetch").current_dir(workspace_root()))?;
    step.done();
    let step = Step::start("Building the widget: trunk build --release=true (a few minutes)");
    run(Command::new("trunk")
        .args(["build", "--release=true", "--dist"])
        .arg(dist)
        .current_dir(workspace_root())
        .env("PATH", &tools.path)
        // Trunk runs cargo offline; keep the widget's build out of the way of other builds.
        .env("CARGO_TARGET_DIR", target_dir()))?;
    step.done();
    let step = Step::start("Minifying the JS glue with esbuild");
    minify_scripts(tools, dist)?;
    step.done();
    write_loader(dist)?;
    Ok(dist.to_path_buf())
}

/// Minifies each script in `dist` in place with esbuild and updates its `integrity` digest in
/// `index.html`. Trunk's own JS minifier fails on wasm-bindgen's glue and ships it as it is:
/// 44 KB, where minified it is 20 KB (2 KB less with brotli).
fn minify_scripts(tools: &WidgetTools, dist: &Path) -> Result<()> {
    let index = dist.join("index.html");
    let mut html = std::fs::read_to_string(&index).map_err(XtaskError::io("reading", &index))?;
    for script in files(dist)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "js"))
    {
        let before = std::fs::read(&script).map_err(XtaskError::io("reading", &script))?;
        run_captured(
            Command::new("esbuild")
                .arg(&script)
                .args([
                    "--minify",
                    "--format=esm",
                    "--allow-overwrite",
                    "--log-level=warning",
                ])
                .arg(format!("--outfile={}", script.display()))
                .env("PATH", &tools.path),
        )?;
        let after = std::fs::read(&script).map_err(XtaskError::io("reading", &script))?;
        let old = sri_digest(&before);
        // Every script Trunk writes is preloaded with its digest: one not found means Trunk's
        // output changed, and a stale digest would make the browser refuse the script.
        if !html.contains(&old) {
            return Err(XtaskError::Stack(format!(
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
                XtaskError::Stack(format!(
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

/// Runs the widget's `wasm-bindgen-test` tests in headless Chromium.
pub fn browser_tests(tools: &WidgetTools) -> Result<()> {
    run(cargo()
        .args([
            "test",
            "-p",
            "vantage-sync-widget",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .current_dir(workspace_root())
        .env("PATH", &tools.path)
        .env("CHROMEDRIVER", &tools.chromedriver))
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
    let mut sizes: Vec<Size> = Vec::new();
    for path in files(dist)? {
        let kind = path
            .extension()
            .map_or_else(String::new, |e| e.to_string_lossy().into_owned());
        let raw = std::fs::metadata(&path)
            .map_err(XtaskError::io("reading", &path))?
            .len();
        let gzip = compressed_len(Command::new("gzip").args(["-9", "-c"]).arg(&path))?;
        let brotli = compressed_len(Command::new("brotli").args(["-q", "11", "-c"]).arg(&path))?;
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
    let output = cmd.output().map_err(|e| XtaskError::MissingTool {
        tool: crate::process::describe(cmd),
        hint: e.to_string(),
    })?;
    if !output.status.success() {
        return Err(XtaskError::CommandFailed {
            command: crate::process::describe(cmd),
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

/// What must never be in the browser bundle, found by pattern: any secret key, service-role
/// credential, writer token or JWT at all (the publishable key and the user's session come at
/// run time, never at build time).
const FORBIDDEN_TEXT: &[(&str, &str)] = &[
    (
        "service_role",
        "the service role's name (a service key or its variable)",
    ),
    ("sb_secret_", "a Supabase secret key"),
    (
        "SUPABASE_SECRET_KEYS",
        "the edge function's secret keys variable",
    ),
    ("JWT_SECRET", "the JWT secret's variable"),
];

/// A secret found in the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file it is in.
    pub file: PathBuf,
    /// What it looks like.
    pub what: String,
}

/// Scans every file under `dist` for secrets: the patterns above, writer tokens (`vst_` and 8
/// or more token characters), JWTs (`eyJ…​.eyJ…`), and the exact `values` given (e.g. the
/// test stack's service-role key and JWT secret).
pub fn scan_for_secrets(dist: &Path, values: &[(String, String)]) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let files = files(dist)?;
    if files.is_empty() {
        return Err(XtaskError::Stack(format!(
            "{} is empty: build the widget first",
            dist.display()
        )));
    }
    for file in files {
        let bytes = std::fs::read(&file).map_err(XtaskError::io("reading", &file))?;
        let mut found = |what: String| {
            findings.push(Finding {
                file: file.clone(),
                what,
            });
        };
        for (pattern, what) in FORBIDDEN_TEXT {
            if contains(&bytes, pattern.as_bytes()) {
                found(format!("{what} ({pattern:?})"));
            }
        }
        if has_token(&bytes, b"vst_", 8) {
            found("a writer token (vst_...)".into());
        }
        if has_jwt(&bytes) {
            found("a JWT (eyJ....eyJ...)".into());
        }
        for (name, value) in values {
            if value.len() >= 8 && contains(&bytes, value.as_bytes()) {
                found(format!("the value of {name}"));
            }
        }
    }
    Ok(findings)
}

/// Secret values from a stack's env file (`target/stack/env` or the test stack's): the service
/// role key, the JWT secret, and any variable naming a secret or writer token.
pub fn stack_secrets(env_file: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(env_file) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| line.split_once('='))
        .filter(|(name, _)| {
            ["SERVICE_ROLE", "SECRET", "WRITER", "PRIVATE"]
                .iter()
                .any(|word| name.contains(word))
        })
        .map(|(name, value)| {
            (
                name.trim().to_owned(),
                value.trim().trim_matches(['\'', '"']).to_owned(),
            )
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Whether `prefix` occurs followed by at least `min` token characters.
fn has_token(bytes: &[u8], prefix: &[u8], min: usize) -> bool {
    bytes.windows(prefix.len()).enumerate().any(|(i, w)| {
        w == prefix
            && bytes[i + prefix.len()..]
                .iter()
                .take_while(|b| is_token_byte(**b))
                .count()
                >= min
    })
}

/// Whether a JWT's first two segments occur: `eyJ` + 10 or more base64url characters, a dot,
/// `eyJ`.
fn has_jwt(bytes: &[u8]) -> bool {
    bytes.windows(3).enumerate().any(|(i, w)| {
        if w != b"eyJ" {
            return false;
        }
        let rest = &bytes[i + 3..];
        let n = rest.iter().take_while(|b| is_token_byte(**b)).count();
        n >= 10 && rest.get(n) == Some(&b'.') && rest[n + 1..].starts_with(b"eyJ")
    })
}

fn files(dir: &Path) -> Result<Vec<PathBuf>> {
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

/// The findings as a message naming each file and what is in it.
pub fn describe_findings(findings: &[Finding]) -> String {
    let mut text = String::from("the widget bundle holds secrets:");
    for f in findings {
        let _ = write!(text, "\n    {}: {}", f.file.display(), f.what);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist_with(files: &[(&str, &[u8])]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "vantage-widget-scan-{}-{}",
            std::process::id(),
            files.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("{e}"));
        }
        dir
    }

    #[test]
    fn the_scan_finds_every_kind_of_secret_and_passes_a_clean_bundle() {
        let clean = dist_with(&[
            (
                "app.js",
                b"fetch(url,{headers:{apikey:k}}) // vst_ alone is no token",
            ),
            (
                "app.wasm",
                b"\0asm sb_publishable_ is a prefix, eyJ alone too",
            ),
        ]);
        let none = scan_for_secrets(&clean, &[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(none, []);

        let dirty = dist_with(&[
            ("a.js", b"const k='sb_secret_abc';"),
            ("b.js", b"role:'service_role'"),
            ("c.wasm", b"xx vst_0123456789abcdef yy"),
            ("d.js", b"k='eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.sig'"),
            ("e.css", b"/* s3cr3t-value-from-env */"),
        ]);
        let values = [("JWT_SECRET".to_owned(), "s3cr3t-value-from-env".to_owned())];
        let found = scan_for_secrets(&dirty, &values).unwrap_or_else(|e| panic!("{e}"));
        let files: Vec<String> = found
            .iter()
            .filter_map(|f| f.file.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(files, ["a.js", "b.js", "c.wasm", "d.js", "e.css"]);
        let _ = std::fs::remove_dir_all(clean);
        let _ = std::fs::remove_dir_all(dirty);
    }

    #[test]
    fn stack_secrets_are_read_from_the_env_file() {
        let dir = dist_with(&[(
            "env",
            b"POSTGREST_URL=http://127.0.0.1:1\nSERVICE_ROLE_KEY=abc.def.ghi\nJWT_SECRET='xyz'\nANON_KEY=a.b.c\n",
        )]);
        let secrets = stack_secrets(&dir.join("env"));
        assert_eq!(
            secrets,
            [
                ("SERVICE_ROLE_KEY".to_owned(), "abc.def.ghi".to_owned()),
                ("JWT_SECRET".to_owned(), "xyz".to_owned())
            ]
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
