//! The shape of the benchmark's plan-driven programs (`vantage-first-cards`, `vantage-scale`):
//! a plan read from the JSON file named on the command line, a run, and its report printed to
//! stdout as one JSON object (progress and errors go to stderr).

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Reads the plan named by the first argument, runs `run` on it, and prints its report;
/// `tool` names the program in its error message.
pub fn main<P, R>(tool: &str, run: impl FnOnce(&P) -> Result<R>) -> ExitCode
where
    P: DeserializeOwned,
    R: Serialize,
{
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: {tool} PLAN.json");
        return ExitCode::from(2);
    };
    let report = std::fs::read_to_string(&path)
        .map_err(Error::io(&path))
        .and_then(|text| serde_json::from_str::<P>(&text).map_err(Error::from))
        .and_then(|plan| run(&plan))
        .and_then(|report| Ok(serde_json::to_string(&report)?));
    match report {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\n{tool}: {e}");
            ExitCode::FAILURE
        }
    }
}
