//! `cargo xtask test`: every check the project has, in one command, with a summary.
//!
//! Static checks first (they fail fastest), then unit tests, then a dedicated test stack for
//! the pgTAP and HTTP suites. A failing step does not hide the others: all run, the summary
//! names every failure, and the exit code is non-zero if any failed.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::ValueEnum;

use crate::build::supabase_check::{PgConnection, pg_prove_command};
use crate::build::{supabase, widget};
use crate::error::{Result, XtaskError};
use crate::paths::{target_dir, workspace_root};
use crate::process::{cargo, run};
use crate::schema;
use crate::stack::{PgMajor, RunningStack, Stack, dev_stack_dir, test_stack_dir};
use crate::test::secrets::{describe_findings, scan_for_secrets, stack_secrets};
use crate::test::steps::{
    Outcome, client_tests, ignored_tests, on_fresh_stack, stack_tests, summarize, timed,
};
use crate::test::{db_diff_refusals, reliability, rollback_round_trip};
use crate::tools::{self, CHROMEDRIVER, DENO, PG_PROVE, WASM_BINDGEN};

/// The parts of the test command, runnable one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Suite {
    /// `cargo fmt --check` and clippy with `-D warnings` (native and wasm32).
    Static,
    /// Unit tests of every crate (no servers).
    Unit,
    /// pgTAP tests of the migrations on the test stack.
    Db,
    /// HTTP tests through real PostgREST on the test stack, per role, and the `vantage-sync`
    /// command's tests against it.
    Http,
    /// The shared conformance and role checks (`../shared/checks`), when present.
    Checks,
    /// The widget: component tests in headless Chromium, the release build (Trunk, offline) on
    /// the pinned nightly, a scan of `dist/` for secrets, end to end on it, and the release
    /// build on stable.
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
    if suites.contains(&Suite::Db) {
        outcomes.push(timed(
            "pgTAP's copies of the spec's queries are the spec's (tests/tests/spec_queries.rs)",
            || run(cargo().args(["test", "-p", "vantage-sync-tests", "--test", "spec_queries"])),
        ));
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

/// The majors the database suites run on: Debian's 15, and 17, which new Supabase projects run.
const MAJORS: [PgMajor; 2] = [PgMajor::V15, PgMajor::V17];

/// Runs the stack's suites on each major; returns the stacks' secret values (for the widget's
/// scan).
fn run_stack_suites(
    suites: &[Suite],
    keep_stack: bool,
    outcomes: &mut Vec<Outcome>,
) -> Vec<(String, String)> {
    let mut bundle = None;
    if suites.iter().any(|s| matches!(s, Suite::Http | Suite::Db)) {
        outcomes.push(timed(
            "the Supabase bundle, for the tests under Deno",
            || {
                bundle = Some(supabase::bundle_supabase()?);
                Ok(())
            },
        ));
    }
    let mut secrets = Vec::new();
    for pg in MAJORS {
        let on = format!("PostgreSQL {}", pg.number());
        let stack = Stack::at(test_stack_dir(pg)).on(pg);
        let mut started = None;
        outcomes.push(timed(&format!("start the test stack ({on})"), || {
            // A leftover stack from an interrupted run would hold stale data.
            stack.down()?;
            started = Some(stack.up()?);
            Ok(())
        }));
        let Some(running) = started else {
            continue;
        };
        secrets.extend(stack_secrets(&running.dir.join("env")));
        if suites.contains(&Suite::Db) {
            outcomes.push(timed(&format!("pgTAP (tests/pgtap) ({on})"), || {
                pg_prove(&running)
            }));
            outcomes.push(timed(
                &format!("db rollback: --to, the newest, then `up`'s path again ({on})"),
                || rollback_round_trip::run(&running.psql),
            ));
            outcomes.push(timed(
                &format!("schemas/ and migrations/ build the same database (migra) ({on})"),
                || schema::drift::check(&running.psql),
            ));
            if pg == PgMajor::default() {
                outcomes.push(timed(
                    &format!("db diff: refusals write nothing, a drift becomes a migration ({on})"),
                    || db_diff_refusals::run(&running.psql),
                ));
            }
        }
        if let Some(bundle) = bundle.as_ref().filter(|_| suites.contains(&Suite::Db)) {
            outcomes.push(timed(
                &format!("pgTAP of the bundle, as `supabase test db` runs it ({on})"),
                || supabase_test_db(&running, bundle),
            ));
        }
        if let Some(bundle) = bundle.as_ref().filter(|_| suites.contains(&Suite::Http)) {
            outcomes.push(timed(
                &format!("HTTP through PostgREST (tests/) ({on})"),
                || {
                    // --no-fail-fast: a failing binary (a database lint, say) must not hide
                    // the others' results.
                    run(stack_tests(&running)
                        .arg("--no-fail-fast")
                        .env("VANTAGE_SUPABASE_BUNDLE", bundle)
                        .env("VANTAGE_DENO", tools::path(&DENO)?))
                },
            ));
        }
        if suites.contains(&Suite::Http) {
            outcomes.push(timed(
                &format!("the vantage-sync command on the stack (client/tests) ({on})"),
                || run(&mut client_tests(&running)),
            ));
        }
        if keep_stack {
            println!(
                "Test stack kept running in {} (stop it: cargo xtask down --test-stack)",
                stack.env_file().display()
            );
        } else {
            outcomes.push(timed(&format!("stop the test stack ({on})"), || {
                stack.down().map(|_| ())
            }));
        }
    }
    secrets
}

/// The widget's steps: browser tests, the shipped release build (nightly), secret scan, end to
/// end on that build, then the release build on stable, so the path without the nightly cannot
/// rot (the sizes are printed, not judged: budgets belong to `cargo xtask bench widget`).
fn widget_suite(mut secrets: Vec<(String, String)>) -> Vec<Outcome> {
    let mut outcomes = vec![timed(
        "widget: component tests in headless Chromium",
        browser_tests,
    )];
    let dist = widget::dist_dir();
    let built = timed(
        "widget: release build on the pinned nightly, as shipped (trunk build --release=true)",
        || widget::build_release_to(&dist).map(|_| ()),
    );
    let built_ok = built.result.is_ok();
    outcomes.push(built);
    if built_ok {
        // The dev stack's secrets too, when one is running.
        secrets.extend(stack_secrets(&dev_stack_dir().join("env")));
        outcomes.push(timed("widget: no secrets in dist/", || {
            let findings = scan_for_secrets(&dist, &secrets)?;
            println!(
                "    scanned for secret patterns and {} stack secret value(s)",
                secrets.len()
            );
            if findings.is_empty() {
                Ok(())
            } else {
                Err(XtaskError::SecretsInBundle(describe_findings(&findings)))
            }
        }));
        if let Ok(sizes) = widget::bundle_sizes(&dist) {
            widget::print_sizes(&sizes);
        }
        outcomes.extend(widget_end_to_end());
    }
    outcomes.push(timed(
        "widget: release build on stable (build-widget --toolchain stable)",
        || {
            let dist = widget::build_release_with(
                &target_dir().join("widget-stable"),
                widget::Toolchain::Stable,
            )?;
            widget::print_sizes(&widget::bundle_sizes(&dist)?);
            Ok(())
        },
    ));
    outcomes
}

/// Runs the widget's `wasm-bindgen-test` tests in headless Chromium (cargo's wasm32 runner is
/// `wasm-bindgen-test-runner`, found on `PATH`).
fn browser_tests() -> Result<()> {
    run(cargo()
        .args([
            "test",
            "-p",
            "vantage-sync-widget",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .current_dir(workspace_root())
        .env("PATH", tools::path_with(&[&WASM_BINDGEN])?)
        .env("CHROMEDRIVER", tools::path(&CHROMEDRIVER)?)
        // The runner gives chromedriver 5 s to listen by default; on a loaded 2-core machine
        // (a fresh-tools run) it once took longer and the suite failed before any test ran.
        .env("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", DRIVER_START_SECONDS))
}

/// How long the wasm test runner waits for chromedriver to listen.
const DRIVER_START_SECONDS: &str = "60";

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

/// The bundle's `tests/` through `pg_prove` with the Supabase CLI's flags, folder and libpq
/// variables, against the test stack (with pgTAP created first, as the CLI does).
fn supabase_test_db(stack: &RunningStack, bundle: &Path) -> Result<()> {
    stack
        .psql
        .sql("CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions")?;
    let connection = PgConnection {
        host: "127.0.0.1".to_owned(),
        port: stack.psql.port(),
        user: "postgres".to_owned(),
        password: None,
        database: "postgres".to_owned(),
    };
    run(&mut pg_prove_command(
        &tools::path(&PG_PROVE)?,
        bundle,
        &connection,
    ))
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
        return Err(XtaskError::NoFiles {
            what: "pgTAP files",
            dir,
        });
    }
    run(Command::new(tools::path(&PG_PROVE)?)
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
/// repository's own stack, on each major (`PGBIN` names the server's binaries).
fn shared_checks() -> Vec<Outcome> {
    let dir = workspace_root().join("..").join("shared").join("checks");
    let mut outcomes = Vec::new();
    for name in ["spec-conformance", "role-access"] {
        let script = dir.join(name);
        if !script.exists() {
            println!("==> {name}: skipped ({} not found)", script.display());
            continue;
        }
        for pg in MAJORS {
            let on = pg.number();
            outcomes.push(timed(
                &format!("shared check {name} (PostgreSQL {on})"),
                || {
                    run(Command::new("bash")
                        .arg(&script)
                        .env("CHECK_PROJECT", workspace_root())
                        .env("PGBIN", pg.bin_dir()?))
                },
            ));
        }
    }
    outcomes
}
