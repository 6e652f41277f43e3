//! The injected HTTP client towards PostgREST and Supabase Auth.
//!
//! Adapters implement [`Upstream`] with their runtime's client (reqwest natively, `fetch` under
//! Deno) and enforce the timeout of [`crate::Config::upstream_timeout_ms`] on every call; the
//! core only builds requests and reads answers.

use std::future::Future;

use bytes::Bytes;
use http::{Request, Response};

/// Sends one HTTP request and returns the whole answer.
pub trait Upstream {
    /// Sends `request` (absolute URI, all headers set, body complete). An HTTP error status is
    /// an `Ok` answer; `Err` means no answer arrived.
    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Bytes>, UpstreamError>>;

    /// Sends `request` to a webhook receiver: a URL a subscriber chose, not one the deployment
    /// configured. The core has checked the URL ([`crate::receivers::url_problem`]); an
    /// adapter must not follow redirects (a receiver could redirect to a private address),
    /// and one that resolves names itself must refuse names that resolve to an address
    /// [`crate::receivers::is_public_address`] refuses, unless private receivers are allowed.
    /// No default: every adapter decides this for its client.
    fn send_to_receiver(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Bytes>, UpstreamError>>;
}

/// Why no answer arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamErrorKind {
    /// The call took longer than the configured timeout.
    Timeout,
    /// The connection could not be made or broke (refused, reset, DNS).
    Unavailable,
    /// The answer was larger than the adapter accepts.
    TooLarge,
    /// The adapter would not connect: a webhook receiver's name resolved to no public
    /// address (see [`Upstream::send_to_receiver`]).
    NotPublic,
    /// Anything else (an invalid request, a runtime error).
    Other,
}

/// A failed upstream call. `message` goes to logs only, never to callers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct UpstreamError {
    /// What kind of failure.
    pub kind: UpstreamErrorKind,
    /// A description for the log line (no secrets: adapters must not include headers).
    pub message: String,
}

impl UpstreamError {
    /// An error of `kind` with `message`.
    pub fn new(kind: UpstreamErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}
