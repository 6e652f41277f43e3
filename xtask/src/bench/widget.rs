//! `cargo xtask bench widget`: the widget's transfer size, and how soon its first cards show
//! in headless Chromium against a stack loaded with the demo fixture, side by side with the
//! plain-JavaScript floor (`bench_floor.html`: fetch + DOM, no framework) reading the same
//! view. Each load is a new browser session (cold cache); the median of 10 loads per page.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use crate::build::widget;
use crate::error::{Result, XtaskError};
use crate::process::run_captured;
use crate::progress::Step;
use crate::stack::{DEMO_DATA_SQL, RunningStack};

/// The plain-JavaScript floor page.
const FLOOR_HTML: &str = include_str!("floor.html");

/// Records when the first card appears; put first in each page's `<head>`.
const FIRST_CARD_OBSERVER: &str = "<script>new MutationObserver((_, o) => { \
    if (document.querySelector('.vss-card')) { window.__firstCard = performance.now(); o.disconnect(); } \
    }).observe(document.documentElement, { childList: true, subtree: true });</script>";

/// Loads of each page.
const LOADS: u32 = 10;

/// What `vantage-first-cards` printed: milliseconds per load, per page.
#[derive(Debug, Deserialize)]
struct FirstCards {
    ms: Vec<Vec<f64>>,
}

/// Sizes, then first-card times of the widget and the floor on `stack` (the bench stack).
pub fn bench_widget(stack: &mut RunningStack) -> Result<()> {
    let step = Step::start("Loading the demo fixture (one resource in every state)");
    stack.psql.sql(DEMO_DATA_SQL)?;
    step.done();
    let served = widget::build_release_to(&stack.dir.join("widget"))?;
    let app_url = stack.serve_widget(&served)?;
    widget::print_sizes(&widget::bundle_sizes(&served)?);
    instrument(&served)?;
    let (base, fragment) = app_url
        .split_once('#')
        .ok_or_else(|| XtaskError::BuildOutput(format!("APP_URL has no fragment: {app_url}")))?;
    let floor_url = format!("{base}floor.html#{fragment}");

    let stopwatch = super::build_tool_binary("vantage-first-cards")?;
    let step = Step::start(format!(
        "Timing {LOADS} cold loads of each page in headless Chromium"
    ));
    let out = run_captured(
        Command::new(stopwatch)
            .args(["--loads", &LOADS.to_string()])
            .args([&app_url, &floor_url]),
    )?;
    step.done();
    let no_report = |why: String| XtaskError::NoReport {
        tool: "vantage-first-cards",
        output: format!("{why}\n{out}"),
    };
    let times: FirstCards =
        serde_json::from_str(out.trim()).map_err(|e| no_report(e.to_string()))?;
    let [widget_ms, floor_ms] = times.ms.as_slice() else {
        return Err(no_report("expected the times of two pages".into()));
    };
    // Loads alternate (widget, floor, widget, …): each pair ran under the same conditions, so
    // the median of the pairs' ratios shows how much of the spread is the machine's.
    let paired: Vec<f64> = widget_ms.iter().zip(floor_ms).map(|(w, f)| w / f).collect();
    println!("\n  navigation to first cards, median of {LOADS} cold loads (fastest–slowest):");
    println!(
        "    the widget (Leptos, wasm)            {:>8.1} ms  ({})",
        median(widget_ms),
        spread(widget_ms)
    );
    println!(
        "    plain JavaScript floor (fetch + DOM) {:>8.1} ms  ({})",
        median(floor_ms),
        spread(floor_ms)
    );
    println!(
        "    widget / floor                       {:>8.2}    (goal ≤ 1.50)",
        median(widget_ms) / median(floor_ms)
    );
    println!(
        "    median of the {} load pairs' ratios   {:>8.2}",
        paired.len(),
        median(&paired)
    );
    Ok(())
}

/// `fastest–slowest ms` of `values`.
fn spread(values: &[f64]) -> String {
    let fastest = values.iter().copied().fold(f64::INFINITY, f64::min);
    let slowest = values.iter().copied().fold(0.0, f64::max);
    format!("{fastest:.0}–{slowest:.0} ms")
}

/// Adds the observer to the widget's page and writes the floor page beside it.
fn instrument(served: &Path) -> Result<()> {
    let index = served.join("index.html");
    let html = std::fs::read_to_string(&index).map_err(XtaskError::io("reading", &index))?;
    std::fs::write(&index, with_observer(&html)).map_err(XtaskError::io("writing", &index))?;
    let floor = served.join("floor.html");
    std::fs::write(&floor, with_observer(FLOOR_HTML)).map_err(XtaskError::io("writing", &floor))
}

/// `html` with the observer right after its doctype (a minified page has no `<head>` tag,
/// and nothing may come before the doctype).
fn with_observer(html: &str) -> String {
    let after_doctype = html
        .to_ascii_lowercase()
        .find("<!doctype html>")
        .map_or(0, |at| at + "<!doctype html>".len());
    format!(
        "{}{FIRST_CARD_OBSERVER}{}",
        &html[..after_doctype],
        &html[after_doctype..]
    )
}

/// The median of `values` (0 for none).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}
