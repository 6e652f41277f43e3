//! The reliability suite's figures and the table it ends with.
//!
//! Every part of `cargo xtask test reliability` appends one JSON line per measurement to
//! `target/reliability/figures.jsonl`: the Rust tests through `vantage_sync_tests::figures`
//! (which owns the format: `kind`, `name`, `tried`, `bad`, `runs_lost`, `detail`), schemathesis
//! and the fuzzer through [`record`] here. [`print_report`] sums them into the table the issue
//! asks for and writes it to `target/reliability/report.md`, ready for the README.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Result, XtaskError};
use crate::paths::target_dir;

/// One line of figures (the format of `tests/src/figures.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figures {
    /// `fault`, `load`, `attack` or `bad_input`.
    pub kind: String,
    /// What was done.
    pub name: String,
    /// Attempts.
    pub tried: u64,
    /// Attempts that went wrong (let in, 5xx, not survived, crashes).
    pub bad: u64,
    /// Runs lost or duplicated.
    pub runs_lost: u64,
    /// Further figures.
    pub detail: String,
}

/// The folder of the suite's figures and report.
pub fn dir() -> PathBuf {
    target_dir().join("reliability")
}

/// The JSON-lines file the tests append to (`VANTAGE_RELIABILITY_FIGURES`).
pub fn file() -> PathBuf {
    dir().join("figures.jsonl")
}

/// Starts a new run: an empty figures file.
pub fn reset() -> Result<()> {
    let dir = dir();
    std::fs::create_dir_all(&dir).map_err(XtaskError::io("creating", &dir))?;
    let path = file();
    std::fs::write(&path, "").map_err(XtaskError::io("writing", &path))
}

/// Appends one line of figures.
pub fn record(figures: &Figures) -> Result<()> {
    let path = file();
    let line = serde_json::to_string(figures)?;
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(XtaskError::io("opening", &path))?;
    writeln!(out, "{line}").map_err(XtaskError::io("writing", &path))
}

/// The rows of the table: (kind, what was tried, what went wrong).
const ROWS: [(&str, &str, &str); 4] = [
    ("fault", "faults injected", "not survived"),
    ("load", "requests under load", "errors (5xx, no answer)"),
    ("attack", "attacks tried", "let in"),
    ("bad_input", "bad inputs tried", "5xx or crashes"),
];

/// Prints the table of the recorded figures (and each line under it) and writes it to
/// `report.md`.
pub fn print_report() -> Result<()> {
    let path = file();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let lines: Vec<Figures> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).map_err(|e| XtaskError::Unreadable {
                path: path.clone(),
                what: "a figures file (JSON lines)",
                reason: e.to_string(),
            })
        })
        .collect::<Result<_>>()?;
    let mut totals: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for figures in &lines {
        let total = totals.entry(figures.kind.as_str()).or_default();
        total.0 += figures.tried;
        total.1 += figures.bad;
    }
    let runs_lost: u64 = lines.iter().map(|f| f.runs_lost).sum();
    let mut report = String::new();
    let _ = writeln!(report, "| measured | count | went wrong |");
    let _ = writeln!(report, "|---|---:|---|");
    for (kind, tried, bad) in ROWS {
        let (count, wrong) = totals.get(kind).copied().unwrap_or_default();
        let _ = writeln!(report, "| {tried} | {count} | {wrong} {bad} |");
    }
    let _ = writeln!(report, "| runs lost or duplicated | | {runs_lost} |");
    let _ = writeln!(report);
    for figures in &lines {
        let _ = writeln!(
            report,
            "- {} ({}): {} tried, {} went wrong. {}",
            figures.name, figures.kind, figures.tried, figures.bad, figures.detail
        );
    }
    let out = dir().join("report.md");
    std::fs::write(&out, &report).map_err(XtaskError::io("writing", &out))?;
    println!();
    println!("Reliability report (also in {}):", out.display());
    println!();
    print!("{report}");
    Ok(())
}
