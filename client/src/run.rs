//! The closure API: [`Client::run`] starts a run, hands the closure a [`Run`], and completes
//! or fails the run by what the closure returns, or fails it when the closure panics (then
//! passes the panic on). A run cannot be left unfinished by forgetting a call.

use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::client::{Client, Failure, Started};
use crate::error::{Error, Result};
use crate::report::Counts;

/// A run in progress, as the closure sees it.
#[derive(Debug)]
pub struct Run<'a> {
    client: &'a Client,
    started: Started,
}

impl Run<'_> {
    /// The resource.
    pub fn resource(&self) -> &str {
        &self.started.resource
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.started.run_id
    }

    /// When it started (the database's clock, RFC 3339).
    pub fn started_at(&self) -> &str {
        &self.started.started_at
    }

    /// Where to sync from: the `started_at` of the last successful run (RFC 3339), or `None`
    /// to sync everything.
    pub fn watermark(&self) -> Option<&str> {
        self.started.sync_watermark.as_deref()
    }

    /// Sends a heartbeat with the records synced so far: the run is judged alive by it.
    pub fn progress(&self, records_synced: u32) -> Result<()> {
        self.client
            .progress(self.resource(), self.run_id(), Some(records_synced))
    }
}

impl Client {
    /// Starts a run of `resource`, runs `job`, then completes the run with the counts it
    /// returns, or fails it with its error ([`Error::JobFailed`]) or its panic (the panic then
    /// goes on).
    ///
    /// ```no_run
    /// use vantage_sync::{Client, Counts};
    ///
    /// let client = Client::from_env()?;
    /// let counts = client.run("accounts", |run| {
    ///     let since = run.watermark(); // None: sync everything
    ///     # let _ = since;
    ///     run.progress(100)?;
    ///     Ok::<_, vantage_sync::Error>(Counts::synced(150))
    /// })?;
    /// # let _ = counts;
    /// # Ok::<(), vantage_sync::Error>(())
    /// ```
    pub fn run<F, E>(&self, resource: &str, job: F) -> Result<Counts>
    where
        F: FnOnce(&Run<'_>) -> std::result::Result<Counts, E>,
        E: Display,
    {
        let started = self.start(resource)?;
        let run = Run {
            client: self,
            started,
        };
        match catch_unwind(AssertUnwindSafe(|| job(&run))) {
            Ok(Ok(counts)) => {
                self.complete(resource, run.run_id(), Some(counts))?;
                Ok(counts)
            }
            Ok(Err(e)) => {
                let message = e.to_string();
                self.fail(
                    resource,
                    run.run_id(),
                    &Failure::new("JOB_FAILED", &message),
                )?;
                Err(Error::JobFailed {
                    resource: resource.to_owned(),
                    run_id: run.run_id().to_owned(),
                    message,
                })
            }
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(ToString::to_string)
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".into());
                let failure = Failure::new("JOB_PANICKED", format!("panicked: {message}"));
                if let Err(e) = self.fail(resource, run.run_id(), &failure) {
                    eprintln!("vantage-sync: could not fail the run after a panic: {e}");
                }
                resume_unwind(panic)
            }
        }
    }
}
