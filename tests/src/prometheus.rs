//! Debian's Prometheus tools, for the metrics tests: `promtool check metrics` over a body, and
//! a real Prometheus server on loopback that scrapes one target with a bearer token (from a
//! file, as the README's scrape config has it), stopped by its own child handle when dropped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::edge::closed_port;
use crate::error::{Error, Result};

/// Debian's `promtool` (package `prometheus`).
pub const PROMTOOL: &str = "/usr/bin/promtool";

/// Debian's Prometheus server (package `prometheus`).
pub const PROMETHEUS: &str = "/usr/bin/prometheus";

/// The job name of the scrape config.
pub const JOB: &str = "vantage-sync";

/// What `promtool check metrics` said about `body` (the Prometheus text format 0.0.4 it
/// parses): `Ok` with its findings, empty when it has nothing to say; `Err` when it cannot run.
pub fn promtool_check(body: &str) -> Result<(bool, String)> {
    let mut child = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Check(format!("cannot run {PROMTOOL} (Debian's prometheus; `cargo xtask test http` installs it): {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(body.as_bytes())
            .map_err(Error::io(Path::new(PROMTOOL)))?;
    }
    let out = child
        .wait_with_output()
        .map_err(Error::io(Path::new(PROMTOOL)))?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), said))
}

/// A Prometheus server scraping one target every second.
pub struct Prometheus {
    child: Child,
    dir: PathBuf,
    url: String,
    http: reqwest::blocking::Client,
}

impl Prometheus {
    /// Starts Prometheus on a free loopback port with temporary storage, scraping
    /// `http://<target><metrics_path>` every second with `Authorization: Bearer <token>`;
    /// returns once its API answers.
    pub fn start(target: &str, metrics_path: &str, token: &str) -> Result<Self> {
        let port = closed_port()?;
        let dir =
            std::env::temp_dir().join(format!("vantage-prometheus-{}-{port}", std::process::id()));
        std::fs::create_dir_all(dir.join("data")).map_err(Error::io(&dir))?;
        let token_file = dir.join("token");
        write_private(&token_file, token)?;
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: {JOB}\n    metrics_path: {metrics_path}\n    \
                 scheme: http\n    authorization:\n      type: Bearer\n      \
                 credentials_file: {}\n    static_configs:\n      - targets: ['{target}']\n",
                token_file.display()
            ),
        )
        .map_err(Error::io(&config))?;
        let log = std::fs::File::create(dir.join("prometheus.log")).map_err(Error::io(&dir))?;
        let child = Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| {
                Error::Check(format!(
                    "cannot run {PROMETHEUS} (Debian's prometheus; `cargo xtask test http` installs it): {e}"
                ))
            })?;
        let mut server = Self {
            child,
            dir,
            url: format!("http://127.0.0.1:{port}"),
            http: crate::rest::local_client(Duration::from_secs(10))?,
        };
        server.wait(Duration::from_secs(60), "its API to answer", |s| {
            Ok(s.api("/api/v1/status/buildinfo", &[]).is_ok())
        })?;
        Ok(server)
    }

    /// `GET <path>` of its HTTP API with `query`: the `data` of a `success` answer.
    pub fn api(&self, path: &str, query: &[(&str, &str)]) -> Result<Value> {
        let what = format!("Prometheus GET {path}");
        let answer = self
            .http
            .get(format!("{}{path}", self.url))
            .query(query)
            .send()
            .map_err(|source| Error::Http {
                what: what.clone(),
                source,
            })?;
        let body: Value = answer.json().map_err(|source| Error::Http {
            what: what.clone(),
            source,
        })?;
        if body["status"] == "success" {
            Ok(body["data"].clone())
        } else {
            Err(Error::Check(format!("{what}: {body}")))
        }
    }

    /// The result vector of the instant query `promql`.
    pub fn query(&self, promql: &str) -> Result<Vec<Value>> {
        let data = self.api("/api/v1/query", &[("query", promql)])?;
        Ok(data["result"].as_array().cloned().unwrap_or_default())
    }

    /// Its one target as `/api/v1/targets` describes it (`health`, `lastError`, ...).
    pub fn target(&self) -> Result<Value> {
        let data = self.api("/api/v1/targets", &[])?;
        Ok(data["activeTargets"][0].clone())
    }

    /// Polls `ready` every 200 ms until it holds; fails after `timeout`, naming `what`, with
    /// the server's log, or as soon as the server exits.
    pub fn wait(
        &mut self,
        timeout: Duration,
        what: &str,
        mut ready: impl FnMut(&Self) -> Result<bool>,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if ready(self)? {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Error::Check(format!(
                    "Prometheus exited ({status}) while waiting for {what}: {}",
                    self.log()
                )));
            }
            if Instant::now() >= deadline {
                return Err(Error::Check(format!(
                    "Prometheus: no {what} after {timeout:?}: {}",
                    self.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        // Only the process this test started, through its own handle (its PID).
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes `text` to a new file only its owner may read (a token).
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(Error::io(path))?;
    file.write_all(text.as_bytes()).map_err(Error::io(path))
}
