//! Between the Fetch API's `Request`/`Response` and the `http` types of the core.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::request::Parts;
use http::{Method, Uri};
use wasm_bindgen::JsValue;

use vantage_edge_core::REQUEST_HEADERS_READ;

use crate::js;

/// The method, URL and the headers the core reads of `request` (its body is read separately,
/// with a limit).
///
/// Only [`REQUEST_HEADERS_READ`] cross the boundary, one `Headers.get` each: iterating all
/// headers would build a JavaScript array and two strings per header for nothing. A URL the
/// `http` crate cannot parse becomes `/` (a 404); a header value it refuses is left out.
/// Neither happens with what `Deno.serve` hands over.
pub fn request_head(request: &web_sys::Request) -> Parts {
    let method = Method::from_bytes(request.method().as_bytes()).unwrap_or_default();
    let uri = request.url().parse::<Uri>().unwrap_or_default();
    let (mut head, ()) = http::Request::new(()).into_parts();
    head.method = method;
    head.uri = uri;
    copy_named_headers(&request.headers(), &mut head.headers, &REQUEST_HEADERS_READ);
    head
}

/// Copies the headers called `names` (lowercase) of a Fetch `Headers` into `into`, one
/// `Headers.get` each; a value the `http` crate refuses is left out.
pub fn copy_named_headers(
    from: &web_sys::Headers,
    into: &mut http::HeaderMap,
    names: &[&'static str],
) {
    for name in names {
        if let Ok(Some(value)) = from.get(name)
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            into.insert(HeaderName::from_static(name), value);
        }
    }
}

/// A Fetch `Headers` holding `headers` (values that are not visible ASCII are left out: the
/// core only writes ASCII ones).
pub fn to_web_headers(headers: &http::HeaderMap) -> Result<web_sys::Headers, JsValue> {
    let web = web_sys::Headers::new()?;
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            web.append(name.as_str(), value)?;
        }
    }
    Ok(web)
}

/// The Fetch `Response` for the core's answer. The body crosses once: the constructor copies
/// it out of wasm memory. An empty body is `null`, as 204 requires.
pub fn to_web_response(response: http::Response<Bytes>) -> Result<JsValue, JsValue> {
    let (head, body) = response.into_parts();
    let init = web_sys::ResponseInit::new();
    init.set_status(head.status.as_u16());
    init.set_headers_headers(&to_web_headers(&head.headers)?);
    if body.is_empty() {
        web_sys::Response::new_with_opt_u8_array_and_init(None, &init).map(JsValue::from)
    } else {
        js::BytesResponse::new_response(&body, &init).map(JsValue::from)
    }
}
