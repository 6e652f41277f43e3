//! `cargo xtask test`: every check the project has, in one command, with a summary.
//!
//! Static checks first (they fail fastest), then unit tests, then a dedicated test stack for
//! the pgTAP and HTTP suites. A failing step does not hide the others: all run, the summary
//! names every failure, and the exit code is non-zero if any failed.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use clap::ValueEnum;

use crate::error::{Result, XtaskError};
use crate::paths::workspace_root;
use crate::process::run;
use crate::progress::Step;
use crate::reliability;
use crate::stack::{RunningStack, Stack, dev_stack_dir, test_stack_dir};
use crate::tools::{ensure_test_tools, ensure_widget_tools};
use crate::widget;

/// The parts of the test command, runnable one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Suite {
    /// `cargo fmt --check` and clippy with `-D warnings` (native and wasm32).
    Static,
    /// Unit tests of every crate (no servers).
    Unit,
    /// pgTAP tests of the migrations on the test stack.
    Db,
    /// HTTP tests through real PostgREST on the test stack, per role.
    Http,
    /// The shared conformance and role checks (`../shared/checks`), when present.
    Checks,
    /// The widget: component tests in headless Chromium, the release build (Trunk, offline),
    /// and a scan of `dist/` for secrets.
    Widget,
    /// Faults, load, the attack matrix, bad input (schemathesis, cargo fuzz) on a fresh stack,
    /// ending with a table of figures.
    Reliability,
}

impl Suite {
    fn needs_stack(self) -> bool {
        matches!(self, Self::Db | Self::Http)
    }
}

/// One step of the test command and how it went.
pub(crate) struct Outcome {
    name: String,
    result: Result<()>,
    secs: f64,
}

/// Runs the selected suites (all when `selected` is empty).
/// `long` gives the reliability suite its longer settings.
pub fn run_suites(selected: &[Suite], keep_stack: bool, long: bool) -> Result<()> {
    let all = [
        Suite::Static,
        Suite::Unit,
        Suite::Db,
        Suite::Http,
        Suite::Checks,
        Suite::Widget,
        Suite::Reliability,
    ];
    let suites: Vec<Suite> = if selected.is_empty() {
        all.to_vec()
    } else {
        selected.to_vec()
    };

    let step = Step::start("Checking tools (installs what is missing)");
    ensure_test_tools()?;
    step.done();

    let mut outcomes = Vec::new();
    if suites.contains(&Suite::Static) {
        outcomes.push(timed("cargo fmt --check", || {
            run(cargo().args(["fmt", "--all", "--check"]))
        }));
        outcomes.push(timed("clippy -D warnings (native)", || {
            run(cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        }));
        outcomes.push(timed(
            "clippy -D warnings (wasm32: widget, edge core, edge Deno adapter)",
            || {
                run(cargo()
                    .args(["clippy", "--target", "wasm32-unknown-unknown"])
                    .args(WASM_CRATES)
                    .args(["--", "-D", "warnings"]))
            },
        ));
    }
    if suites.contains(&Suite::Unit) {
        outcomes.push(timed("unit tests", || {
            run(cargo().args(["test", "--workspace", "--exclude", "vantage-sync-tests"]))
        }));
    }
    // Secrets of the test stack, read while it runs: the widget's scan looks for their values.
    let mut stack_secrets = Vec::new();
    if suites.iter().any(|s| s.needs_stack()) {
        stack_secrets = run_stack_suites(&suites, keep_stack, &mut outcomes);
    }
    if suites.contains(&Suite::Checks) {
        outcomes.extend(shared_checks());
    }
    if suites.contains(&Suite::Widget) {
        outcomes.extend(widget_suite(stack_secrets));
    }
    if suites.contains(&Suite::Reliability) {
        outcomes.extend(reliability::run(&reliability::Settings::new(long)));
    }
    summarize(&outcomes)
}

/// The crates that also build for the browser or the Deno runtime.
const WASM_CRATES: [&str; 6] = [
    "-p",
    "vantage-sync-widget",
    "-p",
    "vantage-edge-core",
    "-p",
    "vantage-edge-deno",
];

/// Runs the stack's suites; returns the stack's secret values (for the widget's scan).
fn run_stack_suites(
    suites: &[Suite],
    keep_stack: bool,
    outcomes: &mut Vec<Outcome>,
) -> Vec<(String, String)> {
    let stack = Stack::at(test_stack_dir());
    let mut started = None;
    outcomes.push(timed("start the test stack", || {
        // A leftover stack from an interrupted run would hold stale data.
        stack.down()?;
        started = Some(stack.up()?);
        Ok(())
    }));
    let mut secrets = Vec::new();
    if let Some(running) = &started {
        secrets = widget::stack_secrets(&running.dir.join("env"));
        if suites.contains(&Suite::Db) {
            outcomes.push(timed("pgTAP (tests/pgtap)", || pg_prove(running)));
        }
        if suites.contains(&Suite::Http) {
            outcomes.push(timed("HTTP through PostgREST (tests/)", || {
                run(cargo()
                    .args(["test", "-p", "vantage-sync-tests"])
                    .env("VANTAGE_STACK_ENV", running.dir.join("env")))
            }));
        }
    }
    if keep_stack && started.is_some() {
        println!(
            "Test stack kept running in {} (stop it: cargo xtask down --test-stack)",
            stack.env_file().display()
        );
    } else {
        outcomes.push(timed("stop the test stack", || stack.down().map(|_| ())));
    }
    secrets
}

/// The widget's steps: browser tests, release build, secret scan (the sizes are printed, not
/// judged: budgets belong to `cargo xtask bench widget`).
fn widget_suite(mut secrets: Vec<(String, String)>) -> Vec<Outcome> {
    let mut tools = None;
    let mut outcomes = vec![timed(
        "widget: tools (wasm-bindgen, trunk, wasm-opt, chromium)",
        || {
            tools = Some(ensure_widget_tools()?);
            Ok(())
        },
    )];
    let Some(tools) = tools else {
        return outcomes;
    };
    outcomes.push(timed(
        "widget: component tests in headless Chromium",
        || widget::browser_tests(&tools),
    ));
    let built = timed("widget: release build (trunk build --release=true)", || {
        widget::build_release(&tools).map(|_| ())
    });
    let built_ok = built.result.is_ok();
    outcomes.push(built);
    if built_ok {
        // The dev stack's secrets too, when one is running.
        secrets.extend(widget::stack_secrets(&dev_stack_dir().join("env")));
        outcomes.push(timed("widget: no secrets in dist/", || {
            let findings = widget::scan_for_secrets(&widget::dist_dir(), &secrets)?;
            println!(
                "    scanned for secret patterns and {} stack secret value(s)",
                secrets.len()
            );
            if findings.is_empty() {
                Ok(())
            } else {
                Err(XtaskError::Stack(widget::describe_findings(&findings)))
            }
        }));
        if let Ok(sizes) = widget::bundle_sizes(&widget::dist_dir()) {
            widget::print_sizes(&sizes);
        }
        outcomes.extend(widget_end_to_end());
    }
    outcomes
}

/// The built widget in headless Chromium against a fresh test stack of its own (the test
/// resets the data to the demo fixture, so it never shares a stack with other tests).
fn widget_end_to_end() -> Vec<Outcome> {
    let dist = widget::dist_dir();
    on_fresh_stack("widget", |running| {
        vec![ignored_tests(
            running,
            "widget: end to end in headless Chromium (screenshots in target/widget-e2e/)",
            &["--test", "widget_e2e"],
            &[("VANTAGE_WIDGET_DIST", dist.into_os_string())],
        )]
    })
}

/// Starts a fresh test stack, runs `steps` on it, then stops it.
pub(crate) fn on_fresh_stack(
    label: &str,
    steps: impl FnOnce(&RunningStack) -> Vec<Outcome>,
) -> Vec<Outcome> {
    let stack = Stack::at(test_stack_dir());
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
pub(crate) fn ignored_tests(
    running: &RunningStack,
    name: &str,
    test_args: &[&str],
    env: &[(&str, OsString)],
) -> Outcome {
    timed(name, || {
        let mut cmd = cargo();
        // --no-fail-fast: one failing binary must not hide the others' results (and figures).
        cmd.args(["test", "--no-fail-fast", "-p", "vantage-sync-tests"])
            .args(test_args)
            .args(["--", "--ignored", "--nocapture", "--test-threads=1"])
            .env("VANTAGE_STACK_ENV", running.dir.join("env"));
        for (key, value) in env {
            cmd.env(key, value);
        }
        run(&mut cmd)
    })
}

fn pg_prove(stack: &RunningStack) -> Result<()> {
    let dir = workspace_root().join("tests").join("pgtap");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(XtaskError::io("reading", &dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(XtaskError::Stack(format!(
            "no pgTAP files in {}",
            dir.display()
        )));
    }
    run(Command::new("pg_prove")
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &stack.psql.port().to_string(),
        ])
        .args([
            "--username",
            "postgres",
            "--dbname",
            "postgres",
            "--failures",
        ])
        .args(&files))
}

/// The shared checks rebuild their own database; they prove the migrations work beyond this
/// repository's own stack.
fn shared_checks() -> Vec<Outcome> {
    let dir = workspace_root().join("..").join("shared").join("checks");
    ["spec-conformance", "role-access"]
        .into_iter()
        .filter_map(|name| {
            let script = dir.join(name);
            if !script.exists() {
                println!("==> {name}: skipped ({} not found)", script.display());
                return None;
            }
            Some(timed(&format!("shared check {name}"), || {
                run(Command::new("bash")
                    .arg(&script)
                    .env("CHECK_PROJECT", workspace_root()))
            }))
        })
        .collect()
}

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `f` as a step named `name`, with progress and its time.
pub(crate) fn timed(name: &str, f: impl FnOnce() -> Result<()>) -> Outcome {
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

fn summarize(outcomes: &[Outcome]) -> Result<()> {
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
