//! Figures of the reliability suite, written as JSON lines to the file named by
//! `$VANTAGE_RELIABILITY_FIGURES` (set by `cargo xtask test reliability`, which ends with a table
//! of them). Each test records its figures before it checks them, so a failure shows in the
//! table too. Without the variable nothing is written: the test still prints and checks.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};

/// The variable naming the figures file.
pub const FIGURES_VAR: &str = "VANTAGE_RELIABILITY_FIGURES";

/// What a line of figures measures: one row of the final table.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A fault injected (`tried` = 1) and whether it was survived (`bad` = 0).
    Fault,
    /// Requests sent under load (`tried`) and error answers (`bad`: 5xx and no answer).
    Load,
    /// Attacks tried and let in.
    Attack,
    /// Bad inputs tried and 5xx answers seen.
    BadInput,
}

/// One line of figures.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// The row it adds to.
    pub kind: Kind,
    /// What was done, e.g. "Postgres restarted under load".
    pub name: String,
    /// Attempts (requests, attacks, inputs; 1 for a fault).
    pub tried: u64,
    /// Attempts that went wrong: let in, 5xx, not survived.
    pub bad: u64,
    /// Runs lost or duplicated (faults and load).
    pub runs_lost: u64,
    /// A short line of further figures.
    pub detail: String,
}

impl Figures {
    /// Appends these figures to the figures file, if one is named.
    pub fn record(&self) -> Result<()> {
        let Some(path) = std::env::var_os(FIGURES_VAR).map(PathBuf::from) else {
            return Ok(());
        };
        let line = serde_json::to_string(self)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(Error::io(&path))?;
        writeln!(file, "{line}").map_err(Error::io(&path))
    }
}
