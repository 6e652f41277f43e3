//! The widget in someone else's page: `mount(element, options)` for scripts, and the
//! `<vantage-sync-status>` custom element (`element.js`) built on it.
//!
//! ```js
//! import init, { mount } from "./vantage-sync-widget.js";
//! await init();
//! const widget = mount(document.querySelector("#syncs"), {
//!   supabaseUrl: "https://<ref>.supabase.co",
//!   publishableKey: "sb_publishable_…",
//!   getAccessToken: async () => (await supabase.auth.getSession()).data.session?.access_token,
//! });
//! // later: widget.setAccessToken(token), widget.refresh(), widget.unmount()
//! // (the widget stays mounted until unmount(), whether or not the handle is kept)
//! ```
//!
//! Settings are the same names as the standalone page's, in camelCase or kebab-case. A bad
//! setting is shown in the element as a sentence that says what to set (and logged).

use std::any::Any;
use std::cell::{Cell, RefCell};

use js_sys::{Function, Reflect};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::config::{Config, ConfigError, object_settings};
use crate::session::{Session, TokenSource};
use crate::widget::Widget;

#[wasm_bindgen(module = "/src/element.js")]
extern "C" {
    /// Defines `<vantage-sync-status>` (once), mounting through `mount`.
    #[wasm_bindgen(js_name = defineElement)]
    fn define_element(mount: &Function);
}

thread_local! {
    /// The mounted views by id. Kept here, not in [`MountedWidget`]: the host's handle is a
    /// JavaScript object that the garbage collector may free (wasm-bindgen then drops it), and
    /// a widget must stay on screen until it is unmounted, whether the host kept the handle
    /// or not.
    static MOUNTED: RefCell<Vec<(u32, Box<dyn Any>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u32> = const { Cell::new(0) };
}

/// A mounted widget, as the host page holds it.
#[wasm_bindgen]
pub struct MountedWidget {
    /// Its view in [`MOUNTED`]; `None` once unmounted.
    id: Option<u32>,
    session: Option<Session>,
}

#[wasm_bindgen]
impl MountedWidget {
    /// Hands the widget a new access token (`undefined`/empty: none); it reads again at once.
    #[wasm_bindgen(js_name = setAccessToken)]
    pub fn set_access_token(&self, token: Option<String>) {
        if let Some(session) = self.session {
            session.set_token(token);
        }
    }

    /// Reads the sync health again now.
    pub fn refresh(&self) {
        if let Some(session) = self.session {
            session.request_read();
        }
    }

    /// Removes the widget from its element and stops its reads and timers.
    pub fn unmount(&mut self) {
        let Some(id) = self.id.take() else {
            return;
        };
        let view = MOUNTED.with_borrow_mut(|mounted| {
            let at = mounted
                .iter()
                .position(|(mounted_id, _)| *mounted_id == id)?;
            Some(mounted.swap_remove(at))
        });
        // Dropped outside the borrow: unmounting runs the widget's cleanups.
        drop(view);
    }
}

/// Keeps `view` mounted until [`MountedWidget::unmount`]; its id.
fn keep_mounted(view: Box<dyn Any>) -> u32 {
    let id = NEXT_ID.with(|next| {
        let id = next.get();
        next.set(id.wrapping_add(1));
        id
    });
    MOUNTED.with_borrow_mut(|mounted| mounted.push((id, view)));
    id
}

/// Mounts the widget into `element` with `options` (an object of settings, and optionally
/// `getAccessToken`, a function returning the token or a promise of it).
#[wasm_bindgen]
pub fn mount(element: web_sys::HtmlElement, options: &JsValue) -> MountedWidget {
    let (pairs, get_token) = read_options(options);
    let source = match get_token {
        Some(function) => TokenSource::Callback(function),
        None => TokenSource::Fixed(None),
    };
    mount_settings(element, Config::from_pairs(pairs), source)
}

/// Mounts the widget for `settings` into `element` (the standalone page, the custom element
/// and `mount` all come here); a settings error is shown instead, and logged.
pub fn mount_settings(
    element: web_sys::HtmlElement,
    settings: Result<Config, ConfigError>,
    source: TokenSource,
) -> MountedWidget {
    let host: web_sys::EventTarget = element.clone().into();
    match settings {
        Ok(config) => {
            let source = match (source, &config.access_token) {
                (TokenSource::Fixed(None), Some(token)) => TokenSource::Fixed(Some(token.clone())),
                (source, _) => source,
            };
            let session = Session::new(source);
            let view = mount_to(element, move || {
                view! { <Widget config=config.clone() session host=host.clone()/> }
            });
            MountedWidget {
                id: Some(keep_mounted(Box::new(view))),
                session: Some(session),
            }
        }
        Err(e) => {
            web_sys::console::error_1(&format!("vantage-sync-status: {e}").into());
            let text = e.to_string();
            let view = mount_to(element, move || {
                view! {
                    <section class="vss-root" aria-label="Sync status">
                        <p class="vss-banner" role="alert">{text.clone()}</p>
                    </section>
                }
            });
            MountedWidget {
                id: Some(keep_mounted(Box::new(view))),
                session: None,
            }
        }
    }
}

/// Defines `<vantage-sync-status>`; called once when the module starts.
pub fn define_custom_element() {
    let mount = Closure::<dyn Fn(web_sys::HtmlElement, JsValue) -> JsValue>::new(
        |element, options: JsValue| JsValue::from(mount(element, &options)),
    );
    define_element(mount.as_ref().unchecked_ref());
    // The element class keeps calling it for the page's lifetime.
    mount.forget();
}

/// The options object as setting pairs (camelCase names become kebab-case; whole numbers
/// become text) and the `getAccessToken` function, if any.
fn read_options(options: &JsValue) -> (Vec<(String, String)>, Option<Function>) {
    let get_token = Reflect::get(options, &"getAccessToken".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    (object_settings(options), get_token)
}
