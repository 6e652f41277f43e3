//! The crate's one error type: a sentence for the person reading it, and the exit code the
//! command ends with (sysexits). No variant ever holds the writer token.

use std::path::PathBuf;
use std::time::Duration;

use crate::exit::{
    EX_CONFIG, EX_DATAERR, EX_IOERR, EX_SOFTWARE, EX_TEMPFAIL, EX_UNAVAILABLE, EX_USAGE,
};

/// The run the edge named in a 409: the resource's current run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CurrentRun {
    /// Its id, when the edge named one.
    pub run_id: Option<String>,
    /// Its status (`running`, `success`, `failed`).
    pub status: Option<String>,
    /// When it started (the database's clock).
    pub started_at: Option<String>,
    /// When it finished, if it did.
    pub completed_at: Option<String>,
}

/// Everything the client and the command can fail with. `Display` is a sentence that says what
/// to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Neither `--url` nor `VANTAGE_SYNC_URL` is set.
    #[error(
        "no function URL: set VANTAGE_SYNC_URL (or pass --url) to https://<ref>.supabase.co/functions/v1/vantage-sync"
    )]
    MissingUrl,
    /// The URL does not parse, or is not http(s).
    #[error("VANTAGE_SYNC_URL / --url {url:?} is not a usable URL: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// Why not.
        reason: String,
    },
    /// Neither `--token-file` nor `VANTAGE_SYNC_TOKEN` is set.
    #[error("no writer token: set VANTAGE_SYNC_TOKEN or pass --token-file PATH")]
    MissingToken,
    /// The token file could not be read, or holds no token.
    #[error("cannot read the writer token from {}: {reason}", path.display())]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// Why not (never its content).
        reason: String,
    },
    /// A flag's value is wrong (a duration, a count).
    #[error("{0}")]
    Usage(String),
    /// The edge refused the token (401) or what it allows (403).
    #[error("the function refused the writer token ({status}): {message}")]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The edge's message.
        message: String,
    },
    /// The URL answers, but not as the function does (an HTML page, another API's JSON).
    #[error(
        "{url} does not answer as the vantage-sync function ({status}{detail}); VANTAGE_SYNC_URL must end in /functions/v1/vantage-sync"
    )]
    NotTheFunction {
        /// The URL called (never with the token).
        url: String,
        /// The HTTP status it answered.
        status: u16,
        /// What it said, shortened.
        detail: String,
    },
    /// The edge answered 404 `not_found` for a route it does not have (an older edge).
    #[error("the function has no route {route}: it is older than this client ({message})")]
    NoSuchRoute {
        /// The route called.
        route: String,
        /// The edge's message.
        message: String,
    },
    /// `start` of a resource whose run is in progress.
    #[error("{message}")]
    InProgress {
        /// The edge's sentence.
        message: String,
        /// The run in progress (boxed: it keeps the error small).
        current_run: Box<CurrentRun>,
    },
    /// Any other 409: the run is no longer current, or already finished otherwise.
    #[error("{message}")]
    Conflict {
        /// The edge's sentence.
        message: String,
        /// The resource's current run, when the edge named it.
        current_run: Option<Box<CurrentRun>>,
    },
    /// The edge refused the request's values (400, 404 `unknown_resource`, 413, 422).
    #[error("the function refused the request ({code}): {message}")]
    Refused {
        /// The edge's stable code.
        code: String,
        /// The edge's sentence.
        message: String,
    },
    /// No answer (or only 5xx / 429) for the whole retry time.
    #[error("could not reach the function at {url} for {:.1}s ({attempts} attempts): {last}", after.as_secs_f64())]
    Unreachable {
        /// The URL called.
        url: String,
        /// How long it was tried.
        after: Duration,
        /// How many attempts were made.
        attempts: u32,
        /// The last network error or status.
        last: String,
    },
    /// A 2xx answer that is not what the route answers.
    #[error("the function's answer to {route} is not what it should be: {detail}")]
    BadAnswer {
        /// The route called.
        route: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The wrapped command could not be started.
    #[error("cannot run {program:?}: {source}")]
    Spawn {
        /// The program named after `--`.
        program: String,
        /// Why not.
        source: std::io::Error,
    },
    /// A local file or pipe failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The report file holds something that is not counts.
    #[error("the report file {} {reason}", path.display())]
    BadReport {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The closure of [`Client::run`](crate::Client::run) returned an error; the run was failed.
    #[error("run {run_id} of {resource:?} failed: {message}")]
    JobFailed {
        /// The resource.
        resource: String,
        /// The run that was failed.
        run_id: String,
        /// The closure's error, as text.
        message: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The exit code the command ends with when this stops it (sysexits).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::MissingUrl
            | Self::BadUrl { .. }
            | Self::MissingToken
            | Self::TokenFile { .. }
            | Self::Unauthorized { .. }
            | Self::NotTheFunction { .. }
            | Self::NoSuchRoute { .. } => EX_CONFIG,
            Self::Usage(_) => EX_USAGE,
            Self::Refused { .. } | Self::BadReport { .. } => EX_DATAERR,
            Self::InProgress { .. } | Self::Conflict { .. } => EX_TEMPFAIL,
            Self::Unreachable { .. } => EX_UNAVAILABLE,
            Self::Spawn { .. } | Self::Io { .. } => EX_IOERR,
            Self::BadAnswer { .. } | Self::JobFailed { .. } => EX_SOFTWARE,
        }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }
}
