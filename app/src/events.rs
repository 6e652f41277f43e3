//! What the widget tells its host page, as DOM events dispatched on the element it lives in.
//! They bubble and cross shadow roots (`composed`), so a listener on `document` hears them too.
//!
//! - `vantage-sync:auth-required`: the session expired or is invalid (401, `PGRST301`,
//!   `PGRST303`); sign the user in again and give the widget the new token.
//! - `vantage-sync:health-change`: a resource's health changed between two reads;
//!   `detail` is `{resource, from, to, state}` (`from`/`to`: `red`, `yellow`, `green`;
//!   `state`: the card's word, such as `Failing`).

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

use crate::model::HealthChange;

/// The event sent when the user must sign in again.
pub const AUTH_REQUIRED: &str = "vantage-sync:auth-required";

/// The event sent for each resource whose health changed.
pub const HEALTH_CHANGE: &str = "vantage-sync:health-change";

/// Dispatches `vantage-sync:auth-required` on `host`.
pub fn auth_required(host: &web_sys::EventTarget) {
    dispatch(host, AUTH_REQUIRED, &JsValue::NULL);
}

/// Dispatches one `vantage-sync:health-change` on `host`.
pub fn health_changed(host: &web_sys::EventTarget, change: &HealthChange) {
    let detail = Object::new();
    for (key, value) in [
        ("resource", change.resource.as_str()),
        ("from", change.from.name()),
        ("to", change.to.name()),
        ("state", change.state.word()),
    ] {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&detail, &key.into(), &value.into());
    }
    dispatch(host, HEALTH_CHANGE, &detail);
}

fn dispatch(host: &web_sys::EventTarget, name: &str, detail: &JsValue) {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(detail);
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        // A listener's exception is the host page's; the widget carries on.
        let _ = host.dispatch_event(&event);
    }
}
