//! Reading a request body under Deno, never more than the core's limit (`MAX_BODY_BYTES`).
//!
//! With a `Content-Length` (already checked against the limit by the core before the body is
//! read) the body is read in one `arrayBuffer()` call: Deno's HTTP server delivers exactly
//! that many bytes, so it is bounded. Without one (chunked uploads) the stream is read chunk
//! by chunk and cancelled as soon as the total passes the limit, so a client cannot make the
//! function buffer more than 64 KiB plus one chunk.

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_LENGTH;
use vantage_edge_core::{BodyError, BodyReader};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The body of a Fetch `Request`, read when the core asks for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestBody<'a>(pub(crate) &'a web_sys::Request);

impl BodyReader for RequestBody<'_> {
    async fn read(self, headers: &HeaderMap, limit: usize) -> Result<Bytes, BodyError> {
        let Some(stream) = self.0.body() else {
            return Ok(Bytes::new());
        };
        if headers.contains_key(CONTENT_LENGTH) {
            read_whole(self.0, limit).await
        } else {
            read_stream(&stream, limit).await
        }
    }
}

/// A body being collected under a byte limit.
#[derive(Debug)]
pub struct LimitedBody {
    bytes: Vec<u8>,
    limit: usize,
}

impl LimitedBody {
    /// An empty body that may grow to `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            bytes: Vec::new(),
            limit,
        }
    }

    /// The length the next chunk would bring the body to, checked before copying it.
    pub fn accepts(&self, chunk_len: usize) -> Result<(), BodyError> {
        match self.bytes.len().checked_add(chunk_len) {
            Some(total) if total <= self.limit => Ok(()),
            _ => Err(BodyError::TooLarge),
        }
    }

    /// Appends a chunk, or refuses it when the body would pass the limit.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), BodyError> {
        self.accepts(chunk.len())?;
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// Appends a JavaScript chunk, copied straight into the body's buffer (no temporary).
    fn push_array(&mut self, chunk: &js_sys::Uint8Array) -> Result<(), BodyError> {
        let len = chunk.length() as usize;
        self.accepts(len)?;
        let start = self.bytes.len();
        self.bytes.resize(start + len, 0);
        chunk.copy_to(&mut self.bytes[start..]);
        Ok(())
    }

    /// The whole body.
    pub fn finish(self) -> Bytes {
        Bytes::from(self.bytes)
    }
}

/// One `arrayBuffer()`, one copy into wasm memory.
async fn read_whole(request: &web_sys::Request, limit: usize) -> Result<Bytes, BodyError> {
    let promise = request.array_buffer().map_err(|_| BodyError::Unreadable)?;
    let buffer = JsFuture::from(promise)
        .await
        .map_err(|_| BodyError::Unreadable)?;
    let mut body = LimitedBody::new(limit);
    // Checked before copying, whatever Content-Length said.
    body.push_array(&js_sys::Uint8Array::new(&buffer))?;
    Ok(body.finish())
}

/// Chunk by chunk, cancelling the stream once the limit is passed.
async fn read_stream(stream: &web_sys::ReadableStream, limit: usize) -> Result<Bytes, BodyError> {
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body = LimitedBody::new(limit);
    loop {
        let result = JsFuture::from(reader.read())
            .await
            .map_err(|_| BodyError::Unreadable)?;
        let done = js_sys::Reflect::get(&result, &JsValue::from_str("done"))
            .map_err(|_| BodyError::Unreadable)?;
        if done.is_truthy() {
            return Ok(body.finish());
        }
        let value = js_sys::Reflect::get(&result, &JsValue::from_str("value"))
            .map_err(|_| BodyError::Unreadable)?;
        let chunk: js_sys::Uint8Array = value.dyn_into().map_err(|_| BodyError::Unreadable)?;
        if let Err(e) = body.push_array(&chunk) {
            // Stop the upload; the promise is not awaited (nothing more is read either way).
            let _ = reader.cancel();
            return Err(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use vantage_edge_core::MAX_BODY_BYTES;

    use super::*;

    #[test]
    fn a_body_up_to_the_limit_is_kept_whole() {
        let mut body = LimitedBody::new(10);
        assert_eq!(body.push(b"hello"), Ok(()));
        assert_eq!(body.push(b"world"), Ok(()));
        assert_eq!(body.finish(), Bytes::from_static(b"helloworld"));
    }

    #[test]
    fn one_byte_over_the_limit_is_refused_before_copying() {
        let mut body = LimitedBody::new(MAX_BODY_BYTES);
        assert_eq!(body.push(&vec![b' '; MAX_BODY_BYTES - 1]), Ok(()));
        assert_eq!(body.push(b"ab"), Err(BodyError::TooLarge));
        assert_eq!(body.finish().len(), MAX_BODY_BYTES - 1);
    }

    #[test]
    fn a_huge_chunk_length_does_not_overflow() {
        let mut body = LimitedBody::new(4);
        assert_eq!(body.push(b"ab"), Ok(()));
        assert_eq!(body.accepts(usize::MAX), Err(BodyError::TooLarge));
    }
}
