//! `vantage-first-cards`: how long pages take, from navigation to the first card on screen,
//! in headless Chromium, under several conditions in one run. The pages must record
//! `window.__firstCard = performance.now()` when their first `.vss-card` appears (`cargo xtask
//! bench widget` injects an observer that does).
//!
//! It reads a plan (JSON, from the file named on the command line):
//!
//! ```json
//! { "loads": 15,
//!   "shaped": [{ "listen": "127.0.0.1:4001", "upstream": "127.0.0.1:8080" }],
//!   "conditions": [{ "name": "loopback", "visit": "cold", "pages": ["http://…#access_token=…"] }] }
//! ```
//!
//! `shaped` proxies are started first, all on one link with Lighthouse's mobile profile
//! (`vantage_sync_tests::shaper`). A condition with `"emulate": true` has Chrome's own network
//! emulation with the same profile (CDP `Network.emulateNetworkConditions`, turned on in each
//! new session before its first load: 150 ms added to each request, the rates shared by the
//! page's requests). A `cold` visit is a new browser session (a new profile, an
//! empty cache); a `repeat` visit loads the page once untimed in a new session, then times the
//! next load in the same session (a warm HTTP cache); a `third` visit times the third load of
//! one session (by then V8 has cached the page's compiled scripts, which it does from the
//! second load on). Loads interleave: each round loads every
//! page of every condition once, so a slow moment of the machine falls on all of them alike.
//! Progress goes to stderr; the result to stdout, one JSON object: per condition and page, the
//! milliseconds per load, the duration of each load's `config.json` request when the page made
//! one, the same-origin paths the page loaded, and from Resource Timing when the data and the
//! code had arrived: the first API answer's `responseEnd`, and the last same-origin script's or
//! wasm module's.

use std::net::SocketAddr;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};
use vantage_sync_tests::browser::{Browser, ChromeDriver};
use vantage_sync_tests::devtools;
use vantage_sync_tests::shaper::{LIGHTHOUSE_MOBILE, Link};
use vantage_sync_tests::{Error, Result, plan_tool};

/// What to measure.
#[derive(Debug, Deserialize)]
struct Plan {
    loads: u32,
    #[serde(default)]
    shaped: Vec<Proxy>,
    conditions: Vec<Condition>,
}

/// A shaping proxy in front of a server.
#[derive(Debug, Deserialize)]
struct Proxy {
    listen: SocketAddr,
    upstream: SocketAddr,
}

/// How a page is visited.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Visit {
    /// A new profile per load.
    Cold,
    /// The second load in one profile.
    Repeat,
    /// The third load in one profile.
    Third,
}

impl Visit {
    /// Untimed loads before the timed one, in the same session.
    fn before(self) -> usize {
        match self {
            Self::Cold => 0,
            Self::Repeat => 1,
            Self::Third => 2,
        }
    }
}

/// One condition: its pages and how they are visited.
#[derive(Debug, Deserialize)]
struct Condition {
    name: String,
    visit: Visit,
    /// Chrome's own network emulation (Lighthouse's mobile profile) in each session.
    #[serde(default)]
    emulate: bool,
    pages: Vec<String>,
}

/// One page's figures under one condition.
#[derive(Debug, Default, Serialize)]
struct PageTimes {
    ms: Vec<f64>,
    config_ms: Vec<f64>,
    files: Vec<String>,
    data_ms: Vec<f64>,
    code_ms: Vec<f64>,
}

/// What a page reports once its first card is up.
#[derive(Debug, Deserialize)]
struct Load {
    first: f64,
    config: Option<f64>,
    files: Vec<String>,
    data: Option<f64>,
    code: Option<f64>,
}

/// Read in the page after the first card: the time, the `config.json` request's duration
/// (Resource Timing), every same-origin path the page loaded, when the first API answer had
/// arrived and when the last script or wasm module of the page's own had.
const REPORT: &str = "const entries = performance.getEntriesByType('resource');
    const own = entries.filter((e) => new URL(e.name).origin === location.origin);
    const config = entries.find((e) => new URL(e.name).pathname.endsWith('/config.json'));
    const data = entries.filter((e) => e.name.includes('/rest/v1/')).map((e) => e.responseEnd);
    const code = own.filter((e) => /\\.(js|wasm)$/.test(new URL(e.name).pathname))
      .map((e) => e.responseEnd);
    return { first: window.__firstCard,
             config: config ? config.responseEnd - config.startTime : null,
             files: [location.pathname, ...own.map((e) => new URL(e.name).pathname)],
             data: data.length ? Math.min(...data) : null,
             code: code.length ? Math.max(...code) : null };";

/// Opens `url` in `browser` and waits for its first card.
fn open(browser: &Browser, url: &str) -> Result<()> {
    browser.goto(url)?;
    browser.wait_until(
        "return typeof window.__firstCard === 'number';",
        "the first card",
    )
}

/// One timed load of `url` in a new session of `driver`.
fn load(driver: &ChromeDriver, url: &str, condition: &Condition) -> Result<Load> {
    let browser = driver.session(1000, 1400)?;
    if condition.emulate {
        devtools::emulate_network(&browser, &LIGHTHOUSE_MOBILE)?;
    }
    for _ in 0..condition.visit.before() {
        open(&browser, url)?;
        // A new navigation (not a fragment change) that leaves the cache as it is.
        browser.goto("about:blank")?;
    }
    open(&browser, url)?;
    let report = browser.js(REPORT, Vec::new())?;
    serde_json::from_value(report.clone())
        .map_err(|e| Error::Check(format!("{url} reported {report}: {e}")))
}

fn run(plan: &Plan) -> Result<Vec<Vec<PageTimes>>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let driver = ChromeDriver::start()?;
    let link = Link::new(LIGHTHOUSE_MOBILE);
    for proxy in &plan.shaped {
        runtime.block_on(link.proxy(proxy.listen, proxy.upstream))?;
    }
    let mut times: Vec<Vec<PageTimes>> = plan
        .conditions
        .iter()
        .map(|c| c.pages.iter().map(|_| PageTimes::default()).collect())
        .collect();
    for round in 1..=plan.loads {
        eprint!("    round {round:>2} of {}:", plan.loads);
        for (condition, condition_times) in plan.conditions.iter().zip(&mut times) {
            eprint!(" {}", condition.name);
            for (url, page) in condition.pages.iter().zip(condition_times.iter_mut()) {
                let one = load(&driver, url, condition)
                    .map_err(|e| Error::Check(format!("{} load of {url}: {e}", condition.name)))?;
                eprint!(" {:.0}", one.first);
                page.ms.push(one.first);
                page.config_ms.extend(one.config);
                page.data_ms.extend(one.data);
                page.code_ms.extend(one.code);
                if page.files.is_empty() {
                    page.files = one.files;
                }
            }
            eprint!(" ms;");
        }
        eprintln!();
    }
    Ok(times)
}

fn main() -> ExitCode {
    plan_tool::main("vantage-first-cards", |plan: &Plan| {
        run(plan).map(|times| serde_json::json!({ "conditions": times }))
    })
}
