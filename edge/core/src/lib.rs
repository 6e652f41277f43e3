//! The vantage-sync edge function, runtime-free: an `http::Request` in, an `http::Response`
//! and a [`LogLine`] out. It is the only writer of sync state: ETL jobs call it with a writer
//! token, admins with their Supabase session, and it calls the SQL functions through PostgREST
//! with the project's secret key.
//!
//! Nothing here touches a runtime: PostgREST is reached through an injected [`Upstream`], time
//! comes from an injected [`Clock`]; the body is read through the adapter's [`BodyReader`],
//! and request ids, log lines and work after the response go through its [`Runtime`]. The
//! native server (`edge/server`, axum) and the Supabase Edge Functions adapter (Deno + wasm)
//! stay thin: each builds the [`Edge`] from its configuration, converts its runtime's request
//! and response types, and calls [`serve()`], which runs the same course everywhere:
//!
//! ```ignore
//! let config = Config::from_env(|name| std::env::var(name).ok())?;
//! let edge = Arc::new(Edge::new(config, upstream, clock));
//! // Per request: head checks (404/405/413/400/preflight) before the body is read, the body
//! // read at most up to MAX_BODY_BYTES, the handler, the log line, then the webhook
//! // deliveries handed to `runtime.spawn` after the answer.
//! let response = serve(&edge, head, body_reader, &runtime).await;
//! ```
//!
//! Routes (under `/functions/v1/vantage-sync/` or `/vantage-sync/`, as in [`routes::Route`]):
//! `POST start`, `POST complete`, `POST fail`, `POST sweep` (writer token), `POST abort`
//! (sync admin's JWT), `GET health` (either), `GET metrics` (writer or metrics token; the
//! OpenMetrics text format). Errors are `{"error":{"code","message"}}` with
//! the codes of [`EdgeError::code`].

mod action;
mod answers;
pub mod auth;
mod body;
pub mod clock;
pub mod config;
mod conflict;
pub mod cors;
pub mod delivery;
mod edge;
pub mod error;
pub mod error_objects;
mod handlers;
pub mod health_query;
pub mod health_rows;
pub mod log;
pub mod metrics;
pub mod names;
pub mod openmetrics;
pub mod pagerduty;
pub mod postgrest;
pub mod receivers;
pub mod request_counts;
pub mod routes;
pub mod serve;
mod strict_json;
pub mod upstream;
pub mod validation;
pub mod webhooks;

pub use auth::writer_token::sha256_hex;
pub use clock::{Clock, FixedClock};
pub use config::{Config, ConfigError, ServiceKey};
pub use edge::{
    Edge, Handled, REQUEST_HEADERS_READ, REQUEST_ID_HEADER, RequestContext, misconfigured,
};
pub use error::EdgeError;
pub use health_rows::HEALTH_COLUMNS;
pub use log::LogLine;
pub use serve::{BodyError, BodyReader, Deliveries, Runtime, serve};
pub use upstream::{Upstream, UpstreamError, UpstreamErrorKind};
pub use validation::MAX_BODY_BYTES;
