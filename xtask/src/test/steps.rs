//! The steps of `cargo xtask test`: each runs timed with a progress line, a failing step does
//! not stop the others, and the summary names every failure.

use std::ffi::OsString;
use std::process::Command;

use crate::error::{Result, XtaskError};
use crate::paths::tools_dir;
use crate::process::{cargo, run};
use crate::progress::Step;
use crate::stack::{PgMajor, RunningStack, Stack, test_stack_dir};

/// One step of the test command and how it went.
pub struct Outcome {
    name: String,
    /// Whether the step passed, or why not.
    pub result: Result<()>,
    secs: f64,
}

/// Runs `f` as a step named `name`, with progress and its time.
pub fn timed(name: &str, f: impl FnOnce() -> Result<()>) -> Outcome {
    let step = Step::start(name);
    let result = f();
    let secs = step.elapsed_secs();
    match &result {
        Ok(()) => step.done(),
        Err(e) => {
            println!("    {e}");
            step.failed();
        }
    }
    Outcome {
        name: name.to_owned(),
        result,
        secs,
    }
}

/// Starts a fresh test stack, runs `steps` on it, then stops it.
pub fn on_fresh_stack(
    label: &str,
    steps: impl FnOnce(&RunningStack) -> Vec<Outcome>,
) -> Vec<Outcome> {
    // The major new Supabase projects run (the db and http suites run 15 as well).
    let pg = PgMajor::default();
    let stack = Stack::at(test_stack_dir(pg)).on(pg);
    let mut outcomes = Vec::new();
    let mut started = None;
    outcomes.push(timed(&format!("{label}: start a fresh test stack"), || {
        stack.down()?;
        started = Some(stack.up()?);
        Ok(())
    }));
    if let Some(running) = &started {
        outcomes.extend(steps(running));
    }
    outcomes.push(timed(&format!("{label}: stop the test stack"), || {
        stack.down().map(|_| ())
    }));
    outcomes
}

/// Runs the ignored tests of `test_args` (tests that reset data, stop servers or load the
/// stack) against `running`, one at a time, with `env` added.
pub fn ignored_tests(
    running: &RunningStack,
    name: &str,
    test_args: &[&str],
    env: &[(&str, OsString)],
) -> Outcome {
    timed(name, || {
        let mut cmd = stack_tests(running);
        // --no-fail-fast: one failing binary must not hide the others' results (and figures).
        cmd.arg("--no-fail-fast").args(test_args).args([
            "--",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ]);
        for (key, value) in env {
            cmd.env(key, value);
        }
        run(&mut cmd)
    })
}

/// `cargo test -p vantage-sync-tests` against `running`: the stack's env file, and this run's
/// tools folder (which `--fresh-tools` moves).
pub fn stack_tests(running: &RunningStack) -> Command {
    let mut cmd = cargo();
    cmd.args(["test", "-p", "vantage-sync-tests"])
        .env("VANTAGE_STACK_ENV", running.dir.join("env"))
        .env("VANTAGE_TOOLS_DIR", tools_dir());
    cmd
}

/// The `vantage-sync` command's stack tests (`client/tests/wrapper.rs`, ignored without a
/// stack) against `running`: `cargo test -p vantage-sync --test wrapper -- --ignored`.
pub fn client_tests(running: &RunningStack) -> Command {
    let mut cmd = cargo();
    cmd.args([
        "test",
        "-p",
        "vantage-sync",
        "--test",
        "wrapper",
        "--",
        "--ignored",
    ])
    .env("VANTAGE_STACK_ENV", running.dir.join("env"));
    cmd
}

/// Prints every step's outcome and time; fails when any step failed.
pub fn summarize(outcomes: &[Outcome]) -> Result<()> {
    println!("\nSummary");
    for o in outcomes {
        let mark = if o.result.is_ok() { "pass" } else { "FAIL" };
        println!("  {mark}  {:<50} {:>7.1}s", o.name, o.secs);
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.result.is_err())
        .map(|o| o.name.as_str())
        .collect();
    let passed = outcomes.len() - failed.len();
    println!("\n{passed} steps passed, {} failed", failed.len());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(XtaskError::TestsFailed {
            failed: failed.len(),
            total: outcomes.len(),
            names: failed.join(", "),
        })
    }
}

/// `Ok` when `holds`, else a [`XtaskError::Check`] saying `what` was expected: the one check
/// of the steps that verify by hand.
pub fn check(holds: bool, what: impl FnOnce() -> String) -> Result<()> {
    if holds {
        Ok(())
    } else {
        Err(XtaskError::Check(what()))
    }
}
