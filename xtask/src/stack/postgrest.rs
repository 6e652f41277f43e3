//! Real PostgREST 12 in front of the cluster, configured the way Supabase runs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::Result;
use crate::process::{spawn_server, wait_until_ready};

/// How to start PostgREST for one stack.
pub struct PostgrestConfig<'a> {
    /// The PostgREST binary.
    pub binary: &'a Path,
    /// Port of the cluster.
    pub db_port: u16,
    /// Port of the REST API.
    pub port: u16,
    /// Port of the admin server (`/ready`, `/live`).
    pub admin_port: u16,
    /// The JWKS (ES256 public key + legacy HS256 secret) as JSON text.
    pub jwks: &'a str,
    /// Where its output goes.
    pub log: PathBuf,
}

/// Starts PostgREST; returns its PID.
pub fn start(config: &PostgrestConfig<'_>) -> Result<u32> {
    let mut cmd = Command::new(config.binary);
    cmd.env_clear()
        .env(
            "PGRST_DB_URI",
            format!(
                "postgres://authenticator@127.0.0.1:{}/postgres",
                config.db_port
            ),
        )
        .env("PGRST_DB_SCHEMAS", "public")
        .env("PGRST_DB_EXTRA_SEARCH_PATH", "public,extensions")
        .env("PGRST_DB_ANON_ROLE", "anon")
        .env("PGRST_DB_POOL", "10")
        .env("PGRST_DB_MAX_ROWS", "1000")
        .env("PGRST_JWT_SECRET", config.jwks)
        .env("PGRST_SERVER_HOST", "127.0.0.1")
        .env("PGRST_SERVER_PORT", config.port.to_string())
        .env("PGRST_ADMIN_SERVER_PORT", config.admin_port.to_string())
        .env("PGRST_LOG_LEVEL", "warn");
    spawn_server(&mut cmd, &config.log)
}

/// Waits for the admin server's `/ready` (connected, schema cache loaded).
pub fn wait_ready(admin_port: u16, pid: u32, log: &Path, timeout: Duration) -> Result<()> {
    let url = format!("http://127.0.0.1:{admin_port}/ready");
    wait_until_ready("PostgREST", pid, log, timeout, || {
        ureq::get(&url).call().is_ok()
    })
}
