//! Vantage sync status widget: health cards for every Vantage ETL sync, read through PostgREST
//! with the publishable key and the signed-in user's JWT.
//!
//! Its modules are layers, lowest first; each uses only those above it in this list
//! (`xtask/tests/layers.rs` checks it, ARCHITECTURE.md draws it):
//!
//! - [`model`]: pure rules and text (health, alerts, relative time, sorting); no I/O.
//! - [`browser`]: the clock, `Intl`, the page's URL.
//! - [`config`]: settings, checked once; [`session`]: the user's token before each read.
//! - [`http`]: the fetch layer (gloo-net); [`boot`]: the answers of the standalone page's
//!   early reads, started before the wasm runs.
//! - [`decode`]: JSON into model rows; [`api`]: the reads and the abort request;
//!   [`reader`]: the order of the reads (first screen, the rest, then only what changed).
//! - [`events`]: what the widget tells the host page; [`actions`]: what a card may do.
//! - [`components`]: views of plain data; [`widget`]: the stateful root that ties them
//!   together.
//! - [`embed`]: `mount()` and `<vantage-sync-status>`; [`standalone`]: the page's settings.

pub mod actions;
pub mod api;
pub mod boot;
pub mod browser;
pub mod components;
pub mod config;
pub mod decode;
pub mod embed;
pub mod events;
pub mod http;
pub mod model;
pub mod reader;
pub mod session;
pub mod standalone;
pub mod widget;

use config::Config;

/// How long the standalone page waits for the head script's first read before it mounts
/// the widget without it (see [`boot::first_read_settled`]).
const FIRST_READ_PATIENCE_MS: i32 = 300;

/// Starts the module: defines `<vantage-sync-status>`, and on the standalone page (an element
/// with id `vantage-sync-status`) mounts the widget there with the page's settings.
pub fn start() {
    embed::define_custom_element();
    let target = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("vantage-sync-status"))
        .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
    if let Some(element) = target {
        // Not Leptos's spawn_local: its executor starts with the first mount, below.
        wasm_bindgen_futures::spawn_local(async move {
            let (pairs, source) = standalone::page_settings().await;
            let settings = Config::from_pairs(pairs);
            boot::first_read_settled(FIRST_READ_PATIENCE_MS).await;
            // The page lives as long as the widget: never unmounted, the handle not needed.
            let _ = embed::mount_settings(element, settings, source);
        });
    }
}
