//! The few browser facilities the widget uses besides HTTP: the clock, the user's time zone
//! (through `Intl`, so no date library ships in the bundle) and the page's URL settings.

use js_sys::{Array, Date, Function, Intl, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::model::Timestamp;

/// The browser's clock (`Date.now()`); the widget corrects it by the server's offset.
pub fn now() -> Timestamp {
    // Date.now() is a whole number of milliseconds, far inside i64.
    #[allow(clippy::cast_possible_truncation)]
    Timestamp::from_millis(Date::now() as i64)
}

/// Whether the page is hidden (a background tab, a minimised window): auto-refresh waits.
pub fn page_is_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// An instant in the user's locale and time zone, with the zone's name:
/// `Nov 5, 2025, 11:00:00 AM GMT+1` (for tooltips next to relative times).
pub fn local_time_text(t: Timestamp) -> String {
    thread_local! {
        static FORMAT: Function = formatter(&[("dateStyle", "medium"), ("timeStyle", "long")]);
    }
    FORMAT.with(|format| format_instant(format, t))
}

/// An instant as a time of day in the user's locale and time zone: `14:32` or `2:32 PM`.
pub fn local_clock_text(t: Timestamp) -> String {
    thread_local! {
        static FORMAT: Function = formatter(&[("timeStyle", "short")]);
    }
    FORMAT.with(|format| format_instant(format, t))
}

/// The `format` function of an `Intl.DateTimeFormat` for the user's locale with `options`.
/// Made once per kind and kept: a formatter is costly to make, and the retry line asks for a
/// time every second.
fn formatter(options: &[(&str, &str)]) -> Function {
    let settings = Object::new();
    for (name, value) in options {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&settings, &(*name).into(), &(*value).into());
    }
    Intl::DateTimeFormat::new(&Array::new(), &settings).format()
}

fn format_instant(format: &Function, t: Timestamp) -> String {
    #[allow(clippy::cast_precision_loss)] // milliseconds since 1970 fit an f64 exactly
    let date = Date::new(&JsValue::from_f64(t.millis() as f64));
    format
        .call1(&JsValue::UNDEFINED, &date)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_else(|| t.to_rfc3339())
}

/// Name/value pairs from the page's query string and fragment (a Supabase auth redirect puts
/// the session there: `#access_token=...`). The fragment wins: it never reaches a server.
pub fn page_settings() -> Vec<(String, String)> {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return Vec::new();
    };
    let mut pairs = Vec::new();
    for part in [location.search(), location.hash()].into_iter().flatten() {
        let text = part.trim_start_matches(['?', '#']);
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            pairs.push((decode(name), decode(value)));
        }
    }
    pairs
}

/// Form-style percent-decoding; text that does not decode is kept as it is.
fn decode(text: &str) -> String {
    let text = text.replace('+', " ");
    js_sys::decode_uri_component(&text).map_or(text, String::from)
}
