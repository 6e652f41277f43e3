//! The heartbeats of a wrapped run: every interval, `progress` with the records synced so far
//! from the report file, on a thread of its own.

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use crate::client::Client;
use crate::error::Error;
use crate::report::{Report, read_report};
use crate::say::warn;

/// A run's heartbeats; they stop when [`Heartbeat::stop`] is called or the process ends.
#[derive(Debug)]
pub struct Heartbeat {
    stop: Sender<()>,
}

/// Which run to keep alive, and how.
#[derive(Debug)]
pub struct Beat {
    /// A client whose retries fit within one interval.
    pub client: Client,
    /// The resource.
    pub resource: String,
    /// The run.
    pub run_id: String,
    /// The report file to read the counts from.
    pub report: PathBuf,
    /// How often.
    pub every: Duration,
}

impl Heartbeat {
    /// Sends the first heartbeat after `beat.every`, then one each `beat.every`.
    pub fn start(beat: Beat) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            let mut last_warning = String::new();
            let mut warn_once = |message: String| {
                if message != last_warning {
                    warn(&message);
                    last_warning = message;
                }
            };
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(beat.every) {
                let synced = match read_report(&beat.report) {
                    Ok(Report::Counts(c)) => Some(c.records_synced),
                    Ok(Report::Empty) => None,
                    Err(e) => {
                        warn_once(e.to_string());
                        None
                    }
                };
                match beat.client.progress(&beat.resource, &beat.run_id, synced) {
                    Ok(()) => {}
                    Err(e @ (Error::NoSuchRoute { .. } | Error::Conflict { .. })) => {
                        warn_once(format!("heartbeats stopped: {e}"));
                        return;
                    }
                    Err(e) => warn_once(format!("a heartbeat was not received: {e}")),
                }
            }
        });
        Self { stop }
    }

    /// Stops the heartbeats. One being sent may still land (it is then refused as late).
    pub fn stop(self) {
        let _ = self.stop.send(());
    }
}
