//! `cargo xtask`: the project's automation. Installs what is missing, runs the local
//! Supabase-like stack and the demo, and runs every test.

mod bench;
mod bench_edge;
mod bench_widget;
mod bundle;
mod demo;
mod demo_etl;
mod demo_widget;
mod deno_function;
mod error;
mod figures;
mod fuzz;
mod paths;
mod process;
mod progress;
mod reliability;
mod schemathesis;
mod stack;
mod test_suite;
mod tools;
mod widget;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use error::Result;
use stack::{Stack, dev_stack_dir, test_stack_dir};
use test_suite::Suite;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Vantage sync status: local stack, demo and tests"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install every tool the stack and the tests need (Debian packages, PostgREST, rust target,
    /// the widget's tools, cargo-fuzz, schemathesis).
    Install,
    /// Start the local stack (Postgres 15 + Supabase roles + migrations + PostgREST 12).
    Up,
    /// Stop what `up` started and remove its files.
    Down {
        /// Stop the test stack (`target/test-stack`) instead of the dev stack.
        #[arg(long)]
        test_stack: bool,
    },
    /// Start the stack with sample data in every health state; Ctrl-C stops it.
    Demo,
    /// Build the status widget for release into dist/ (Trunk, offline, pinned tools) and print
    /// its sizes.
    BuildWidget,
    /// Measure: prints numbers and ratios.
    Bench {
        /// What to measure.
        #[arg(value_enum)]
        what: bench::Bench,
        /// Seconds per measured run.
        #[arg(long, default_value_t = 10)]
        seconds: u32,
    },
    /// Build a deployable bundle (`supabase`: target/supabase/ for the Supabase CLI).
    Bundle {
        /// What to bundle.
        #[arg(value_enum)]
        target: bundle::Target,
        /// Then run the edge suite (`tests/tests/edge_routes.rs`) through the bundle under Deno,
        /// against the running dev stack (`cargo xtask up`).
        #[arg(long)]
        test: bool,
    },
    /// Run every check: fmt, clippy, unit, pgTAP, HTTP per role, shared checks.
    Test {
        /// Run only these suites.
        #[arg(value_enum)]
        suites: Vec<Suite>,
        /// Leave the test stack running afterwards, for debugging.
        #[arg(long)]
        keep_stack: bool,
        /// Longer reliability settings: 1,000 jobs for 60 s, 10 min of fuzzing, 500
        /// schemathesis examples per operation (the default fits in a few minutes of CI).
        #[arg(long)]
        long: bool,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nerror: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Cmd) -> Result<()> {
    match command {
        Cmd::Install => tools::ensure_test_tools()
            .and_then(|_| tools::ensure_widget_tools())
            .and_then(|_| tools::ensure_cargo_fuzz())
            .and_then(|_| schemathesis::ensure())
            .map(|_| println!("All tools are installed.")),
        Cmd::Up => {
            let stack = Stack::at(dev_stack_dir());
            match stack.up().and_then(|mut running| {
                let app_url = demo_widget::serve(&mut running)?;
                Ok((running, app_url))
            }) {
                Ok((running, app_url)) => {
                    running.print_summary();
                    println!("  widget      {app_url}");
                    println!("  stop it     cargo xtask down");
                    Ok(())
                }
                Err(e) => {
                    // Stop whatever did start, so a retry begins clean.
                    stack.down()?;
                    Err(e)
                }
            }
        }
        Cmd::Down { test_stack } => {
            let dir = if test_stack {
                test_stack_dir()
            } else {
                dev_stack_dir()
            };
            let stopped = Stack::at(dir.clone()).down()?;
            println!(
                "{} {}",
                if stopped {
                    "Stopped the stack in"
                } else {
                    "No stack running in"
                },
                dir.display()
            );
            Ok(())
        }
        Cmd::Demo => demo::run(),
        Cmd::BuildWidget => widget::build_widget(),
        Cmd::Bench { what, seconds } => bench::run(what, seconds),
        Cmd::Bundle { target, test } => {
            let env = test.then(|| Stack::at(dev_stack_dir()).env_file());
            bundle::run_bundle(target, env.as_deref())
        }
        Cmd::Test {
            suites,
            keep_stack,
            long,
        } => test_suite::run_suites(&suites, keep_stack, long),
    }
}
