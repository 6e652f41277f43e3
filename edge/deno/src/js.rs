//! The few JavaScript globals the adapter calls, bound directly (no `window`: Deno has none).

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `crypto.randomUUID()`: the request id.
    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    pub fn random_uuid() -> String;

    /// `console.log(line)`: one JSON log line per request.
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    pub fn console_log(line: &str);

    /// `performance.now()`: a monotonic, fractional millisecond clock.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub fn performance_now() -> f64;

    /// The global `fetch(url, init)`.
    #[wasm_bindgen(js_name = fetch)]
    pub fn fetch_with_init(url: &str, init: &web_sys::RequestInit) -> js_sys::Promise;

    /// A `Response` built by [`BytesResponse::new_response`].
    #[wasm_bindgen(js_name = Response, extends = web_sys::Response)]
    pub type BytesResponse;

    /// The `Response` constructor with a view of wasm memory as the body: the constructor
    /// copies the bytes (the Fetch standard's "extract a body"), so the view may be dropped
    /// afterwards. One copy, no intermediate JavaScript array.
    #[wasm_bindgen(constructor, js_class = "Response", catch)]
    pub fn new_response(
        body: &[u8],
        init: &web_sys::ResponseInit,
    ) -> Result<BytesResponse, JsValue>;
}

/// Runs `work` after the response has gone out. On Supabase the isolate may be stopped once
/// the response is sent, unless the work is handed to `EdgeRuntime.waitUntil`; elsewhere
/// (plain Deno) the promise simply runs on.
pub fn run_after_response(work: impl Future<Output = ()> + 'static) {
    let promise = wasm_bindgen_futures::future_to_promise(async move {
        work.await;
        Ok(JsValue::UNDEFINED)
    });
    let global = js_sys::global();
    let runtime = js_sys::Reflect::get(&global, &JsValue::from_str("EdgeRuntime")).ok();
    let wait_until = runtime
        .as_ref()
        .filter(|r| r.is_object())
        .and_then(|r| js_sys::Reflect::get(r, &JsValue::from_str("waitUntil")).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let (Some(runtime), Some(wait_until)) = (runtime, wait_until) {
        let _ = wait_until.call1(&runtime, &promise);
    }
}
