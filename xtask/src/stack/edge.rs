//! The native edge server (`vantage-edge-server`) behind the stack's gateway, with a writer
//! token made for this stack. It gets what a Supabase function gets, under the platform's own
//! variable names: the project URL (PostgREST under its `/rest/v1`), the secret key, the JWKS
//! and the legacy secret; and only the SHA-256 of the writer token.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::digest::sha256_hex;
use crate::error::{Result, XtaskError};
use crate::paths::target_dir;
use crate::process::{cargo, run_captured, spawn_server, wait_until_ready};
use crate::progress::Step;

/// The function's name on Supabase (its URL is `/functions/v1/vantage-sync`).
pub const FUNCTION_NAME: &str = "vantage-sync";

/// The server's `/proc/PID/comm`: the binary name, cut to 15 bytes by the kernel.
pub const COMM: &str = "vantage-edge-se";

/// The browser origins the local edge allows on `abort` and `health` (Trunk's default address,
/// where the widget is served during development).
pub const CORS_ORIGINS: &str = "http://127.0.0.1:8080,http://localhost:8080";

/// How to start the edge server for one stack.
pub struct EdgeConfig<'a> {
    /// The built binary.
    pub binary: &'a Path,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The project URL (the gateway): PostgREST is under its `/rest/v1`.
    pub supabase_url: &'a str,
    /// The secret key it calls PostgREST with (`sb_secret_…`; a legacy service-role JWT works
    /// too).
    pub secret_key: &'a str,
    /// The stack's JWKS (its `oct` key is ignored by the edge).
    pub jwks: &'a str,
    /// The legacy HS256 secret.
    pub jwt_secret: &'a str,
    /// The writer token; the server gets only its SHA-256.
    pub writer_token: &'a str,
    /// Where its output (one JSON line per request) goes.
    pub log: PathBuf,
}

/// Builds the server with the cargo that runs xtask; returns the binary and its build time.
pub fn build() -> Result<(PathBuf, u64)> {
    let step = Step::start("Building the edge server (cargo build -p vantage-edge-server)");
    run_captured(cargo().args(["build", "--quiet", "-p", "vantage-edge-server"]))?;
    let binary = target_dir().join("debug").join("vantage-edge-server");
    let built = built_at(&binary)?;
    step.done();
    Ok((binary, built))
}

/// When `binary` was last written, in nanoseconds since the epoch (to notice a rebuild).
fn built_at(binary: &Path) -> Result<u64> {
    let modified = std::fs::metadata(binary)
        .and_then(|m| m.modified())
        .map_err(XtaskError::io("reading", binary))?;
    Ok(modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)))
}

/// `http://127.0.0.1:PORT/functions/v1/vantage-sync`, the base of every route.
pub fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/functions/v1/{FUNCTION_NAME}")
}

/// Starts the server with a clean environment; returns its PID.
pub fn start(config: &EdgeConfig<'_>) -> Result<u32> {
    let mut cmd = Command::new(config.binary);
    cmd.env_clear()
        .env("SUPABASE_URL", config.supabase_url)
        .env("SUPABASE_SECRET_KEY", config.secret_key)
        .env("SUPABASE_JWKS", config.jwks)
        .env("SUPABASE_JWT_SECRET", config.jwt_secret)
        .env(
            "VANTAGE_WRITER_TOKEN_SHA256",
            sha256_hex(config.writer_token.as_bytes()),
        )
        .env("VANTAGE_CORS_ORIGINS", CORS_ORIGINS)
        // The local stack's webhook receivers (tests, demo) listen on loopback.
        .env("VANTAGE_WEBHOOKS_ALLOW_PRIVATE", "true")
        .env("VANTAGE_EDGE_ADDR", format!("127.0.0.1:{}", config.port));
    spawn_server(&mut cmd, &config.log)
}

/// Waits until the port accepts connections and `GET health` with the writer token answers
/// 200 (so the server, its configuration and its path to PostgREST all work).
pub fn wait_ready(
    port: u16,
    pid: u32,
    writer_token: &str,
    log: &Path,
    timeout: Duration,
) -> Result<()> {
    let health = format!("{}/health", url(port));
    let auth = format!("Bearer {writer_token}");
    wait_until_ready("the edge server", pid, log, timeout, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
            && ureq::get(&health)
                .header("Authorization", &auth)
                .call()
                .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comm_is_the_binary_name_as_the_kernel_cuts_it() {
        assert_eq!(COMM, &"vantage-edge-server"[..15]);
    }
}
