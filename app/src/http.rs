//! The fetch layer: every request the widget sends goes out here, with the browser's `fetch`
//! and a time limit, and every answer comes back as a [`Reply`], read the same way whether it was
//! sent here or by `index.html`'s head script before the wasm ran (`boot.rs`).

use wasm_bindgen::{JsCast, JsValue};
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
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Option<Reply> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let header_map = web_sys::Headers::new().ok()?;
    for (name, value) in headers {
        header_map.set(name, value).ok()?;
    }
    init.set_headers(&header_map);
    if let Some(body) = body {
        init.set_body(&body.into());
    }
    // A read that hangs would hold every later one back (one read at a time): give up, and
    // the failure's backoff takes over.
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(
        REQUEST_TIMEOUT_MS,
    )));
    let pending = web_sys::window()?.fetch_with_str_and_init(url, &init);
    let response: web_sys::Response = JsFuture::from(pending).await.ok()?.dyn_into().ok()?;
    let body = match response.json() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    };
    Some(Reply {
        status: response.status(),
        date: response.headers().get("date").ok().flatten(),
        body,
    })
}
