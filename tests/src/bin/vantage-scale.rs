//! `vantage-scale`: what the widget costs at the stack's current number of resources, in
//! headless Chromium (`cargo xtask bench widget --resources N`, once per count). The widget's
//! page must record `window.__firstScreen` (and `__firstScreenNodes`) when its summary bar and
//! a card are both shown, the peers' pages `window.__firstCard`; `cargo xtask bench widget`
//! injects observers that do.
//!
//! It reads a plan (JSON, from the file named on the command line):
//!
//! ```json
//! { "rounds": 3, "widget": "http://…#access_token=…", "peers": ["http://…", "http://…"],
//!   "database_url": "postgres://…", "change_sql": "DO $$ … $$" }
//! ```
//!
//! Each round, on loopback, in a new session with chromedriver's performance log on: the
//! widget's first screen, its element count then, then (once the network has been quiet for
//! [`QUIET`], or at most [`SETTLE_CAP`]) its element count, its JavaScript heap, its wasm memory (kept by the page's
//! observer as `window.__wasmMemory`) and the bytes it received (CDP's
//! `encodedDataLength`: headers and bodies as sent, compressed or not); then a press of
//! `.vss-refresh` with nothing changed, and one after `change_sql` changed rows, each counted
//! from the press until the network is quiet again. Then the widget's first screen and each
//! peer's first card, on loopback and under Chrome's mobile emulation (CDP), each in a new
//! session. Progress goes to stderr; the result to stdout, one JSON object.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use vantage_sync_tests::browser::{Browser, ChromeDriver};
use vantage_sync_tests::db::Db;
use vantage_sync_tests::devtools::{self, NetworkTally};
use vantage_sync_tests::shaper::LIGHTHOUSE_MOBILE;
use vantage_sync_tests::{Error, Result, plan_tool};

/// What to measure.
#[derive(Debug, Deserialize)]
struct Plan {
    rounds: u32,
    widget: String,
    peers: Vec<String>,
    database_url: String,
    change_sql: String,
}

/// How long the network must stay quiet for a load or a refresh to count as done.
const QUIET: Duration = Duration::from_secs(2);

/// How long a press of the refresh button may take to start a request.
const REFRESH_STARTS: Duration = Duration::from_secs(5);

/// The longest a page may take to show its first screen (10,000 resources under the mobile
/// emulation take minutes with a widget that reads them all first).
const PATIENCE: Duration = Duration::from_secs(300);

/// The longest a load or a refresh is watched for quiet: a widget that never stops reading
/// (its next refresh due before the last one is done) is measured at this point, and says so.
const SETTLE_CAP: Duration = Duration::from_secs(60);

/// Bytes received and requests made (CORS preflights among them).
#[derive(Debug, Default, Serialize)]
struct Transfer {
    bytes: u64,
    requests: usize,
    /// Of them, the API's answers (`/rest/v1/`).
    api_bytes: u64,
    /// Whether the network went quiet; if not, the figures are those at [`SETTLE_CAP`].
    quiet: bool,
}

impl Transfer {
    fn since(tally: &NetworkTally, from: usize, quiet: bool) -> Self {
        let (bytes, requests) = tally.bytes_since(from, None);
        let (api_bytes, _) = tally.bytes_since(from, Some("/rest/v1/"));
        Self {
            bytes,
            requests,
            api_bytes,
            quiet,
        }
    }
}

/// One full load of the widget on loopback.
#[derive(Debug, Serialize)]
struct FullLoad {
    first_screen_ms: f64,
    nodes_first_screen: u64,
    nodes_loaded: u64,
    heap_bytes: u64,
    wasm_memory_bytes: Option<u64>,
    first_load: Transfer,
    refresh_unchanged: Transfer,
    refresh_changed: Transfer,
}

/// First-screen (widget) or first-card (peers) times, per load.
#[derive(Debug, Default, Serialize)]
struct Times {
    loopback_ms: Vec<f64>,
    mobile_ms: Vec<f64>,
}

/// Everything measured at this count.
#[derive(Debug, Default, Serialize)]
struct Report {
    widget: Vec<FullLoad>,
    /// The widget's first screen, then each peer's first card.
    pages: Vec<Times>,
}

/// The page's element count.
fn nodes(browser: &Browser) -> Result<u64> {
    let n = browser.js(
        "return document.getElementsByTagName('*').length;",
        Vec::new(),
    )?;
    n.as_u64()
        .ok_or_else(|| Error::Check(format!("the element count was {n}")))
}

/// Reads the performance log into `tally` until no request is under way and nothing new has
/// happened for [`QUIET`] (nor has the element count changed): `true`; or until
/// [`SETTLE_CAP`] has passed: `false`.
fn settle(browser: &Browser, tally: &mut NetworkTally) -> Result<bool> {
    let deadline = Instant::now() + SETTLE_CAP;
    let mut last_change = Instant::now();
    let mut last_nodes = nodes(browser)?;
    loop {
        let events = devtools::performance_log(browser)?;
        let count = nodes(browser)?;
        if tally.absorb(&events) || count != last_nodes || tally.pending() > 0 {
            last_change = Instant::now();
            last_nodes = count;
        }
        if last_change.elapsed() >= QUIET {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Presses the refresh button once the widget is not reading (or after [`SETTLE_CAP`], for a
/// widget that never stops reading), and counts what the refresh transfers until the network
/// is quiet again.
fn refresh(browser: &Browser, tally: &mut NetworkTally) -> Result<Transfer> {
    let idle = browser.wait_until_within(
        "const b = document.querySelector('.vss-refresh');
         return b !== null && b.getAttribute('aria-busy') !== 'true';",
        "a refresh button that is not busy",
        SETTLE_CAP,
    );
    if idle.is_err() {
        eprint!(" (the refresh button stayed busy)");
    }
    tally.absorb(&devtools::performance_log(browser)?);
    let from = tally.finished.len();
    browser.click(".vss-refresh")?;
    let pressed = Instant::now();
    // A refresh that sends nothing is done at once; one that does is done when it settles.
    let mut quiet = true;
    while pressed.elapsed() < REFRESH_STARTS {
        if tally.absorb(&devtools::performance_log(browser)?) {
            quiet = settle(browser, tally)?;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(Transfer::since(tally, from, quiet))
}

/// Opens `url` and waits until `variable` (set by the page's observer) is a number; that
/// number.
fn time_to(browser: &Browser, url: &str, variable: &str) -> Result<f64> {
    browser.goto(url)?;
    let script = format!("return typeof window.{variable} === 'number';");
    browser.wait_until_within(&script, variable, PATIENCE)?;
    let value = browser.js(&format!("return window.{variable};"), Vec::new())?;
    value
        .as_f64()
        .ok_or_else(|| Error::Check(format!("{url}: {variable} is {value}")))
}

/// The widget on loopback, loaded, refreshed, and refreshed again after `change_sql`.
fn full_load(driver: &ChromeDriver, plan: &Plan, db: &Db) -> Result<FullLoad> {
    let browser = driver.logged_session(1000, 1400)?;
    let mut tally = NetworkTally::default();
    let first_screen_ms = time_to(&browser, &plan.widget, "__firstScreen")?;
    let nodes_first_screen = browser
        .js("return window.__firstScreenNodes;", Vec::new())?
        .as_u64()
        .unwrap_or_default();
    let quiet = settle(&browser, &mut tally)?;
    let nodes_loaded = nodes(&browser)?;
    let heap_bytes = devtools::heap_usage(&browser)?;
    let wasm_memory_bytes = browser
        .js(
            "return window.__wasmMemory ? window.__wasmMemory.buffer.byteLength : null;",
            Vec::new(),
        )?
        .as_u64();
    let first_load = Transfer::since(&tally, 0, quiet);
    let refresh_unchanged = refresh(&browser, &mut tally)?;
    db.batch(&plan.change_sql)
        .map_err(|e| Error::Check(format!("changing rows: {e:?}")))?;
    let refresh_changed = refresh(&browser, &mut tally)?;
    Ok(FullLoad {
        first_screen_ms,
        nodes_first_screen,
        nodes_loaded,
        heap_bytes,
        wasm_memory_bytes,
        first_load,
        refresh_unchanged,
        refresh_changed,
    })
}

/// One timed load of `url` in a new session, under Chrome's mobile emulation when `mobile`.
fn one_load(driver: &ChromeDriver, url: &str, variable: &str, mobile: bool) -> Result<f64> {
    let browser = driver.session(1000, 1400)?;
    if mobile {
        devtools::emulate_network(&browser, &LIGHTHOUSE_MOBILE)?;
    }
    time_to(&browser, url, variable)
}

fn run(plan: &Plan) -> Result<Report> {
    let driver = ChromeDriver::start()?;
    let db = Db::connect_url(&plan.database_url)?;
    let pages: Vec<(&str, &str)> = std::iter::once((plan.widget.as_str(), "__firstScreen"))
        .chain(plan.peers.iter().map(|url| (url.as_str(), "__firstCard")))
        .collect();
    let mut report = Report {
        widget: Vec::new(),
        pages: pages.iter().map(|_| Times::default()).collect(),
    };
    for round in 1..=plan.rounds {
        eprint!("      round {round} of {}: full load", plan.rounds);
        let full = full_load(&driver, plan, &db)?;
        eprint!(" {:.0} ms;", full.first_screen_ms);
        report.widget.push(full);
        for mobile in [false, true] {
            eprint!(" {}", if mobile { "mobile" } else { "loopback" });
            for ((url, variable), times) in pages.iter().zip(&mut report.pages) {
                let ms = one_load(&driver, url, variable, mobile)?;
                eprint!(" {ms:.0}");
                if mobile {
                    times.mobile_ms.push(ms);
                } else {
                    times.loopback_ms.push(ms);
                }
            }
            eprint!(" ms;");
        }
        eprintln!();
    }
    Ok(report)
}

fn main() -> ExitCode {
    plan_tool::main("vantage-scale", run)
}
