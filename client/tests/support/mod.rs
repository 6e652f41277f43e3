//! What the client's stack tests share: the stack (`cargo xtask up`, or the test stack that
//! `cargo xtask test http` names in `VANTAGE_STACK_ENV`), the `vantage-sync` binary with its
//! settings, the runs the database holds, and a loopback proxy the tests control.

#![allow(
    dead_code,
    clippy::missing_panics_doc,
    clippy::unwrap_used,
    clippy::expect_used
)]

pub mod proxy;

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vantage_sync_tests::{Db, Stack};

/// The stack, its function's URL and the writer token.
pub struct Harness {
    pub stack: Stack,
    pub url: String,
    pub token: String,
}

/// One run as the history table holds it.
#[derive(Debug, Clone)]
pub struct RunRow {
    pub run_id: String,
    pub status: String,
    pub started_at: String,
    /// `None`: the run completed with no counts reported.
    pub records_synced: Option<i32>,
    pub records_created: Option<i32>,
    pub records_updated: Option<i32>,
    pub errors: Value,
}

impl Harness {
    /// The running stack, reached through its gateway as ETL jobs reach it.
    pub fn load() -> Self {
        let stack = Stack::load().expect("a running stack: cargo xtask up");
        let url = stack.setting("EDGE_URL").expect("EDGE_URL");
        let token = stack.setting("WRITER_TOKEN").expect("WRITER_TOKEN");
        Self { stack, url, token }
    }

    /// `vantage-sync` with the URL and token in its environment (and nothing else of ours).
    pub fn command(&self) -> Command {
        self.command_at(&self.url)
    }

    /// `vantage-sync` talking to `url`.
    pub fn command_at(&self, url: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vantage-sync"));
        cmd.env("VANTAGE_SYNC_URL", url)
            .env("VANTAGE_SYNC_TOKEN", &self.token)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `vantage-sync args…` to its end; checks that the token is in none of its output.
    pub fn run(&self, args: &[&str]) -> Finished {
        self.finish(
            self.command()
                .args(args)
                .output()
                .expect("vantage-sync runs"),
        )
    }

    /// The output of a finished wrapper, checked for the token.
    pub fn finish(&self, output: Output) -> Finished {
        let finished = Finished::from(output);
        for text in [&finished.stdout, &finished.stderr] {
            assert!(
                !text.contains(&self.token),
                "the writer token was printed:\n{text}"
            );
        }
        finished
    }

    /// Every run of `resource`, oldest first.
    pub fn runs(&self, resource: &str) -> Vec<RunRow> {
        let db = Db::connect(&self.stack).unwrap();
        db.query(
            "SELECT run_id::text, status, started_at::text, records_synced, records_created,
                    records_updated, errors::text
               FROM public.vantage_sync_runs WHERE resource = $1 ORDER BY started_at",
            &[&resource],
        )
        .unwrap()
        .iter()
        .map(|r| RunRow {
            run_id: r.get(0),
            status: r.get(1),
            started_at: r.get(2),
            records_synced: r.get(3),
            records_created: r.get(4),
            records_updated: r.get(5),
            errors: serde_json::from_str(&r.get::<_, String>(6)).unwrap(),
        })
        .collect()
    }

    /// The one run of `resource`; fails when there are none or several.
    pub fn only_run(&self, resource: &str) -> RunRow {
        let runs = self.runs(resource);
        assert_eq!(runs.len(), 1, "exactly one run of {resource}: {runs:#?}");
        runs.into_iter().next().unwrap()
    }

    /// Runs SQL as the superuser.
    pub fn sql(&self, sql: &str) {
        Db::connect(&self.stack).unwrap().batch(sql).unwrap();
    }

    /// `POST sweep` with the writer token, as a cron calls it.
    pub fn sweep(&self) -> Value {
        let answer = reqwest::blocking::Client::new()
            .post(format!("{}/sweep", self.url))
            .bearer_auth(&self.token)
            .send()
            .unwrap();
        assert!(answer.status().is_success(), "sweep: {}", answer.status());
        answer.json().unwrap()
    }

    /// Waits until `resource`'s latest run is `running`.
    pub fn wait_running(&self, resource: &str) {
        wait_for(Duration::from_secs(20), || {
            self.runs(resource)
                .last()
                .is_some_and(|r| r.status == "running")
        });
    }
}

/// A resource name no other test (nor an earlier run of this one) uses.
pub fn resource(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("client_{name}_{}", nanos % 1_000_000_000)
}

/// A file path in the temporary folder for this test.
pub fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "vantage-sync-test-{}-{}",
        std::process::id(),
        resource(name)
    ))
}

/// Polls `done` every 100 ms; panics after `limit`.
pub fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) {
    let began = Instant::now();
    while !done() {
        assert!(began.elapsed() < limit, "gave up waiting after {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits for `child` at most `limit`; past it, kills it (only it: the killer is called off
/// as soon as the child has ended, before its id could be reused).
pub fn wait_child(child: Child, limit: Duration, harness: &Harness) -> Finished {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    let (ended, ended_rx) = std::sync::mpsc::channel::<()>();
    let killer = std::thread::spawn(move || {
        if ended_rx.recv_timeout(limit).is_err() {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    });
    // The child is reaped inside wait_with_output; the killer is stopped right after, and a
    // child that was still running at `limit` was killed before it could be reaped.
    let output = child.wait_with_output().unwrap();
    let _ = ended.send(());
    killer.join().unwrap();
    harness.finish(output)
}

/// A finished `vantage-sync`.
#[derive(Debug)]
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Finished {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Finished {
    /// Checks the exit code, showing the output when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "exit code; output:\n{self:#?}");
        self
    }
}
