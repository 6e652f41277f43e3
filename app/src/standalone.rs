//! The standalone page (`index.html`, e.g. deployed to a CDN): its settings come from the page
//! itself (`<script type="application/json" id="vantage-sync-config">`, written by a deploy) or
//! else `config.json` beside it (optional), then the page's URL (query and fragment, which win),
//! and its session from the URL fragment of a Supabase auth redirect
//! (`#access_token=…`), which it then removes from the URL and keeps in this tab's
//! `sessionStorage` for reloads, or, failing that, from the session supabase-js keeps in
//! `localStorage` (`sb-<project>-auth-token`) when the page shares an origin with the app.

use wasm_bindgen::JsValue;

use crate::browser;
use crate::config::{names_a_server, object_settings};
use crate::http::{self, Method};
use crate::session::{TokenSource, keep_page_token, kept_page_token, stored_supabase_token};

/// Settings from the page (inline, read by the head script) or `config.json` beside it; none
/// if they are missing or not an object of strings and numbers (broken settings are logged,
/// the URL's settings still apply).
pub async fn config_file_settings() -> Vec<(String, String)> {
    let body = match crate::boot::config_file().await {
        Some(read_early) => read_early,
        None => match read_config_file().await {
            Some(body) => body,
            None => return Vec::new(),
        },
    };
    if body.is_null() {
        return Vec::new();
    }
    if !body.is_object() {
        web_sys::console::error_1(&"vantage-sync-status: the page's settings (inline or config.json) are not a JSON object".into());
        return Vec::new();
    }
    object_settings(&body)
}

/// `config.json`'s parsed body; `null` when it is missing, `None` when it cannot be read, a
/// string when it is not JSON.
async fn read_config_file() -> Option<JsValue> {
    let reply = http::send(Method::GET, "config.json", &[], None).await?;
    if !reply.ok() {
        return Some(JsValue::NULL);
    }
    Some(reply.body.unwrap_or_else(|| "not JSON".into()))
}

/// The page's settings (`config.json`, then the URL's) and where its session comes from: the
/// token they give, else the session supabase-js stored for this origin (read again before
/// each read) when there is one and [`may_use_stored_session`] allows it.
pub async fn page_settings() -> (Vec<(String, String)>, TokenSource) {
    let mut pairs = config_file_settings().await;
    let from_url = browser::page_settings();
    let stored_allowed = may_use_stored_session(&from_url);
    let url_token = from_url
        .iter()
        .find(|(name, value)| is_token_name(name) && !value.is_empty())
        .map(|(_, token)| token.clone());
    pairs.extend(from_url);
    match url_token {
        // Read: kept for reloads of this tab, and gone from the address bar and history.
        Some(token) => {
            keep_page_token(&token);
            browser::forget_url_session();
        }
        // A reload: the token this tab took from its URL, under the same rule as the stored
        // supabase-js session (never for a URL that names a server).
        None if stored_allowed => {
            if let Some(token) = kept_page_token() {
                pairs.push(("access_token".to_owned(), token));
            }
        }
        None => {}
    }
    let has_token = pairs
        .iter()
        .any(|(name, value)| is_token_name(name) && !value.is_empty());
    let source = if !has_token && stored_allowed && stored_supabase_token().is_some() {
        TokenSource::Stored
    } else {
        // The settings' token, if any (see `embed::mount_settings`).
        TokenSource::Fixed(None)
    };
    (pairs, source)
}

/// Whether `name` is a setting that gives the access token.
fn is_token_name(name: &str) -> bool {
    matches!(name, "access-token" | "access_token")
}

/// Whether the session supabase-js stored for this origin may go with the reads: not when the
/// page's URL names a server or key (`#rest-url=https://elsewhere`), or any link could send the
/// signed-in user's token wherever it points. Such a URL still works with a session of its own
/// (`access_token` in the fragment).
pub fn may_use_stored_session(url_settings: &[(String, String)]) -> bool {
    !url_settings.iter().any(|(name, _)| names_a_server(name))
}

#[cfg(test)]
mod tests {
    use super::may_use_stored_session;

    fn pairs(names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| ((*n).to_owned(), "x".to_owned()))
            .collect()
    }

    #[test]
    fn a_link_that_names_a_server_gets_no_stored_session() {
        assert!(may_use_stored_session(&pairs(&[
            "resource",
            "refresh-seconds"
        ])));
        assert!(may_use_stored_session(&[]));
        for name in [
            "rest-url",
            "supabase_url",
            "Functions-URL",
            "anon-key",
            "apikey",
        ] {
            assert!(
                !may_use_stored_session(&pairs(&["resource", name])),
                "{name}"
            );
        }
    }
}
