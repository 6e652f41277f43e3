//! `psql` against the stack's cluster, as the superuser, stopping at the first error.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Result;
use crate::process::run_captured;

/// A psql client bound to one cluster.
#[derive(Debug, Clone)]
pub struct Psql {
    bin: PathBuf,
    port: u16,
}

impl Psql {
    /// A client for the cluster listening on `127.0.0.1:port`.
    pub fn new(bin: PathBuf, port: u16) -> Self {
        Self { bin, port }
    }

    /// The port of the cluster.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// psql connected as the superuser, without ~/.psqlrc, stopping at the first error.
    fn connected(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .args(["-X", "-v", "ON_ERROR_STOP=1"]);
        cmd
    }

    /// psql printing bare values (unaligned, tuples only), for programs to read.
    fn quiet(&self) -> Command {
        let mut cmd = self.connected();
        cmd.args(["-q", "-A", "-t"]);
        cmd
    }

    /// Runs SQL text; returns what it printed (unaligned, tuples only).
    pub fn sql(&self, sql: &str) -> Result<String> {
        run_captured(self.quiet().arg("-c").arg(sql))
    }

    /// Runs a query and returns psql's aligned table, for people to read.
    pub fn table(&self, sql: &str) -> Result<String> {
        run_captured(self.connected().args(["-P", "footer=off", "-c", sql]))
    }

    /// Runs a file in one transaction, followed by `then` in the same transaction.
    pub fn file_in_transaction(&self, file: &Path, then: &str) -> Result<String> {
        run_captured(
            self.quiet()
                .arg("--single-transaction")
                .arg("-f")
                .arg(file)
                .arg("-c")
                .arg(then),
        )
    }
}
