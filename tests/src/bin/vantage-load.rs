//! `vantage-load`: simulated ETL jobs at full speed against the edge function or PostgREST;
//! prints what happened as one JSON object (see `vantage_sync_tests::load::LoadReport`).
//!
//! ```text
//! vantage-load --dialect edge --url http://127.0.0.1:54321/functions/v1/vantage-sync \
//!     --token-env WRITER_TOKEN --resources bench_0001,bench_0002 --seconds 10
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use vantage_sync_tests::load::{self, Dialect, LoadPlan, Target};

/// How the target is called.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum DialectArg {
    /// The edge function's routes (`start`, `complete`, `fail`).
    Edge,
    /// PostgREST's RPCs with the service-role key.
    Postgrest,
}

/// Simulated ETL jobs: one per resource, each looping start → complete (or fail).
#[derive(Debug, Parser)]
struct Args {
    /// How the target is called.
    #[arg(long, value_enum)]
    dialect: DialectArg,
    /// The function's base URL (`…/functions/v1/vantage-sync`) or PostgREST's.
    #[arg(long)]
    url: String,
    /// The environment variable that holds the bearer token (never on the command line).
    #[arg(long)]
    token_env: String,
    /// Comma-separated resources, one worker each; they must exist.
    #[arg(long, value_delimiter = ',', required = true)]
    resources: Vec<String>,
    /// How long to start new cycles.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// End every n-th cycle with `fail` (0: never).
    #[arg(long, default_value_t = 0)]
    fail_every: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Ok(token) = std::env::var(&args.token_env) else {
        eprintln!("vantage-load: the variable {} is not set", args.token_env);
        return ExitCode::from(2);
    };
    let target = Target {
        dialect: match args.dialect {
            DialectArg::Edge => Dialect::Edge,
            DialectArg::Postgrest => Dialect::PostgRest,
        },
        base_url: args.url,
        token,
    };
    let plan = LoadPlan {
        resources: args.resources,
        duration: Duration::from_secs(args.seconds),
        fail_every: (args.fail_every > 0).then_some(args.fail_every),
        request_timeout: Duration::from_secs(10),
    };
    match load::run(&target, &plan).and_then(|report| Ok(serde_json::to_string(&report)?)) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vantage-load: {e}");
            ExitCode::FAILURE
        }
    }
}
