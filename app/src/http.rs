//! The fetch layer: every request the widget sends goes out here, through `gloo-net`, with a
//! time limit, and every answer comes back as a [`Reply`], read the same way whether it was
//! sent here or by `index.html`'s head script before the wasm ran (`boot.rs`).

pub use gloo_net::http::Method;
use gloo_net::http::{Headers, RequestBuilder};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// How long a request may take before it counts as no answer.
const REQUEST_TIMEOUT_MS: u32 = 15_000;

/// An HTTP answer, read: its status, `Date` header and parsed JSON body.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The `Date` header.
    pub date: Option<String>,
    /// The body as the browser parsed it (`Response.json()`: no JSON parser ships in the
    /// bundle); `None` when it is not JSON.
    pub body: Option<JsValue>,
}

impl Reply {
    /// Whether the status is a success (2xx).
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends `method url` with `headers` and `body`, and reads the answer. `None`: no answer
/// (network, CORS, a header value the browser refuses, or none within 15 s).
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Option<Reply> {
    // Set here, not with gloo-net's `header()`, which throws on a value the browser refuses
    // (a pasted token with a line break): that is no answer, like a network error.
    let header_map = web_sys::Headers::new().ok()?;
    for (name, value) in headers {
        header_map.set(name, value).ok()?;
    }
    // A read that hangs would hold every later one back (one read at a time): give up, and
    // the failure's backoff takes over.
    let timeout = web_sys::AbortSignal::timeout_with_u32(REQUEST_TIMEOUT_MS);
    let request = RequestBuilder::new(url)
        .method(method)
        .headers(Headers::from_raw(header_map))
        .abort_signal(Some(&timeout));
    let request = match body {
        Some(body) => request.body(body),
        None => request.build(),
    };
    let response = request.ok()?.send().await.ok()?;
    let status = response.status();
    let date = response.headers().get("date");
    let body = match web_sys::Response::from(response).json() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    };
    Some(Reply { status, date, body })
}
