//! PostgREST and Supabase Auth through the runtime's global `fetch`, each call bounded by
//! `AbortSignal.timeout` (which also covers reading the answer's body).

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use vantage_edge_core::postgrest::PENDING_HEADER;
use vantage_edge_core::{Upstream, UpstreamError, UpstreamErrorKind};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::convert::{copy_named_headers, to_web_headers};
use crate::js;

/// The largest upstream answer read (as in the native server: the health view of 10,000
/// resources is about 4 MB).
pub const MAX_UPSTREAM_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// The answer headers handed to the core: it reads only the webhook outbox's flag (besides
/// status and body), so copying every header across the boundary would be work for nothing;
/// add names here if the core starts to read more.
const FORWARDED_ANSWER_HEADERS: [&str; 2] = ["content-type", PENDING_HEADER];

/// `fetch` with a timeout on every call.
#[derive(Debug, Clone, Copy)]
pub struct FetchUpstream {
    timeout_ms: u32,
}

impl FetchUpstream {
    /// Calls that give up after `timeout_ms` (capped at `u32::MAX`).
    pub fn new(timeout_ms: u64) -> Self {
        Self {
            timeout_ms: u32::try_from(timeout_ms).unwrap_or(u32::MAX),
        }
    }

    async fn call(
        self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, UpstreamError> {
        let (head, body) = request.into_parts();
        let init = web_sys::RequestInit::new();
        init.set_method(head.method.as_str());
        // A redirect is an answer, never followed: fetch would send the service key or a
        // webhook's body to wherever it points.
        init.set_redirect(web_sys::RequestRedirect::Manual);
        init.set_headers_headers(&to_web_headers(&head.headers).map_err(|e| js_error(&e))?);
        if !body.is_empty() {
            // One copy into a fresh JavaScript array; fetch takes it from there.
            init.set_body(&js_sys::Uint8Array::from(body.as_ref()));
        }
        init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(
            self.timeout_ms,
        )));
        let answer: web_sys::Response =
            JsFuture::from(js::fetch_with_init(&head.uri.to_string(), &init))
                .await
                .map_err(|e| js_error(&e))?
                .unchecked_into();
        let mut response = http::Response::new(Bytes::new());
        *response.status_mut() = http::StatusCode::from_u16(answer.status())
            .map_err(|_| UpstreamError::new(UpstreamErrorKind::Other, "invalid status"))?;
        let web_headers = answer.headers();
        let declared = web_headers
            .get(CONTENT_LENGTH.as_str())
            .ok()
            .flatten()
            .and_then(|n| n.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_UPSTREAM_RESPONSE_BYTES as u64) {
            return Err(too_large());
        }
        copy_named_headers(
            &web_headers,
            response.headers_mut(),
            &FORWARDED_ANSWER_HEADERS,
        );
        let buffer = JsFuture::from(answer.array_buffer().map_err(|e| js_error(&e))?)
            .await
            .map_err(|e| js_error(&e))?;
        let array = js_sys::Uint8Array::new(&buffer);
        if array.length() as usize > MAX_UPSTREAM_RESPONSE_BYTES {
            return Err(too_large());
        }
        // The answer's one copy into wasm memory.
        *response.body_mut() = Bytes::from(array.to_vec());
        Ok(response)
    }
}

impl Upstream for FetchUpstream {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, UpstreamError>> {
        self.call(request)
    }

    /// As `send` (no redirects either way). Names are resolved by the runtime, whose network
    /// policy applies; the core has refused private addresses written in the URL.
    fn send_to_receiver(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, UpstreamError>> {
        self.call(request)
    }
}

fn too_large() -> UpstreamError {
    UpstreamError::new(
        UpstreamErrorKind::TooLarge,
        format!("the answer is larger than {MAX_UPSTREAM_RESPONSE_BYTES} bytes"),
    )
}

/// A rejected `fetch` as the core's error. `AbortSignal.timeout` rejects with a
/// `TimeoutError`; network failures are `TypeError`s. Deno's messages name the URL (no
/// secrets in it) and the cause, never headers.
fn js_error(error: &JsValue) -> UpstreamError {
    let field = |name: &str| {
        js_sys::Reflect::get(error, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let name = field("name");
    let kind = classify(&name);
    let mut message = field("message");
    if message.is_empty() {
        message = error.as_string().unwrap_or_else(|| "fetch failed".into());
    }
    UpstreamError::new(kind, format!("{name}: {message}"))
}

/// The kind of a JavaScript error by its `name`.
fn classify(name: &str) -> UpstreamErrorKind {
    match name {
        "TimeoutError" | "AbortError" => UpstreamErrorKind::Timeout,
        "TypeError" => UpstreamErrorKind::Unavailable,
        _ => UpstreamErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified_by_name() {
        assert_eq!(classify("TimeoutError"), UpstreamErrorKind::Timeout);
        assert_eq!(classify("AbortError"), UpstreamErrorKind::Timeout);
        assert_eq!(classify("TypeError"), UpstreamErrorKind::Unavailable);
        assert_eq!(classify("RangeError"), UpstreamErrorKind::Other);
    }

    #[test]
    fn the_timeout_fits_the_signal() {
        assert_eq!(FetchUpstream::new(10_000).timeout_ms, 10_000);
        assert_eq!(FetchUpstream::new(u64::MAX).timeout_ms, u32::MAX);
    }
}
