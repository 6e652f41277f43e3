//! Vantage sync status widget: health cards for every Vantage ETL sync, read through PostgREST
//! with the publishable key and the signed-in user's JWT.
//!
//! - [`model`]: pure rules and text (health, alerts, relative time, sorting); no I/O.
//! - [`api`]: the only HTTP; [`decode`] reads its JSON into model rows.
//! - [`components`]: views of plain data.
//! - [`widget`]: the stateful root that ties them together.
//! - [`config`]: settings, checked once.

pub mod api;
pub mod browser;
pub mod components;
pub mod config;
pub mod decode;
pub mod model;
pub mod widget;

use leptos::prelude::*;

use config::Config;
use widget::Widget;

/// Starts the standalone page: settings from the page's URL (query and fragment), the widget
/// mounted into `#vantage-sync-status` (or the body), or a message saying what to set.
pub fn start_standalone() {
    let settings = Config::from_pairs(browser::page_settings());
    let target = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("vantage-sync-status"))
        .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
    let view = move || match settings {
        Ok(config) => view! { <Widget config/> }.into_any(),
        Err(e) => view! {
            <section class="vss-root" aria-label="Sync status">
                <p class="vss-banner" role="alert">{e.to_string()}</p>
            </section>
        }
        .into_any(),
    };
    match target {
        Some(element) => mount_to(element, view).forget(),
        None => mount_to_body(view),
    }
}
