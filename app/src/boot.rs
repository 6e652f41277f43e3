//! The standalone page's early reads. `index.html`'s head script takes the page's settings
//! (inline in the page, else `config.json`) and, when they are the simple ones (REST URL and
//! key in the settings, the session in the URL fragment, no `resource`), the first screen's two
//! reads (the view's first cards, and the counts of `vantage_sync_health_changes`), while the
//! wasm is still loading. On a slow machine that overlaps the read with compiling and starting the
//! module, the largest part of the time to the first cards. The widget takes each answer
//! once, and the read only if it is the very request it would have made (same URL, key and
//! token); anything else it reads itself. Embedded widgets have no head script: `None`.

use js_sys::{Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::http::Reply;

/// The global the head script sets: `{ config, reads }`, two promises: the settings, and the
/// early reads (`[{ url, body, key, token, answer }]`, the first screen's first).
const BOOT: &str = "__vantageSyncBoot";

/// The page's settings as the head script read them (inline, else `config.json`):
/// `Some(null)` when `config.json` is missing or not OK, a
/// string when it is not JSON, else its value. `None`: no head script, read it yourself.
pub async fn config_file() -> Option<JsValue> {
    take("config").await
}

/// The head script's answer to the request for `url` (a POST of `body`, or a GET) with
/// `api_key` and `token`, if it made exactly that request and got an answer: status, `Date`
/// header and parsed body. Each early answer serves once.
pub async fn early_read(
    url: &str,
    body: Option<&str>,
    api_key: &str,
    token: Option<&str>,
) -> Option<Reply> {
    let reads = peek("reads").await?;
    let reads = reads.dyn_into::<js_sys::Array>().ok()?;
    let index = reads.iter().position(|read| {
        let field = |name: &str| Reflect::get(&read, &name.into()).ok()?.as_string();
        field("url").as_deref() == Some(url)
            && field("body").as_deref() == body
            && field("key").as_deref() == Some(api_key)
            && field("token").as_deref() == token
    })?;
    // Taken out, so that a later read of the same URL goes to the server; once every one is
    // taken, the boot object holds nothing more.
    let read = reads
        .splice(u32::try_from(index).ok()?, 1, &JsValue::UNDEFINED)
        .get(0);
    if reads.iter().all(|r| r.is_undefined()) {
        let _ = take("reads").await;
    }
    let answer = Reflect::get(&read, &"answer".into()).ok()?;
    let answer = JsFuture::from(answer.dyn_into::<Promise>().ok()?)
        .await
        .ok()?;
    if answer.is_null() {
        return None;
    }
    let get = |name: &str| Reflect::get(&answer, &name.into()).ok();
    // Statuses are whole numbers below 1000.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let status = get("status")?.as_f64()? as u16;
    Some(Reply {
        status,
        date: get("date").and_then(|d| d.as_string()),
        body: get("body").filter(|b| !b.is_undefined()),
    })
}

/// Waits until the head script's first read has its answer (or has failed), for at most
/// `patience_ms`; at once when there is none. The standalone page mounts after it, so that its
/// first cards are drawn in the same task as the rest of the widget: one layout and paint,
/// not the empty widget first and the cards a frame later. The answer stays for
/// [`early_read`]. The patience keeps a slow server from holding the page blank: after it the
/// widget shows "Loading…" as it would without a head script.
pub async fn first_read_settled(patience_ms: i32) {
    let Some(reads) = peek("reads").await else {
        return;
    };
    let Ok(answer) =
        Reflect::get(&reads, &0.into()).and_then(|r| Reflect::get(&r, &"answer".into()))
    else {
        return;
    };
    let Ok(answer) = answer.dyn_into::<Promise>() else {
        return;
    };
    let timer = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ =
                window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, patience_ms);
        }
    });
    let _ = JsFuture::from(Promise::race(&js_sys::Array::of2(&answer, &timer))).await;
}

/// The boot object's promise `name`, removed from it when `take` (each early read serves
/// once); `None` without a head script.
fn boot_promise(name: &str, take: bool) -> Option<Promise> {
    let boot = Reflect::get(&js_sys::global(), &BOOT.into()).ok()?;
    if !boot.is_object() {
        return None;
    }
    let promise = Reflect::get(&boot, &name.into())
        .ok()?
        .dyn_into::<Promise>()
        .ok()?;
    if take {
        // Deleting a property of a plain object cannot fail.
        let _ = Reflect::delete_property(boot.unchecked_ref::<js_sys::Object>(), &name.into());
    }
    Some(promise)
}

/// Awaits the boot object's `name`, leaving it in place; `None` when absent or `null`.
async fn peek(name: &str) -> Option<JsValue> {
    let value = JsFuture::from(boot_promise(name, false)?).await.ok()?;
    (!value.is_null()).then_some(value)
}

/// Awaits and removes the boot object's `name` (`config`, whose `null` is an answer too).
async fn take(name: &str) -> Option<JsValue> {
    JsFuture::from(boot_promise(name, true)?).await.ok()
}
