//! `cargo xtask test reliability`: faults, load, attacks and bad input on a fresh stack, ending
//! with a table of figures (see [`crate::test::figures`]).
//!
//! On the stack: the Rust suites `reliability` (PostgREST stopped and Postgres restarted under
//! load, a killed job, a retried complete, 200 jobs at full speed), `attack_matrix` and
//! `bad_inputs`, then schemathesis against PostgREST as anon and as a user. Without a stack:
//! the edge's fuzz target (`fuzz/`). `--long` stretches each for a night run.

use crate::stack::RunningStack;
use crate::test::figures;
use crate::test::fuzz;
use crate::test::schemathesis::{self, Role};
use crate::test::steps::{Outcome, ignored_tests, on_fresh_stack, timed};
use crate::tools::{self, SCHEMATHESIS};

/// How hard each part pushes.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Simulated ETL jobs in the load test.
    pub load_resources: u32,
    /// Seconds the load test runs.
    pub load_seconds: u32,
    /// Schemathesis examples per API operation.
    pub schemathesis_examples: u32,
    /// Seconds the edge's fuzz target runs.
    pub fuzz_seconds: u64,
}

impl Settings {
    /// The CI settings (a few minutes in all), or the long ones.
    pub fn new(long: bool) -> Self {
        if long {
            Self {
                load_resources: 1000,
                load_seconds: 60,
                schemathesis_examples: 500,
                fuzz_seconds: 600,
            }
        } else {
            Self {
                load_resources: 200,
                load_seconds: 10,
                schemathesis_examples: 20,
                fuzz_seconds: 30,
            }
        }
    }
}

/// Runs every part and prints the table; a part that fails is a failed step, and the table
/// shows its figures all the same.
pub fn run(settings: &Settings) -> Vec<Outcome> {
    let mut outcomes = vec![timed("reliability: a fresh figures file", figures::reset)];
    outcomes.extend(on_fresh_stack("reliability", |running| {
        on_stack(running, settings)
    }));
    outcomes.push(timed(
        &format!("reliability: cargo fuzz, {} s", settings.fuzz_seconds),
        || fuzz::run(settings.fuzz_seconds),
    ));
    outcomes.push(timed("reliability: the report", figures::print_report));
    outcomes
}

fn on_stack(running: &RunningStack, settings: &Settings) -> Vec<Outcome> {
    let figures_file = figures::file().into_os_string();
    let env = [
        ("VANTAGE_RELIABILITY_FIGURES", figures_file),
        (
            "VANTAGE_LOAD_RESOURCES",
            settings.load_resources.to_string().into(),
        ),
        (
            "VANTAGE_LOAD_SECONDS",
            settings.load_seconds.to_string().into(),
        ),
    ];
    let mut outcomes = vec![ignored_tests(
        running,
        "reliability: faults, load, attack matrix, bad input (tests/tests/{reliability,attack_matrix,bad_inputs}.rs)",
        &[
            "--test",
            "reliability",
            "--test",
            "attack_matrix",
            "--test",
            "bad_inputs",
        ],
        &env,
    )];
    let st = match tools::path(&SCHEMATHESIS) {
        Ok(st) => st,
        Err(e) => {
            outcomes.push(timed("reliability: schemathesis", || Err(e)));
            return outcomes;
        }
    };
    let get = |key: &str| running.env.get(key).unwrap_or_default().to_owned();
    // Through the gateway with the publishable key, as a browser's supabase-js calls it: with no
    // session it sends the key as its bearer too, and the gateway makes that the anon role.
    let (rest_url, publishable_key, user_jwt) = (
        format!("{}/rest/v1", get("SUPABASE_URL")),
        get("PUBLISHABLE_KEY"),
        get("AUTHENTICATED_JWT"),
    );
    let roles = [
        Role {
            name: "anon",
            apikey: &publishable_key,
            bearer: &publishable_key,
        },
        Role {
            name: "authenticated",
            apikey: &publishable_key,
            bearer: &user_jwt,
        },
    ];
    for role in &roles {
        outcomes.push(timed(
            &format!("reliability: schemathesis on PostgREST as {}", role.name),
            || schemathesis::run_against(&st, &rest_url, role, settings.schemathesis_examples),
        ));
    }
    outcomes
}
