//! Where the widget gets the signed-in user's access token before each read: a token it was
//! given (URL fragment, attribute, property, `setAccessToken`), or the host's
//! `getAccessToken()` callback, which fits a supabase-js session:
//!
//! ```js
//! mount(el, { …, getAccessToken: async () =>
//!   (await supabase.auth.getSession()).data.session?.access_token });
//! ```
//!
//! or, on the standalone page, the session supabase-js stored in this origin's `localStorage`.
//! supabase-js refreshes the session itself, so asking before each read never sends an
//! expired token while the user is signed in.

use js_sys::{Function, JSON, Promise, Reflect};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::config::base64url_decode;

/// How the token is obtained.
#[derive(Clone, Debug)]
pub enum TokenSource {
    /// This token, or none (then reads go out with the publishable key alone).
    Fixed(Option<String>),
    /// A function returning the token, or a promise of it (`null`/`undefined`: none).
    Callback(Function),
    /// The session supabase-js keeps in this origin's `localStorage`, read before each read:
    /// supabase-js refreshes it there about hourly (the standalone page on the app's origin).
    Stored,
}

/// The widget's session: its token source, and a counter that moves when the host gives a
/// new token or asks for a read (the widget then reads at once: a new session may fix an
/// expired one).
#[derive(Clone, Copy, Debug)]
pub struct Session {
    source: StoredValue<TokenSource, LocalStorage>,
    changes: RwSignal<u32>,
}

impl Session {
    /// A session that gets its token from `source`.
    pub fn new(source: TokenSource) -> Self {
        Self {
            source: StoredValue::new_local(source),
            changes: RwSignal::new(0),
        }
    }

    /// Replaces the token (the host's `setAccessToken`, the element's `accessToken`).
    pub fn set_token(self, token: Option<String>) {
        self.source
            .set_value(TokenSource::Fixed(token.filter(|t| !t.is_empty())));
        self.changes.update(|n| *n = n.wrapping_add(1));
    }

    /// Asks for a read now (the host's `refresh()`), with the token as it is.
    pub fn request_read(self) {
        self.changes.update(|n| *n = n.wrapping_add(1));
    }

    /// Moves each time the token is replaced or a read is asked for (the widget reads then).
    pub fn changes(self) -> ReadSignal<u32> {
        self.changes.read_only()
    }

    /// The token to send now. A callback that throws or rejects counts as "no token".
    pub async fn token(self) -> Option<String> {
        let source = self.source.get_value();
        let value = match source {
            TokenSource::Fixed(token) => return token,
            TokenSource::Stored => return stored_supabase_token(),
            TokenSource::Callback(function) => function.call0(&JsValue::NULL).ok()?,
        };
        let value = match value.dyn_into::<Promise>() {
            Ok(promise) => JsFuture::from(promise).await.ok()?,
            Err(value) => value,
        };
        value.as_string().filter(|t| !t.is_empty())
    }
}

/// Whether `token`'s claims mark a sync admin (`app_metadata.vantage_sync_admin === true`).
/// Only `app_metadata` counts: users can write their own `user_metadata`. This only decides
/// whether the widget shows "Abort run"; the edge function checks the signature and the claim.
pub fn is_sync_admin(token: &str) -> bool {
    let Some(payload) = token.split('.').nth(1) else {
        return false;
    };
    let Some(json) = base64url_decode(payload).and_then(|bytes| String::from_utf8(bytes).ok())
    else {
        return false;
    };
    JSON::parse(&json)
        .ok()
        .and_then(|claims| Reflect::get(&claims, &"app_metadata".into()).ok())
        .filter(JsValue::is_object)
        .and_then(|meta| Reflect::get(&meta, &"vantage_sync_admin".into()).ok())
        .and_then(|flag| flag.as_bool())
        .unwrap_or(false)
}

/// The access token supabase-js stored for this origin, if exactly one project's session is
/// there (with several, the page must be told which: it takes none).
pub fn stored_supabase_token() -> Option<String> {
    let storage = web_sys::window()?.local_storage().ok()??;
    let mut found = None;
    for index in 0..storage.length().ok()? {
        let Some(key) = storage.key(index).ok().flatten() else {
            continue;
        };
        if !(key.starts_with("sb-") && key.ends_with("-auth-token")) {
            continue;
        }
        if found.is_some() {
            return None;
        }
        found = storage.get_item(&key).ok().flatten();
    }
    let session = JSON::parse(&found?).ok()?;
    Reflect::get(&session, &"access_token".into())
        .ok()?
        .as_string()
        .filter(|t| !t.is_empty())
}

/// Where the standalone page keeps the token it took from its URL: this tab's `sessionStorage`,
/// not the app's `localStorage` (which supabase-js owns). It lasts while the tab does, so a
/// reload keeps the session, and it reaches no other tab or origin.
const PAGE_TOKEN_KEY: &str = "vantage-sync-status:access-token";

/// Keeps `token`, taken from the page's URL, for reloads of this tab.
pub fn keep_page_token(token: &str) {
    if let Some(storage) = session_storage() {
        // Storage full or refused (private modes): the session then lasts until a reload.
        let _ = storage.set_item(PAGE_TOKEN_KEY, token);
    }
}

/// The token this tab's page took from its URL before a reload.
pub fn kept_page_token() -> Option<String> {
    session_storage()?
        .get_item(PAGE_TOKEN_KEY)
        .ok()
        .flatten()
        .filter(|t| !t.is_empty())
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}
