//! `cargo xtask bench widget`: how soon the widget's first cards show in headless Chromium,
//! side by side with the plain-JavaScript floor (`floor.html`: fetch + DOM, no framework) and
//! the page a Supabase team would write instead (`react_peer/`: React 19 + supabase-js 2),
//! against a stack loaded with the demo fixture, under five conditions in one run:
//!
//! - **loopback, cold**: a new browser profile per load;
//! - **mobile network, cold**: Lighthouse's mobile preset (150 ms round trip, 1.6 Mbit/s down,
//!   750 kbit/s up), made two ways: by shaping proxies in front of the pages' servers and of
//!   the gateway (`vantage_sync_tests::shaper`), so connections and CORS preflights pay their
//!   round trips, and by Chrome's own network emulation (CDP), as the developer tools and Lighthouse do it;
//! - **repeat visit**: the second load in one profile, from a warm HTTP cache, on loopback and
//!   under Chrome's emulation.
//!
//! Every page is served as a CDN serves it (`vantage-static`: brotli or gzip, the cache
//! headers of docs/deploy.md), each at the root of its own port. Before the timings: the
//! widget's bundle sizes and its wasm by part; after them: what each page transfers.

use std::path::{Path, PathBuf};

use super::first_cards::{self, Condition, PageTimes, Plan};
use super::pages::{self, PAGES};
use super::report;
use super::scale;
use super::site::Site;
use super::wasm_parts;
use crate::build::widget;
use crate::error::Result;
use crate::process::build_tests_binary;
use crate::progress::Step;
use crate::stack::{DEMO_DATA_SQL, RunningStack};

/// Sizes, then first-card times of the widget, the floor and the React peer on `stack` (the
/// bench stack), `rounds` loads of each page under each condition; then, for `resources`
/// counts (none: no table), the widget at scale.
pub fn bench_widget(stack: &RunningStack, rounds: u32, resources: &[usize]) -> Result<()> {
    let step = Step::start("Loading the demo fixture (one resource in every state)");
    stack.psql.sql(DEMO_DATA_SQL)?;
    step.done();
    let dist = widget::build_release_to(&stack.dir.join("widget"))?;
    let bundle = widget::bundle_sizes(&dist)?;
    widget::print_sizes(&bundle);
    let shipped_wasm = bundle
        .iter()
        .find(|s| s.kind == "wasm")
        .map_or(0, |s| s.raw);
    wasm_parts::print(shipped_wasm)?;
    let site = Site::serve(stack, &dist)?;
    let times = time_conditions(&site, rounds, &stack.dir.join("first-cards-plan.json"))?;
    print_times(&times);
    if let Some(loopback) = times.first() {
        print_transfer(loopback, &site.loopback_folders)?;
    }
    let counts = scale::sizes(resources);
    if !counts.is_empty() {
        scale::bench_scale(stack, &site, rounds, &counts)?;
    }
    Ok(())
}

/// Times the pages of `site` under the five conditions, `rounds` loads of each.
fn time_conditions(site: &Site, rounds: u32, plan_file: &Path) -> Result<Vec<Vec<PageTimes>>> {
    let condition = |name, visit, emulate, pages: &[String]| Condition {
        name,
        visit,
        emulate,
        pages: pages.to_vec(),
    };
    // In the order of `TITLES`.
    let plan = Plan {
        loads: rounds,
        shaped: site.proxies()?,
        conditions: vec![
            condition("loopback", "cold", false, &site.loopback),
            condition("mobile", "cold", false, &site.mobile),
            condition("mobile-cdp", "cold", true, &site.loopback),
            condition("repeat", "repeat", false, &site.loopback),
            condition("repeat-cdp", "repeat", true, &site.loopback),
        ],
    };
    let stopwatch = build_tests_binary("vantage-first-cards")?;
    let step = Step::start(format!(
        "Timing {rounds} rounds in headless Chromium: each round loads {} under {} conditions (a few minutes)",
        PAGES.join(", "),
        plan.conditions.len()
    ));
    let times = first_cards::run(&stopwatch, &plan, plan_file)?;
    step.done();
    Ok(times)
}

/// Each condition's title as printed, whether the widget/floor goal applies, and the
/// widget/React goal; in the plan's order.
const TITLES: [(&str, bool, &str); 5] = [
    (
        "loopback, cold (a new profile per load)",
        true,
        LOOPBACK_GOAL,
    ),
    (
        "mobile network, cold, shaping proxy (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up)",
        false,
        MOBILE_GOAL,
    ),
    (
        "mobile network, cold, Chrome's emulation (CDP: 150 ms per request, 1.6 Mbit/s down, 750 kbit/s up)",
        false,
        MOBILE_GOAL,
    ),
    (
        "repeat visit (the second load in one profile, warm HTTP cache), loopback",
        true,
        LOOPBACK_GOAL,
    ),
    (
        "repeat visit under Chrome's mobile emulation (CDP)",
        true,
        LOOPBACK_GOAL,
    ),
];

/// The widget/React goal on loopback and on a repeat visit.
const LOOPBACK_GOAL: &str = "goal ≤ 0.90";

/// The widget/React goal on the mobile network.
const MOBILE_GOAL: &str = "goal ≤ 0.85";

/// Prints each condition's medians, spreads and ratios.
fn print_times(times: &[Vec<PageTimes>]) {
    for ((title, floor_goal, react_goal), condition) in TITLES.into_iter().zip(times) {
        report::print_condition(&report::Condition {
            title,
            floor_goal,
            react_goal,
            pages: &PAGES,
            times: condition,
        });
    }
}

/// Prints what each page transfers: every same-origin file it loaded, raw, gzip and brotli.
fn print_transfer(times: &[PageTimes], folders: &[PathBuf]) -> Result<()> {
    // Sizes are far below 2^52 bytes: the conversion is exact.
    #[allow(clippy::cast_precision_loss)]
    let kb = |b: u64| format!("{:.1} KB", b as f64 / 1024.0);
    println!("\n  What each page loads from its site (every file; the API's answers aside)");
    println!("    page     files        raw       gzip     brotli");
    for ((name, page), folder) in PAGES.iter().zip(times).zip(folders) {
        let mut total = [0u64; 3];
        for path in &page.files {
            let relative = path.trim_start_matches('/');
            let file = if relative.is_empty() || relative.ends_with('/') {
                folder.join(relative).join("index.html")
            } else {
                folder.join(relative)
            };
            // A path the site does not have (a 404) transferred no file.
            if !file.is_file() {
                continue;
            }
            for (sum, size) in total.iter_mut().zip(pages::served_sizes(&file)?) {
                *sum += size;
            }
        }
        println!(
            "    {name:<8} {:>5} {:>10} {:>10} {:>10}",
            page.files.len(),
            kb(total[0]),
            kb(total[1]),
            kb(total[2])
        );
    }
    Ok(())
}
