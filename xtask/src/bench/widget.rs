//! `cargo xtask bench widget`: how soon the widget's first cards show in headless Chromium,
//! side by side with the plain-JavaScript floor (`floor.html`: fetch + DOM, no framework) and
//! the page a Supabase team would write instead (`react_peer/`: React 19 + supabase-js 2),
//! against a stack loaded with the demo fixture, under three conditions in one run:
//!
//! - **loopback, cold**: a new browser profile per load;
//! - **mobile network, cold**: Lighthouse's mobile preset (150 ms round trip, 1.6 Mbit/s down,
//!   750 kbit/s up), made by shaping proxies in front of the pages' servers and of the gateway
//!   (`vantage_sync_tests::shaper`), so connections and CORS preflights pay their round trips;
//! - **repeat visit**: the second load in one profile, from a warm HTTP cache.
//!
//! Every page is served as a CDN serves it (`vantage-static`: brotli or gzip, the cache
//! headers of docs/deploy.md), each at the root of its own port. Before the timings: the
//! widget's bundle sizes and its wasm by part; after them: what each page transfers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::first_cards::{self, Condition, PageTimes, Plan, Proxy};
use super::pages::{self, PAGES, Settings};
use super::report;
use super::wasm_parts;
use crate::build::widget;
use crate::error::{Result, XtaskError};
use crate::process::{build_tests_binary, spawn_server, stop_server, wait_until_ready};
use crate::progress::Step;
use crate::stack::{DEMO_DATA_SQL, RunningStack};

/// Loads of each page under each condition.
const LOADS: u32 = 15;

/// How long the static server may take to listen.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// The static server of the pages, stopped when dropped.
struct PageServer {
    pid: u32,
}

impl PageServer {
    /// Serves each folder of `sites` at the root of its port.
    fn start(sites: &[(u16, &Path)], log: &Path) -> Result<Self> {
        let binary = build_tests_binary("vantage-static")?;
        let mut cmd = Command::new(binary);
        for (port, folder) in sites {
            cmd.arg(format!("{port}={}", folder.display()));
        }
        let server = Self {
            pid: spawn_server(&mut cmd, log)?,
        };
        wait_until_ready(
            "the pages' static server",
            server.pid,
            log,
            LISTEN_TIMEOUT,
            || {
                sites
                    .iter()
                    .all(|(port, _)| std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok())
            },
        )?;
        Ok(server)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        stop_server(self.pid, Signal::SIGTERM);
    }
}

/// `n` distinct free loopback ports (held together while chosen, so none repeats).
fn free_ports<const N: usize>() -> Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| std::net::TcpListener::bind(("127.0.0.1", 0)))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(XtaskError::Port)?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr().map_err(XtaskError::Port)?.port();
    }
    Ok(ports)
}

/// The loopback address of `url` (`http://127.0.0.1:PORT`).
fn address_of(url: &str) -> Result<SocketAddr> {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .map_err(|e| XtaskError::BuildOutput(format!("{url} is not http://127.0.0.1:PORT: {e}")))
}

/// Sizes, then first-card times of the widget, the floor and the React peer on `stack` (the
/// bench stack).
pub fn bench_widget(stack: &RunningStack) -> Result<()> {
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
    let (times, loopback_pages) = measure(stack, &dist)?;
    print_times(&times);
    if let Some(loopback) = times.first() {
        print_transfer(loopback, &loopback_pages)?;
    }
    Ok(())
}

/// Writes the pages, serves them, and times them under the three conditions; the figures and
/// the loopback pages' folders.
fn measure(stack: &RunningStack, dist: &Path) -> Result<(Vec<Vec<PageTimes>>, [PathBuf; 3])> {
    let gateway = stack.env.require("SUPABASE_URL")?.to_owned();
    let publishable_key = stack.env.require("PUBLISHABLE_KEY")?.to_owned();
    let fragment = format!(
        "#access_token={}&token_type=bearer",
        stack.env.require("AUTHENTICATED_JWT")?
    );
    // Pages on loopback (3), the mobile pages (3), their proxies (3), the gateway's proxy.
    let ports: [u16; 10] = free_ports()?;
    let (direct, mobile_origin) = (&ports[0..3], &ports[3..6]);
    let (mobile_proxies, gateway_proxy) = (&ports[6..9], ports[9]);

    let step = Step::start("Writing the pages: the widget, the floor, the React peer (esbuild)");
    let dir = stack.dir.join("pages");
    let loopback_pages = pages::write(
        &dir.join("loopback"),
        dist,
        &Settings {
            supabase_url: gateway.clone(),
            publishable_key: publishable_key.clone(),
        },
    )?;
    let mobile_pages = pages::write(
        &dir.join("mobile"),
        dist,
        &Settings {
            supabase_url: format!("http://127.0.0.1:{gateway_proxy}"),
            publishable_key,
        },
    )?;
    step.done();

    let sites: Vec<(u16, &Path)> = direct
        .iter()
        .chain(mobile_origin)
        .copied()
        .zip(
            loopback_pages
                .iter()
                .chain(&mobile_pages)
                .map(PathBuf::as_path),
        )
        .collect();
    let _server = PageServer::start(&sites, &stack.dir.join("pages-server.log"))?;
    let urls = |ports: &[u16]| -> Vec<String> {
        ports
            .iter()
            .map(|port| format!("http://127.0.0.1:{port}/{fragment}"))
            .collect()
    };
    let mut shaped: Vec<Proxy> = mobile_proxies
        .iter()
        .zip(mobile_origin)
        .map(|(&listen, &upstream)| Proxy {
            listen: SocketAddr::from(([127, 0, 0, 1], listen)),
            upstream: SocketAddr::from(([127, 0, 0, 1], upstream)),
        })
        .collect();
    shaped.push(Proxy {
        listen: SocketAddr::from(([127, 0, 0, 1], gateway_proxy)),
        upstream: address_of(&gateway)?,
    });
    let plan = Plan {
        loads: LOADS,
        shaped,
        conditions: vec![
            Condition {
                name: "loopback",
                visit: "cold",
                pages: urls(direct),
            },
            Condition {
                name: "mobile",
                visit: "cold",
                pages: urls(mobile_proxies),
            },
            Condition {
                name: "repeat",
                visit: "repeat",
                pages: urls(direct),
            },
        ],
    };

    let stopwatch = build_tests_binary("vantage-first-cards")?;
    let step = Step::start(format!(
        "Timing {LOADS} rounds in headless Chromium: each round loads {} under 3 conditions (a few minutes)",
        PAGES.join(", ")
    ));
    let times = first_cards::run(&stopwatch, &plan, &stack.dir.join("first-cards-plan.json"))?;
    step.done();
    Ok((times, loopback_pages))
}

/// Prints each condition's medians, spreads and ratios.
fn print_times(times: &[Vec<PageTimes>]) {
    let titles = [
        ("loopback, cold (a new profile per load)", true),
        (
            "mobile network, cold (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up)",
            false,
        ),
        (
            "repeat visit (the second load in one profile, warm HTTP cache)",
            true,
        ),
    ];
    for ((title, floor_goal), condition) in titles.into_iter().zip(times) {
        let ms: Vec<Vec<f64>> = condition.iter().map(|page| page.ms.clone()).collect();
        report::print_condition(&report::Condition {
            title,
            floor_goal,
            pages: &PAGES,
            ms: &ms,
            config_ms: condition.first().map_or(&[], |widget| &widget.config_ms),
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
