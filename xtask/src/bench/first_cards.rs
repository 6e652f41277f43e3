//! The plan `vantage-first-cards` runs (conditions, pages, shaping proxies) and what it
//! reports back, per condition and page.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::error::{Result, XtaskError};
use crate::process::run_captured;

/// A shaping proxy: `listen` forwards to `upstream` across the mobile link.
#[derive(Debug, Serialize)]
pub struct Proxy {
    /// Where the browser connects.
    pub listen: SocketAddr,
    /// The server behind it.
    pub upstream: SocketAddr,
}

/// One condition: a name, how pages are visited (`cold` or `repeat`), whether Chrome emulates
/// the mobile network, and the page URLs.
#[derive(Debug, Serialize)]
pub struct Condition {
    /// Its name in progress lines.
    pub name: &'static str,
    /// `cold` (a new profile per load), `repeat` (the second load in one profile) or `third`
    /// (the third).
    pub visit: &'static str,
    /// Chrome's own network emulation (CDP) with Lighthouse's mobile profile.
    pub emulate: bool,
    /// The pages, in the order of `pages::PAGES`.
    pub pages: Vec<String>,
}

/// Everything one run measures.
#[derive(Debug, Serialize)]
pub struct Plan {
    /// Loads of each page under each condition.
    pub loads: u32,
    /// The proxies of the mobile link.
    pub shaped: Vec<Proxy>,
    /// The conditions.
    pub conditions: Vec<Condition>,
}

/// One page's figures under one condition.
#[derive(Debug, Deserialize)]
pub struct PageTimes {
    /// Navigation to first card, per load.
    pub ms: Vec<f64>,
    /// The `config.json` request's duration per load, for a page that made one.
    pub config_ms: Vec<f64>,
    /// The same-origin paths the page loaded.
    pub files: Vec<String>,
    /// When the first API answer had arrived (Resource Timing `responseEnd`), per load.
    pub data_ms: Vec<f64>,
    /// When the page's last script or wasm module had arrived, per load (none for the floor).
    pub code_ms: Vec<f64>,
}

/// What `vantage-first-cards` printed.
#[derive(Debug, Deserialize)]
struct Report {
    conditions: Vec<Vec<PageTimes>>,
}

/// Runs `plan` with the stopwatch at `binary` (its progress shown as it comes); the figures
/// per condition, per page.
pub fn run(binary: &Path, plan: &Plan, plan_file: &Path) -> Result<Vec<Vec<PageTimes>>> {
    let text = serde_json::to_string_pretty(plan)?;
    std::fs::write(plan_file, text).map_err(XtaskError::io("writing", plan_file))?;
    let out = run_captured(Command::new(binary).arg(plan_file).stderr(Stdio::inherit()))?;
    let report: Report = serde_json::from_str(out.trim()).map_err(|e| XtaskError::NoReport {
        tool: "vantage-first-cards",
        output: format!("{e}\n{out}"),
    })?;
    let complete = report.conditions.len() == plan.conditions.len()
        && report
            .conditions
            .iter()
            .zip(&plan.conditions)
            .all(|(times, condition)| times.len() == condition.pages.len());
    if complete {
        Ok(report.conditions)
    } else {
        Err(XtaskError::NoReport {
            tool: "vantage-first-cards",
            output: format!("expected the times of every page under every condition\n{out}"),
        })
    }
}
