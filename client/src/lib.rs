//! The job's side of Vantage sync status: a client of the edge function for Rust ETL jobs, and
//! the `vantage-sync` command built on it, which wraps any job.
//!
//! - [`Client`] calls each route (`start`, `progress`, `complete`, `fail`, `health`), retried
//!   on network errors, 5xx and 429; a retried `complete` or `fail` that already landed is a
//!   success.
//! - [`Client::run`] starts a run, runs a closure with its [`Run`], then completes or fails
//!   the run: forgetting to finish it is impossible.
//! - [`wrapper`] is `vantage-sync run <resource> -- <command>`.
//!
//! ```no_run
//! use vantage_sync::{Client, Counts};
//!
//! let client = Client::from_env()?; // VANTAGE_SYNC_URL, VANTAGE_SYNC_TOKEN
//! client.run("accounts", |run| {
//!     // fetch what changed since run.watermark(), upsert it, then:
//!     Ok::<_, std::io::Error>(Counts { records_synced: 150, records_created: 10, records_updated: 140 })
//! })?;
//! # Ok::<(), vantage_sync::Error>(())
//! ```

pub mod cli;
pub mod client;
pub mod error;
pub mod exit;
pub mod health;
pub mod heartbeat;
pub mod outcome;
pub mod report;
pub mod retry;
pub mod run;
pub mod say;
pub mod settings;
pub mod signals;
pub mod tail;
mod transport;
pub mod wrapper;

pub use client::{Client, Failure, Started};
pub use error::{CurrentRun, Error, Result};
pub use report::Counts;
pub use run::Run;
pub use settings::{Settings, WriterToken};
