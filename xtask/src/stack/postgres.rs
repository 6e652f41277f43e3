//! A throwaway PostgreSQL 15 cluster on a loopback port, run as the `postgres` OS user when
//! xtask runs as root (the server refuses to run as root).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::{Result, XtaskError};
use crate::process::{os_user_ids, run_captured, running_as_root, spawn_server};
use crate::stack::psql::Psql;

/// The cluster's folders and binaries.
pub struct Cluster {
    pg_bin: PathBuf,
    data_dir: PathBuf,
    log: PathBuf,
}

impl Cluster {
    /// A cluster whose data lives in `data_dir` and whose server log is `log`.
    pub fn new(pg_bin: &Path, data_dir: PathBuf, log: PathBuf) -> Self {
        Self {
            pg_bin: pg_bin.to_path_buf(),
            data_dir,
            log,
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

    /// Starts the server on `127.0.0.1:port`; returns its PID. Durability is off: nothing in a
    /// throwaway cluster is worth an fsync.
    pub fn start(&self, port: u16) -> Result<u32> {
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
        spawn_server(&mut cmd, &self.log)
    }

    /// Waits until the server answers a query, or fails with the end of its log.
    pub fn wait_ready(&self, psql: &Psql, pid: u32, timeout: Duration) -> Result<()> {
        crate::process::wait_until_ready("Postgres", pid, &self.log, timeout, || {
            psql.sql("SELECT 1").is_ok()
        })
    }
}
