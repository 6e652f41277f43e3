//! The one error type of the test helpers.

use std::fmt;
use std::path::PathBuf;

/// What can go wrong while talking to the local stack.
///
/// `Debug` prints the same text as `Display` plus the chain of causes, so a test that returns
/// `Err` explains itself instead of dumping a struct.
#[derive(thiserror::Error)]
pub enum Error {
    /// The stack's env file does not exist: no stack is running.
    #[error("no local stack: run `cargo xtask up` (or `cargo xtask test`); {} does not exist", path.display())]
    NoStack {
        /// The env file that was looked for.
        path: PathBuf,
    },
    /// A file could not be read.
    #[error("reading {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The env file lacks a key the tests need.
    #[error("{} has no {key}; restart the stack (`cargo xtask down`, then `cargo xtask up`)", path.display())]
    MissingKey {
        /// The missing key.
        key: &'static str,
        /// The env file.
        path: PathBuf,
    },
    /// The env file or a folder copy failed (unreadable, a value not quoted as written).
    #[error(transparent)]
    Files(#[from] vantage_dev_files::Error),
    /// A token could not be signed.
    #[error("signing a JWT: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    /// A token's claims could not be encoded.
    #[error("encoding JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// An HTTP request failed before any answer arrived.
    #[error("HTTP {what}: {source}")]
    Http {
        /// The request, e.g. `GET /vantage_sync_state`.
        what: String,
        /// The cause.
        source: reqwest::Error,
    },
    /// A body that should be JSON is not.
    #[error("{what}: body is not JSON ({source}): {body}")]
    NotJson {
        /// The request that answered it.
        what: String,
        /// The body as received.
        body: String,
        /// The cause.
        source: serde_json::Error,
    },
    /// An async runtime (the SQL client's, the webhook receiver's) could not start.
    #[error("starting an async runtime: {0}")]
    Runtime(std::io::Error),
    /// A SQL statement failed.
    #[error("SQL: {0}")]
    Sql(#[from] tokio_postgres::Error),
    /// An edge server started by a test did not come up, or the stack has no edge.
    #[error("edge: {0}")]
    Edge(String),
    /// A signal could not be sent to a process a test started.
    #[error("sending a signal to process {pid}: {source}")]
    Signal {
        /// The process.
        pid: u32,
        /// The kernel's answer.
        source: nix::errno::Errno,
    },
    /// A socket of a server or proxy the benchmark runs failed.
    #[error("{what}: {source}")]
    Net {
        /// What was being done, with the address.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A server a test stops, restarts or measures misbehaved, or a figure is out of bounds.
    #[error("{0}")]
    Check(String),
}

impl Error {
    /// A `map_err` adapter for I/O on `path`.
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)?;
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            write!(f, "\n  caused by: {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

/// The helpers' result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Ok(())` when `condition` holds, else a failed check with `what` as its message.
pub fn check(condition: bool, what: impl FnOnce() -> String) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(Error::Check(what()))
    }
}
