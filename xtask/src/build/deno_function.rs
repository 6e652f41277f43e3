//! An edge function script served by Deno on a loopback port with the configuration the
//! stack gives its native edge server, stopped by its PID when dropped. The bundled
//! `index.ts` runs this way for the Deno test suite and the benchmark, and so does the
//! benchmark's TypeScript peer.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::digest::sha256_hex;
use crate::error::{Result, XtaskError};
use crate::paths::tools_dir;
use crate::process::{free_port, spawn_server, stop_server, wait_until_ready};
use crate::stack::edge::{CORS_ORIGINS, FUNCTION_NAME};
use crate::tools::{self, DENO};

/// How long Deno may take to answer its first `health` (it type-checks and compiles the
/// script first, and the peer's first start downloads supabase-js from npm).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// Variables of this environment that reach Deno: how to fetch npm packages, nothing else.
const PASSED_THROUGH: [&str; 7] = [
    "NPM_CONFIG_REGISTRY",
    "DENO_CERT",
    "SSL_CERT_FILE",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
];

/// A running Deno function.
#[derive(Debug)]
pub struct DenoFunction {
    pid: u32,
    /// `http://127.0.0.1:{port}/functions/v1/vantage-sync`.
    pub base_url: String,
    /// Its output.
    pub log: PathBuf,
}

impl DenoFunction {
    /// Starts `script` (read access to its folder only, network to loopback only) with the
    /// stack's settings, read by `setting(KEY)` from its env file's keys, and waits until
    /// `GET health` with the writer token answers 200.
    pub fn start(
        script: &Path,
        setting: impl Fn(&str) -> Result<String>,
        log: PathBuf,
    ) -> Result<Self> {
        let port = free_port()?;
        let writer_token = setting("WRITER_TOKEN")?;
        let jwks_file = PathBuf::from(setting("JWKS_FILE")?);
        let jwks =
            std::fs::read_to_string(&jwks_file).map_err(XtaskError::io("reading", &jwks_file))?;
        let rest_url = setting("POSTGREST_URL")?;
        let folder = script.parent().unwrap_or_else(|| Path::new("."));
        let mut cmd = Command::new(tools::path(&DENO)?);
        cmd.env_clear()
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            // npm packages of `npm:` imports are cached with the tools, not per run.
            .env("DENO_DIR", tools_dir().join("deno-cache"))
            .env("NO_COLOR", "1")
            .env("DENO_NO_UPDATE_CHECK", "1")
            .env("SUPABASE_URL", &rest_url)
            .env("SUPABASE_REST_URL", &rest_url)
            .env("SUPABASE_SERVICE_ROLE_KEY", setting("SERVICE_ROLE_KEY")?)
            .env("SUPABASE_JWKS", jwks)
            .env("SUPABASE_JWT_SECRET", setting("JWT_SECRET")?)
            .env(
                "VANTAGE_WRITER_TOKEN_SHA256",
                sha256_hex(writer_token.as_bytes()),
            )
            .env("VANTAGE_CORS_ORIGINS", CORS_ORIGINS)
            .env("VANTAGE_EDGE_PORT", port.to_string());
        // `npm:` imports are fetched by the Deno CLI itself: it trusts the system's CA store as
        // well as its own (machines behind a TLS-inspecting proxy add theirs there), and gets
        // the registry and proxy settings of this environment.
        cmd.env("DENO_TLS_CA_STORE", "system,mozilla");
        for name in PASSED_THROUGH {
            if let Some(value) = std::env::var_os(name) {
                cmd.env(name, value);
            }
        }
        cmd.arg("run")
            .arg("--allow-net=127.0.0.1")
            .arg("--allow-env")
            .arg(format!("--allow-read={}", folder.display()))
            .arg(script);
        let pid = spawn_server(&mut cmd, &log)?;
        let function = Self {
            pid,
            base_url: format!("http://127.0.0.1:{port}/functions/v1/{FUNCTION_NAME}"),
            log,
        };
        function.wait_for_health(&writer_token)?;
        Ok(function)
    }

    /// Waits until `GET health` with the writer token answers 200.
    fn wait_for_health(&self, writer_token: &str) -> Result<()> {
        let health = format!("{}/health", self.base_url);
        let auth = format!("Bearer {writer_token}");
        wait_until_ready(
            "the Deno function",
            self.pid,
            &self.log,
            READY_TIMEOUT,
            || {
                ureq::get(&health)
                    .header("Authorization", &auth)
                    .call()
                    .is_ok()
            },
        )
    }
}

impl Drop for DenoFunction {
    fn drop(&mut self) {
        // Only the process started here, by its PID.
        stop_server(self.pid, Signal::SIGTERM);
    }
}
