//! The stack's Postgres server, restarted in place the way an operator would do it:
//! `pg_ctl restart -m fast` (open transactions are rolled back, every connection is cut, the
//! server comes back on the same port with the same settings).

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::stack::Stack;

/// How long `pg_ctl` may take to stop and start the server.
const RESTART_TIMEOUT_SECS: u32 = 60;

/// The running server of a stack's cluster.
#[derive(Debug)]
pub struct PostgresServer {
    data_dir: PathBuf,
    pg_ctl: PathBuf,
    owner: (u32, u32),
}

impl PostgresServer {
    /// The server of `stack` (its cluster's data folder is the env file's `PGDATA`).
    pub fn of(stack: &Stack) -> Result<Self> {
        let data_dir = PathBuf::from(stack.setting("PGDATA")?);
        let metadata = std::fs::metadata(&data_dir).map_err(Error::io(&data_dir))?;
        let pid = postmaster_pid(&data_dir)?;
        // The binary that runs now, so `pg_ctl` matches its major version.
        let exe = PathBuf::from(format!("/proc/{pid}/exe"));
        let postgres = std::fs::read_link(&exe).map_err(Error::io(&exe))?;
        let pg_ctl = postgres.with_file_name("pg_ctl");
        Ok(Self {
            data_dir,
            pg_ctl,
            owner: (metadata.uid(), metadata.gid()),
        })
    }

    /// The PID of the running postmaster.
    pub fn pid(&self) -> Result<u32> {
        postmaster_pid(&self.data_dir)
    }

    /// Restarts the server (fast shutdown, then a start with the options it was started with);
    /// returns how long it was away.
    pub fn restart(&self) -> Result<Duration> {
        let log = self.data_dir.join("restart.log");
        let started = Instant::now();
        let mut cmd = Command::new(&self.pg_ctl);
        cmd.arg("restart")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w", "-t", &RESTART_TIMEOUT_SECS.to_string()])
            .arg("-l")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // pg_ctl refuses to run as root: run it as the cluster's owner.
            .uid(self.owner.0)
            .gid(self.owner.1)
            // The owner may not be allowed into the caller's working directory.
            .current_dir(&self.data_dir);
        let output = cmd.output().map_err(|source| Error::Io {
            path: self.pg_ctl.clone(),
            source,
        })?;
        if !output.status.success() {
            return Err(Error::Check(format!(
                "pg_ctl restart failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(started.elapsed())
    }
}

fn postmaster_pid(data_dir: &Path) -> Result<u32> {
    let file = data_dir.join("postmaster.pid");
    let text = std::fs::read_to_string(&file).map_err(Error::io(&file))?;
    text.lines()
        .next()
        .and_then(|line| line.trim().parse().ok())
        .ok_or_else(|| Error::Check(format!("{} has no PID on its first line", file.display())))
}
