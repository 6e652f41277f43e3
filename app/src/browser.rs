//! The few browser facilities the widget uses besides HTTP: the clock, the user's time zone
//! (through `Intl`, so no date library ships in the bundle) and the page's URL settings.

use js_sys::{Array, Date, Function, Intl, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::model::{Span, Timestamp};

/// The browser's clock (`Date.now()`); the widget corrects it by the server's offset.
pub fn now() -> Timestamp {
    // Date.now() is a whole number of milliseconds, far inside i64.
    #[allow(clippy::cast_possible_truncation)]
    Timestamp::EPOCH.plus(Span::from_millis(Date::now() as i64))
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
    let date = Date::new(&JsValue::from_f64(t.since_epoch().millis() as f64));
    format
        .call1(&JsValue::UNDEFINED, &date)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_else(|| t.to_rfc3339())
}

/// Name/value pairs from the page's query string and fragment (a Supabase auth redirect puts
/// the session there: `#access_token=...`). The fragment wins: it never reaches a server.
/// The standalone page then removes the session from the URL ([`forget_url_session`]).
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

/// The names a Supabase auth redirect puts in the URL with a session (`expires_at`,
/// `expires_in` and the like by their prefix). The page removes them once it has read them.
const SESSION_NAMES: [&str; 6] = [
    "access_token",
    "refresh_token",
    "token_type",
    "type",
    "provider_token",
    "provider_refresh_token",
];

/// Whether `pair` (`name=value`, as written in the URL) is part of a session.
fn is_session_pair(pair: &str) -> bool {
    let name = pair.split_once('=').map_or(pair, |(name, _)| name);
    SESSION_NAMES.contains(&name) || name.starts_with("expires_")
}

/// A query string or fragment (`?…`, `#…`, or empty) without the session's pairs, every other
/// pair kept as written and in order; `None` when it holds no session pair.
pub fn without_session(part: &str) -> Option<String> {
    let (lead, text) = match part.chars().next() {
        Some(c @ ('?' | '#')) => (c.to_string(), &part[1..]),
        _ => (String::new(), part),
    };
    let pairs: Vec<&str> = text.split('&').filter(|p| !p.is_empty()).collect();
    if !pairs.iter().any(|p| is_session_pair(p)) {
        return None;
    }
    let kept: Vec<&str> = pairs.into_iter().filter(|p| !is_session_pair(p)).collect();
    Some(if kept.is_empty() {
        String::new()
    } else {
        format!("{lead}{}", kept.join("&"))
    })
}

/// Removes a session from the page's URL (query and fragment) in place, with
/// `history.replaceState`: no history entry, no reload, the path and every other pair kept. A
/// link copied or a screen shared afterwards holds no token, and neither does the history.
pub fn forget_url_session() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let (Ok(path), Ok(search), Ok(hash)) =
        (location.pathname(), location.search(), location.hash())
    else {
        return;
    };
    let (new_search, new_hash) = (without_session(&search), without_session(&hash));
    if new_search.is_none() && new_hash.is_none() {
        return;
    }
    let url = format!(
        "{path}{}{}",
        new_search.unwrap_or(search),
        new_hash.unwrap_or(hash)
    );
    if let Ok(history) = window.history() {
        // Same origin, same document: replaceState cannot be refused here.
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

/// Form-style percent-decoding; text that does not decode is kept as it is.
fn decode(text: &str) -> String {
    let text = text.replace('+', " ");
    js_sys::decode_uri_component(&text).map_or(text, String::from)
}

#[cfg(test)]
mod tests {
    use super::without_session;

    #[test]
    fn a_session_leaves_the_url_and_everything_else_stays() {
        assert_eq!(
            without_session("#access_token=a.b.c&token_type=bearer&expires_in=3600&expires_at=1&refresh_token=r&type=magiclink")
                .as_deref(),
            Some("")
        );
        assert_eq!(
            without_session("#resource=accounts&access_token=a.b.c&refresh-seconds=60").as_deref(),
            Some("#resource=accounts&refresh-seconds=60")
        );
        assert_eq!(
            without_session("?x=1&access_token=t").as_deref(),
            Some("?x=1")
        );
        // No session: nothing to change (the URL is left exactly as it is).
        assert_eq!(without_session("#resource=accounts"), None);
        assert_eq!(without_session(""), None);
        // A name that only starts like a session's is kept.
        assert_eq!(without_session("#typed=1&access_tokens=2"), None);
    }
}
