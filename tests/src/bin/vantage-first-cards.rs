//! `vantage-first-cards`: how long pages take, from navigation to the first card on screen,
//! in headless Chromium. Each load is a new browser session (a cold cache, like a first
//! visit). The pages must record `window.__firstCard = performance.now()` when their first
//! `.vss-card` appears (`cargo xtask bench widget` injects an observer that does). Prints one
//! JSON object: each page's milliseconds per load, loads alternating between pages.
//!
//! ```text
//! vantage-first-cards --loads 10 http://127.0.0.1:8080/#access_token=… http://…/floor.html#…
//! ```

use std::process::ExitCode;

use clap::Parser;
use serde_json::{Value, json};
use vantage_sync_tests::browser::Browser;

/// Times to first card, per page.
#[derive(Debug, Parser)]
struct Args {
    /// Loads of each page.
    #[arg(long, default_value_t = 10)]
    loads: u32,
    /// The pages, each opened `loads` times.
    #[arg(required = true)]
    urls: Vec<String>,
}

fn first_card_ms(url: &str) -> vantage_sync_tests::Result<f64> {
    let browser = Browser::start(1000, 1400)?;
    browser.goto(url)?;
    browser.wait_until(
        "return typeof window.__firstCard === 'number';",
        "the first card",
    )?;
    let ms = browser.js("return window.__firstCard;", Vec::new())?;
    ms.as_f64()
        .ok_or_else(|| vantage_sync_tests::Error::Edge(format!("not a time: {ms}")))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut times: Vec<Vec<f64>> = args.urls.iter().map(|_| Vec::new()).collect();
    for _ in 0..args.loads {
        for (url, page_times) in args.urls.iter().zip(&mut times) {
            match first_card_ms(url) {
                Ok(ms) => page_times.push(ms),
                Err(e) => {
                    eprintln!("vantage-first-cards: {url}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let pages: Vec<Value> = times.into_iter().map(|t| json!(t)).collect();
    println!("{}", json!({ "ms": pages }));
    ExitCode::SUCCESS
}
