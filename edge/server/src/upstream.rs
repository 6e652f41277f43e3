//! PostgREST and Supabase Auth through reqwest, each call bounded by the configured timeout;
//! webhook receivers through a client of their own (see [`crate::receivers`]).

use std::time::Duration;

use bytes::Bytes;
use vantage_edge_core::{Upstream, UpstreamError, UpstreamErrorKind};

use crate::receivers;

/// The largest upstream answer read (the health view of 10,000 resources is about 4 MB).
pub const MAX_UPSTREAM_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// PostgREST and Supabase Auth through reqwest, with a timeout on every call; webhook
/// receivers through a client of their own (see [`receivers`]).
#[derive(Debug, Clone)]
pub struct ReqwestUpstream {
    client: reqwest::Client,
    receivers: reqwest::Client,
}

impl ReqwestUpstream {
    /// Clients whose every call (connect, send, read the whole answer) ends after `timeout`;
    /// webhook receivers at private addresses only if `allow_private_receivers`.
    pub fn new(timeout: Duration, allow_private_receivers: bool) -> Result<Self, reqwest::Error> {
        // No redirects: reqwest keeps the `apikey` header (the service key) across them.
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let receivers = receivers::client(timeout, allow_private_receivers)?;
        Ok(Self { client, receivers })
    }
}

impl Upstream for ReqwestUpstream {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, UpstreamError> {
        call(&self.client, request).await
    }

    async fn send_to_receiver(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, UpstreamError> {
        call(&self.receivers, request).await
    }
}

/// Sends `request` with `client` and reads the whole answer (at most
/// [`MAX_UPSTREAM_RESPONSE_BYTES`]).
async fn call(
    client: &reqwest::Client,
    request: http::Request<Bytes>,
) -> Result<http::Response<Bytes>, UpstreamError> {
    let (parts, body) = request.into_parts();
    let mut response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(|e| transport_error(&e))?;
    if response
        .content_length()
        .is_some_and(|n| n > MAX_UPSTREAM_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut answer = http::Response::builder().status(response.status());
    if let Some(headers) = answer.headers_mut() {
        headers.extend(response.headers().clone());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e))? {
        if bytes.len() + chunk.len() > MAX_UPSTREAM_RESPONSE_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    answer
        .body(Bytes::from(bytes))
        .map_err(|e| UpstreamError::new(UpstreamErrorKind::Other, e.to_string()))
}

fn too_large() -> UpstreamError {
    UpstreamError::new(
        UpstreamErrorKind::TooLarge,
        format!("the answer is larger than {MAX_UPSTREAM_RESPONSE_BYTES} bytes"),
    )
}

/// reqwest's errors name the URL (no secrets in it) and the cause, never headers.
fn transport_error(error: &reqwest::Error) -> UpstreamError {
    let kind = if error.is_timeout() {
        UpstreamErrorKind::Timeout
    } else if error.is_connect() || error.is_request() || error.is_body() {
        UpstreamErrorKind::Unavailable
    } else {
        UpstreamErrorKind::Other
    };
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<receivers::NotPublic>() {
            return UpstreamError::new(UpstreamErrorKind::NotPublic, refused.to_string());
        }
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    UpstreamError::new(kind, message)
}
