//! A request's whole course, the same on every runtime: the head checked, the body read up to
//! [`MAX_BODY_BYTES`], the answer, its log line, then the webhook deliveries it queued.
//!
//! An adapter supplies only what its runtime does its own way: a [`BodyReader`] over its body
//! type and a [`Runtime`] (request ids, where log lines go, how work outlives a response).
//! Nothing here spawns, prints or reads a socket by itself, so the core stays runtime-free.

use std::future::Future;
use std::ops::Deref;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Request, Response};

use crate::clock::Clock;
use crate::edge::Edge;
use crate::error::EdgeError;
use crate::log::LogLine;
use crate::upstream::Upstream;
use crate::validation::MAX_BODY_BYTES;

/// A request body not read yet, over the adapter's body type.
pub trait BodyReader {
    /// Reads the whole body, failing with [`BodyError::TooLarge`] as soon as it would pass
    /// `limit` bytes, so that no more than about `limit` bytes are ever buffered. `headers` are
    /// the request's: a `Content-Length` among them has already been checked against `limit`.
    fn read(
        self,
        headers: &HeaderMap,
        limit: usize,
    ) -> impl Future<Output = Result<Bytes, BodyError>>;
}

/// Why a body was not read to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// It is larger than the limit.
    #[error("the body is larger than the limit")]
    TooLarge,
    /// The stream failed (the client went away mid-body).
    #[error("the body could not be read to its end")]
    Unreadable,
}

impl From<BodyError> for EdgeError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge => Self::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            },
            BodyError::Unreadable => Self::invalid(error.to_string()),
        }
    }
}

/// What an adapter's runtime does for [`serve`]. `E` is the handle to the edge that work after
/// the response keeps (`Arc` natively, `Rc` under Deno); that work keeps a clone of the runtime
/// too, to log its own line.
pub trait Runtime<E>: Clone {
    /// A new request's id (random, or the platform's).
    fn request_id(&self) -> String;

    /// Prints one log line ([`LogLine::to_json`]); never fails the request.
    fn log(&self, line: &LogLine);

    /// Runs `work.run()` after the response has gone out, never before it: a slow webhook
    /// receiver must not slow the caller down. The response does not wait for it.
    fn spawn(&self, work: Deliveries<E, Self>);
}

/// The webhook deliveries a request queued, to send once it has been answered.
#[must_use = "the deliveries are only sent when run"]
#[derive(Debug)]
pub struct Deliveries<E, R> {
    edge: E,
    runtime: R,
    request_id: String,
    resource: String,
}

impl<E, R> Deliveries<E, R> {
    /// The id of the request whose answer queued them (their log line carries it too).
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The resource whose transition queued them.
    pub fn resource(&self) -> &str {
        &self.resource
    }
}

impl<E, R, U, C> Deliveries<E, R>
where
    E: Deref<Target = Edge<U, C>>,
    R: Runtime<E>,
    U: Upstream,
    C: Clock,
{
    /// Sends them ([`Edge::deliver_webhooks`]) and logs their line (route `deliveries`).
    pub async fn run(self) {
        let line = self
            .edge
            .deliver_webhooks(&self.request_id, &self.resource)
            .await;
        self.runtime.log(&line);
    }
}

/// Answers one request, as every adapter must: the head first (a refused request's body is
/// never read), then the body through `body`, at most [`MAX_BODY_BYTES`], then the handler;
/// logs the request's line, counts it by route and status (`GET metrics`) and hands the
/// webhook deliveries it queued to [`Runtime::spawn`]. The adapter only converts the returned
/// response.
pub async fn serve<E, U, C, B, R>(edge: &E, head: Parts, body: B, runtime: &R) -> Response<Bytes>
where
    E: Deref<Target = Edge<U, C>> + Clone,
    U: Upstream,
    C: Clock,
    B: BodyReader,
    R: Runtime<E>,
{
    let ctx = edge.begin(runtime.request_id());
    let handled = match edge.check_head(&head, &ctx) {
        Some(early) => early,
        None => match body.read(&head.headers, MAX_BODY_BYTES).await {
            Ok(bytes) => edge.handle(Request::from_parts(head, bytes), &ctx).await,
            Err(error) => edge.body_refused(&head, &ctx, error.into()),
        },
    };
    runtime.log(&handled.log);
    edge.count(&handled.log);
    if let Some(resource) = handled.deliveries_pending {
        runtime.spawn(Deliveries {
            edge: E::clone(edge),
            runtime: runtime.clone(),
            request_id: handled.log.request_id.clone(),
            resource,
        });
    }
    handled.response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_too_large_is_413_and_an_unreadable_one_400() {
        let too_large = EdgeError::from(BodyError::TooLarge);
        assert_eq!(too_large.status().as_u16(), 413);
        assert_eq!(
            too_large,
            EdgeError::PayloadTooLarge {
                limit: MAX_BODY_BYTES
            }
        );
        let unreadable = EdgeError::from(BodyError::Unreadable);
        assert_eq!(unreadable.status().as_u16(), 400);
        assert_eq!(
            unreadable.to_string(),
            "the body could not be read to its end"
        );
    }
}
