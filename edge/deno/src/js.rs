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
