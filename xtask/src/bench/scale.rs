//! `cargo xtask bench widget --resources N`: the widget at 7 (the demo fixture), 1,000, …, N
//! resources, with the floor and the React peer beside it. For each count the stack is topped
//! up (`resources.rs`) and `vantage-scale` measures in headless Chromium: the first screen
//! (summary bar and a card) on loopback and under Chrome's mobile emulation, the page's
//! elements then and once everything has loaded, the JavaScript heap, the bytes of the first
//! load, and of a refresh with nothing changed and with 10 rows changed (through the state
//! functions, as 10 ETL runs would). Printed as two tables.

use std::path::Path;
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::report::median;
use super::resources::top_up;
use super::site::Site;
use crate::error::{Result, XtaskError};
use crate::process::{build_tests_binary, run_captured};
use crate::progress::Step;
use crate::stack::RunningStack;

/// The demo fixture's resources: the smallest count, the one the others are compared with.
const DEMO: usize = 7;

/// Ten ETL runs, each a start and a complete through the state functions, on the rows updated
/// longest ago that may start (not running; a row the state functions refuse, such as one a
/// retry policy holds back, is passed over); at 7 resources, every row that may start. Fails
/// if none could.
const CHANGE_TEN_SQL: &str = "DO $$ DECLARE r text; changed int := 0; BEGIN
    FOR r IN SELECT resource FROM public.vantage_sync_state WHERE last_sync_status <> 'running'
              ORDER BY updated_at, resource LOOP
      BEGIN
        PERFORM public.complete_vantage_sync(r, 150, 10, 140, public.start_vantage_sync(r));
        changed := changed + 1;
      EXCEPTION WHEN OTHERS THEN NULL;
      END;
      EXIT WHEN changed = 10;
    END LOOP;
    IF changed = 0 THEN RAISE EXCEPTION 'no resource could start a run'; END IF;
    END $$;";

/// The counts measured for `requested`: the demo's 7 first, then each requested count; a single
/// count above 1,000 also brings 1,000.
pub fn sizes(requested: &[usize]) -> Vec<usize> {
    if requested.is_empty() {
        return Vec::new();
    }
    let mut sizes = vec![DEMO];
    if let [one] = requested
        && *one > 1000
    {
        sizes.push(1000);
    }
    sizes.extend(requested.iter().copied().filter(|&n| n >= DEMO));
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// A page's first-screen (widget) or first-card (peers) times.
#[derive(Debug, Deserialize)]
struct Times {
    loopback_ms: Vec<f64>,
    mobile_ms: Vec<f64>,
}

/// What `vantage-scale` measured at one count: the widget's full loads (read by JSON pointer,
/// `/first_load/bytes`, as that program writes them) and each page's times.
#[derive(Debug, Deserialize)]
struct Report {
    widget: Vec<serde_json::Value>,
    pages: Vec<Times>,
}

/// Measures the widget at each of `counts` resources (ascending), `rounds` loads each, and
/// prints the tables.
pub fn bench_scale(stack: &RunningStack, site: &Site, rounds: u32, counts: &[usize]) -> Result<()> {
    let binary = build_tests_binary("vantage-scale")?;
    let [widget, peers @ ..] = site.loopback.as_slice() else {
        return Err(XtaskError::Check("the benchmark has no pages".into()));
    };
    let mut measured = Vec::new();
    for &count in counts {
        let step = Step::start(format!("{count} resources in the stack"));
        let rows = top_up(&stack.psql, count)?;
        step.done();
        let plan = serde_json::json!({
            "rounds": rounds,
            "widget": widget,
            "peers": peers,
            "database_url": stack.env.require("DATABASE_URL")?,
            "change_sql": CHANGE_TEN_SQL,
        });
        let step = Step::start(format!(
            "The widget at {rows} resources: {rounds} rounds (first load, two refreshes; first screens on loopback and mobile)"
        ));
        let report = run(&binary, &plan, &stack.dir.join("scale-plan.json"))?;
        step.done();
        measured.push((rows, report));
    }
    print_widget(&measured);
    print_peers(&measured);
    Ok(())
}

/// Runs `vantage-scale` with `plan`; its report.
fn run(binary: &Path, plan: &serde_json::Value, plan_file: &Path) -> Result<Report> {
    std::fs::write(plan_file, plan.to_string()).map_err(XtaskError::io("writing", plan_file))?;
    let out = run_captured(Command::new(binary).arg(plan_file).stderr(Stdio::inherit()))?;
    serde_json::from_str(out.trim()).map_err(|e| XtaskError::NoReport {
        tool: "vantage-scale",
        output: format!("{e}\n{out}"),
    })
}

/// The median of the number at `pointer` over the widget's full loads (0 where it is absent).
fn median_of(loads: &[serde_json::Value], pointer: &str) -> f64 {
    let values: Vec<f64> = loads
        .iter()
        .map(|load| {
            load.pointer(pointer)
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(0.0)
        })
        .collect();
    median(&values)
}

/// `bytes` as KB or MB.
fn size(bytes: f64) -> String {
    if bytes >= 1024.0 * 1024.0 {
        format!("{:.1} MB", bytes / 1024.0 / 1024.0)
    } else {
        format!("{:.1} KB", bytes / 1024.0)
    }
}

fn print_widget(measured: &[(usize, Report)]) {
    let first = |report: &Report, mobile: bool| {
        report.pages.first().map_or(0.0, |t| {
            median(if mobile { &t.mobile_ms } else { &t.loopback_ms })
        })
    };
    let base = measured
        .first()
        .map(|(_, r)| (first(r, false), first(r, true)));
    println!(
        "\n  The widget at scale (medians; first screen = the summary bar and a card shown; mobile = Chrome's emulation)"
    );
    println!(
        "    goals (issue 24): first screen at 10,000 ≤ 1.5× at 7, on loopback and mobile; ≤ 3,000 elements; a refresh with nothing changed ≤ 5 KB"
    );
    println!(
        "    resources  first screen (× at 7)   mobile (× at 7)        elements: first screen / loaded   JS heap   first load (API)        refresh, unchanged (API)   refresh, 10 changed (API)"
    );
    for (rows, report) in measured {
        let loads = &report.widget;
        let (loopback, mobile) = (first(report, false), first(report, true));
        let times = |ms: f64, at_seven: f64| format!("{ms:>7.0} ms ({:.2}×)", ms / at_seven);
        let (base_loopback, base_mobile) = base.unwrap_or((loopback, mobile));
        let transfer = |which: &str| {
            format!(
                "{} in {:.0} ({})",
                size(median_of(loads, &format!("/{which}/bytes"))),
                median_of(loads, &format!("/{which}/requests")),
                size(median_of(loads, &format!("/{which}/api_bytes"))),
            )
        };
        let wasm_memory = median_of(loads, "/wasm_memory_bytes");
        let never_quiet: Vec<&str> = ["first_load", "refresh_unchanged", "refresh_changed"]
            .into_iter()
            .filter(|which| {
                loads.iter().any(|l| {
                    l.pointer(&format!("/{which}/quiet")) == Some(&serde_json::Value::Bool(false))
                })
            })
            .collect();
        println!(
            "    {rows:>9}  {:<22}  {:<22} {:>8.0} / {:<8.0}  {:>12}   {:<22}  {:<25}  {}",
            times(loopback, base_loopback),
            times(mobile, base_mobile),
            median_of(loads, "/nodes_first_screen"),
            median_of(loads, "/nodes_loaded"),
            size(median_of(loads, "/heap_bytes")),
            transfer("first_load"),
            transfer("refresh_unchanged"),
            transfer("refresh_changed"),
        );
        if !never_quiet.is_empty() {
            println!(
                "               (never quiet for 2 s within 60 s, so measured at 60 s: {})",
                never_quiet.join(", ")
            );
        }
        if wasm_memory > 0.0 {
            println!(
                "               (and the wasm module's memory, outside the JS heap: {})",
                size(wasm_memory)
            );
        }
    }
}

fn print_peers(measured: &[(usize, Report)]) {
    println!(
        "\n  Beside the peers (medians; the widget's first screen, the peers' first card; the peers read the first 1,000 rows)"
    );
    println!(
        "    resources   widget: loopback / mobile   floor: loopback / mobile   React: loopback / mobile   widget/React by pairs: loopback / mobile"
    );
    for (rows, report) in measured {
        let cell = |t: Option<&Times>| {
            t.map_or_else(String::new, |t| {
                format!(
                    "{:>7.0} / {:<7.0} ms",
                    median(&t.loopback_ms),
                    median(&t.mobile_ms)
                )
            })
        };
        let pairs = |mobile: bool| {
            let (Some(w), Some(r)) = (report.pages.first(), report.pages.get(2)) else {
                return 0.0;
            };
            let (w, r) = if mobile {
                (&w.mobile_ms, &r.mobile_ms)
            } else {
                (&w.loopback_ms, &r.loopback_ms)
            };
            median(&w.iter().zip(r).map(|(a, b)| a / b).collect::<Vec<_>>())
        };
        println!(
            "    {rows:>9}   {:<26}  {:<25}  {:<25}  {:.2} / {:.2}",
            cell(report.pages.first()),
            cell(report.pages.get(1)),
            cell(report.pages.get(2)),
            pairs(false),
            pairs(true)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_count_brings_the_demo_and_a_thousand() {
        assert_eq!(sizes(&[10_000]), vec![7, 1000, 10_000]);
        assert_eq!(sizes(&[500]), vec![7, 500]);
        assert_eq!(sizes(&[10_000, 100]), vec![7, 100, 10_000]);
        assert!(sizes(&[]).is_empty());
    }
}
