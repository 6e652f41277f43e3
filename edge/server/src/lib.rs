//! The native server of the vantage-sync edge function: the runtime-free core
//! (`vantage-edge-core`) behind axum, with reqwest towards PostgREST. For self-hosting and for
//! the local stack (`cargo xtask up`); Supabase runs the same core under Deno.
//!
//! This crate only adapts: the core's [`serve()`] runs every request's course (head checks, the
//! body up to 64 KiB, the answer, the log line, webhook deliveries after the answer). Here are
//! the axum body it reads from, tokio that runs the deliveries, request ids, the log line as
//! one JSON line on stdout, and the upstream timeout ([`upstream`]).

pub mod clock;
pub mod receivers;
pub mod upstream;

use std::io::Write;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::HeaderMap;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use vantage_edge_core::{BodyError, BodyReader, Deliveries, Edge, LogLine, Runtime, serve};

pub use clock::SystemClock;
pub use upstream::{MAX_UPSTREAM_RESPONSE_BYTES, ReqwestUpstream};

/// The address the server listens on unless `VANTAGE_EDGE_ADDR` says otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:54321";

/// The edge function as this server runs it.
pub type NativeEdge = Edge<ReqwestUpstream, SystemClock>;

/// The router: every path goes to the core, which does its own routing (so that the paths,
/// 404s and 405s are the same on every runtime).
pub fn app(edge: Arc<NativeEdge>) -> Router {
    Router::new().fallback(handle).with_state(edge)
}

async fn handle(State(edge): State<Arc<NativeEdge>>, request: Request) -> Response {
    let (head, body) = request.into_parts();
    serve(&edge, head, AxumBody(body), &TokioRuntime)
        .await
        .map(Body::from)
}

/// A request body as axum hands it over.
struct AxumBody(Body);

impl BodyReader for AxumBody {
    async fn read(self, _headers: &HeaderMap, limit: usize) -> Result<Bytes, BodyError> {
        // `Limited` stops at the limit whatever `Content-Length` said, chunked or not.
        match Limited::new(self.0, limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
            Err(_) => Err(BodyError::Unreadable),
        }
    }
}

/// tokio and stdout: what the core needs of this server's runtime.
#[derive(Debug, Clone, Copy)]
struct TokioRuntime;

impl Runtime<Arc<NativeEdge>> for TokioRuntime {
    fn request_id(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    fn log(&self, line: &LogLine) {
        // One line per request; a closed stdout must not take the server down.
        let _ = writeln!(std::io::stdout().lock(), "{}", line.to_json());
    }

    fn spawn(&self, work: Deliveries<Arc<NativeEdge>, Self>) {
        tokio::spawn(work.run());
    }
}
