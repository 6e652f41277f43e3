//! `psql` against the stack's cluster, as the superuser, stopping at the first error.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Result;
use crate::process::run_captured;

/// A psql client bound to one database of one cluster.
#[derive(Debug, Clone)]
pub struct Psql {
    bin: PathBuf,
    port: u16,
    database: String,
}

impl Psql {
    /// A client for the `postgres` database of the cluster listening on `127.0.0.1:port`.
    pub fn new(bin: PathBuf, port: u16) -> Self {
        Self {
            bin,
            port,
            database: "postgres".to_owned(),
        }
    }

    /// The same client, connected to `database` of the same cluster.
    pub fn on_database(&self, database: &str) -> Self {
        Self {
            database: database.to_owned(),
            ..self.clone()
        }
    }

    /// The database's URL, as libpq-based tools take it (the superuser, no password: the
    /// cluster trusts loopback).
    pub fn url(&self) -> String {
        format!(
            "postgresql://postgres@127.0.0.1:{}/{}",
            self.port, self.database
        )
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
            &self.database,
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

    /// Runs files in order, all in one transaction.
    pub fn files_in_transaction(&self, files: &[PathBuf]) -> Result<String> {
        let mut cmd = self.quiet();
        cmd.arg("--single-transaction");
        for file in files {
            cmd.arg("-f").arg(file);
        }
        run_captured(&mut cmd)
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
