//! The vantage-sync edge function, runtime-free: an `http::Request` in, an `http::Response`
//! and a [`LogLine`] out. It is the only writer of sync state: ETL jobs call it with a writer
//! token, admins with their Supabase session, and it calls the SQL functions through PostgREST
//! with the project's secret key.
//!
//! Nothing here touches a runtime: PostgREST is reached through an injected [`Upstream`], time
//! comes from an injected [`Clock`], request ids from the adapter. The native server
//! (`edge/server`, axum) and the Supabase Edge Functions adapter (Deno + wasm) stay thin:
//!
//! ```ignore
//! let edge = Edge::new(Config::from_env(|name| std::env::var(name).ok())?, upstream, clock);
//! let ctx = edge.begin(request_id);
//! if let Some(early) = edge.check_head(&head, &ctx) { return early; }   // 404/405/413/preflight
//! let body = read_at_most(body, MAX_BODY_BYTES)?;                         // else payload_too_large
//! let handled = edge.handle(http::Request::from_parts(head, body), &ctx).await;
//! println!("{}", handled.log.to_json());
//! handled.response
//! ```
//!
//! Routes (under `/functions/v1/vantage-sync/` or `/vantage-sync/`): `POST start`,
//! `POST complete`, `POST fail` (writer token), `POST abort` (sync admin's JWT), `GET health`
//! (either). Errors are `{"error":{"code","message"}}` with the codes of [`EdgeError::code`].

pub mod auth;
pub mod clock;
pub mod config;
pub mod cors;
mod edge;
pub mod error;
mod handlers;
pub mod log;
pub mod postgrest;
pub mod receivers;
pub mod routes;
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
pub use handlers::HEALTH_COLUMNS;
pub use log::LogLine;
pub use upstream::{Upstream, UpstreamError, UpstreamErrorKind};
pub use validation::MAX_BODY_BYTES;
