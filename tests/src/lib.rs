//! Helpers for the tests that run against the real local stack (`cargo xtask up`): Postgres 15
//! with Supabase's roles, real PostgREST 12 and the API gateway in front of it.
//!
//! - [`Stack`] reads the stack's env file;
//! - [`tokens`] mints legacy HS256 tokens and builds each [`Credential`] the tests send, of the
//!   current keys (publishable, secret) or the legacy ones;
//! - [`Rest`] talks to PostgREST the way supabase-js does, through the stack's gateway or
//!   directly;
//! - [`Db`] asks the database itself, as the superuser, what it holds;
//! - [`lints`] is Supabase's database linter (0001–0029) and the project's own lints, as data;
//! - [`edge`] talks to the edge function and starts extra instances of its native server;
//! - [`browser`] serves the built widget and drives headless Chromium for end-to-end tests;
//! - [`devtools`] sends CDP commands through chromedriver (Chrome's network emulation, heap
//!   usage) and tallies the network events of its performance log;
//! - [`load`] runs simulated ETL jobs at full speed against the edge or PostgREST;
//! - [`postgres_server`] restarts the stack's Postgres in place, for the fault tests;
//! - [`figures`] records the reliability suite's figures for its final table;
//! - [`receiver`] is a webhook receiver on loopback;
//! - [`prometheus`] runs Debian's `promtool` and a Prometheus server scraping one target;
//! - [`static_site`] serves a folder as a CDN does (precompressed, cache headers);
//! - [`plan_tool`] is the shape of the benchmark's plan-driven programs;
//! - [`shaper`] is the benchmark's mobile network: a TCP proxy that charges round trips and
//!   shares a slow link.
//!
//! ```no_run
//! use vantage_sync_tests::{Credential, CredentialKind, Db, Request, Rest, Stack};
//!
//! let stack = Stack::load()?;
//! let rest = Rest::new(&stack)?;
//! let user = Credential::new(CredentialKind::Authenticated, &stack)?;
//! let answer = rest.send(&Request::get("/vantage_sync_state?select=resource"), &user)?;
//! let before = Db::connect(&stack)?.checksum()?;
//! # let _ = (answer, before);
//! # Ok::<(), vantage_sync_tests::Error>(())
//! ```

pub mod browser;
pub mod db;
pub mod devtools;
pub mod edge;
pub mod error;
pub mod figures;
pub mod lints;
pub mod load;
pub mod plan_tool;
pub mod postgres_server;
pub mod prometheus;
pub mod receiver;
pub mod rest;
pub mod shaper;
pub mod spec;
pub mod stack;
pub mod static_site;
pub mod tokens;

pub use db::{Db, SyncState};
pub use error::{Error, Result, check};
pub use rest::{Method, Request, Response, Rest};
pub use stack::Stack;
pub use tokens::{ApiKeys, Credential, CredentialKind};
