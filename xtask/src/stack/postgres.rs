//! A throwaway PostgreSQL cluster (15 from Debian, or 17 from npm) on a loopback port, run as
//! the `postgres` OS user when xtask runs as root (the server refuses to run as root).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::digest::sha256_hex;
use crate::error::{Result, XtaskError};
use crate::process::{os_user_ids, run, run_captured, running_as_root, spawn_server};
use crate::stack::psql::Psql;
use crate::tools::{self, POSTGRES, POSTGRES_17, Source};

/// The PostgreSQL major version a stack runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum PgMajor {
    /// Debian 12's PostgreSQL 15, for projects still on it (`--pg 15`).
    #[value(name = "15")]
    V15,
    /// PostgreSQL 17, what new Supabase projects run and what the bundle declares: the default
    /// of every stack, so that a team tests on the major it deploys to (npm's embedded-postgres
    /// build).
    #[default]
    #[value(name = "17")]
    V17,
}

impl PgMajor {
    /// The major version as a number.
    pub fn number(self) -> u8 {
        match self {
            Self::V15 => 15,
            Self::V17 => 17,
        }
    }

    /// The folder of `initdb`, `postgres` and `pg_ctl`, where the server's OS user can run them.
    pub fn bin_dir(self) -> Result<PathBuf> {
        match self {
            Self::V15 => Ok(tools::path(&POSTGRES)?
                .parent()
                .map_or_else(PathBuf::new, Path::to_path_buf)),
            Self::V17 => staged_postgres_17(),
        }
    }
}

/// PostgreSQL 17's `native/` folder, copied once per version where the `postgres` OS user can
/// run it (the tools folder is usually in root's home, which it cannot enter), with Debian's
/// pgTAP beside its extensions (pgTAP is SQL only, so one build serves every major). Returns
/// its `bin/`.
fn staged_postgres_17() -> Result<PathBuf> {
    let binary = tools::path(&POSTGRES_17)?;
    let Source::Npm { version, .. } = POSTGRES_17.source else {
        return Err(tools::missing(&POSTGRES_17));
    };
    let native = binary
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| tools::missing(&POSTGRES_17))?;
    // One copy per tools folder (a `--fresh-tools` run makes its own).
    let origin = sha256_hex(native.as_os_str().as_encoded_bytes());
    let staged = std::env::temp_dir()
        .join(format!("vantage-sync-{}", nix::unistd::Uid::effective()))
        .join(format!("postgres-{version}-{}", &origin[..12]));
    let complete = staged.join(".complete");
    if !complete.exists() {
        let partial = staged.with_extension("partial");
        let _ = std::fs::remove_dir_all(&partial);
        if let Some(parent) = partial.parent() {
            std::fs::create_dir_all(parent).map_err(XtaskError::io("creating", parent))?;
        }
        // `cp -a` keeps the package's library links.
        run(Command::new("cp").arg("-a").arg(native).arg(&partial))?;
        let _ = std::fs::remove_dir_all(&staged);
        std::fs::rename(&partial, &staged).map_err(XtaskError::io("moving", &partial))?;
        std::fs::write(&complete, version).map_err(XtaskError::io("writing", &complete))?;
    }
    copy_pgtap(&staged.join("share").join("postgresql").join("extension"))?;
    Ok(staged.join("bin"))
}

/// Debian's pgTAP files (when its package is installed), into another major's extension folder.
fn copy_pgtap(extensions: &Path) -> Result<()> {
    let debian = Path::new("/usr/share/postgresql/15/extension");
    let Ok(entries) = std::fs::read_dir(debian) else {
        return Ok(());
    };
    for entry in entries.filter_map(std::result::Result::ok) {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("pgtap") && !extensions.join(&name).exists() {
            std::fs::copy(entry.path(), extensions.join(&name))
                .map_err(XtaskError::io("copying", entry.path()))?;
        }
    }
    Ok(())
}

/// The cluster's folders and binaries.
pub struct Cluster {
    pg_bin: PathBuf,
    data_dir: PathBuf,
}

impl Cluster {
    /// A cluster whose data lives in `data_dir`.
    pub fn new(pg_bin: &Path, data_dir: PathBuf) -> Self {
        Self {
            pg_bin: pg_bin.to_path_buf(),
            data_dir,
        }
    }

    /// The OS user the server must run as: `postgres` when we are root, else ourselves.
    fn server_user() -> Result<Option<(u32, u32)>> {
        if !running_as_root() {
            return Ok(None);
        }
        os_user_ids("postgres")
            .map(Some)
            .ok_or_else(|| XtaskError::MissingTool {
                tool: "the `postgres` OS user".into(),
                hint: "install the postgresql-15 Debian package, which creates it".into(),
            })
    }

    fn as_server_user(&self, cmd: &mut Command) -> Result<()> {
        if let Some((uid, gid)) = Self::server_user()? {
            cmd.uid(uid).gid(gid);
        }
        // The server user may not be allowed into the caller's working directory.
        if let Some(parent) = self.data_dir.parent() {
            cmd.current_dir(parent);
        }
        Ok(())
    }

    /// Creates the data folder (owned by the server user) and runs `initdb` with trust auth:
    /// the cluster only listens on loopback and is thrown away.
    pub fn init(&self) -> Result<()> {
        std::fs::create_dir_all(&self.data_dir)
            .map_err(XtaskError::io("creating", &self.data_dir))?;
        if let Some((uid, gid)) = Self::server_user()? {
            std::os::unix::fs::chown(&self.data_dir, Some(uid), Some(gid))
                .map_err(XtaskError::io("changing the owner of", &self.data_dir))?;
        }
        let mut cmd = Command::new(self.pg_bin.join("initdb"));
        cmd.arg("-D").arg(&self.data_dir).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        self.as_server_user(&mut cmd)?;
        run_captured(&mut cmd)?;
        Ok(())
    }

    /// Starts the server on `127.0.0.1:port`, its output appended to `log`; returns its PID.
    /// Durability is off: nothing in a throwaway cluster is worth an fsync.
    pub fn start(&self, port: u16, log: &Path) -> Result<u32> {
        let mut cmd = Command::new(self.pg_bin.join("postgres"));
        cmd.arg("-D")
            .arg(&self.data_dir)
            .args(["-p", &port.to_string()])
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ]);
        self.as_server_user(&mut cmd)?;
        spawn_server(&mut cmd, log)
    }
}

/// Waits until the server `pid` answers a query, or fails with the end of its `log`.
pub fn wait_ready(psql: &Psql, pid: u32, log: &Path, timeout: Duration) -> Result<()> {
    crate::process::wait_until_ready("Postgres", pid, log, timeout, || {
        psql.sql("SELECT 1").is_ok()
    })
}
