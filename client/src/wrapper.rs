//! `vantage-sync run <resource> -- <command>`: start a run, run the command with the run's
//! variables, keep the run alive with heartbeats, pass signals on, then complete or fail the
//! run by how the command ended. Once `start` has answered, the run is always finished.

use std::ffi::OsString;
use std::process::{Command, Stdio};
use std::sync::PoisonError;
use std::sync::mpsc;
use std::time::Duration;

use crate::client::{Client, Failure, Started};
use crate::error::{Error, Result};
use crate::heartbeat::{Beat, Heartbeat};
use crate::outcome::{Ended, Verdict, judge};
use crate::report::{Counts, Report, ReportFile};
use crate::say::{error, warn};
use crate::settings::Settings;
use crate::signals::{Forwarder, name};
use crate::tail::{SharedTail, pass_through};

/// The variables the command gets.
pub const RESOURCE_VAR: &str = "VANTAGE_SYNC_RESOURCE";
/// The run's id.
pub const RUN_ID_VAR: &str = "VANTAGE_SYNC_RUN_ID";
/// Where to sync from (RFC 3339), or empty: everything.
pub const WATERMARK_VAR: &str = "VANTAGE_SYNC_WATERMARK";
/// The report file's path.
pub const REPORT_VAR: &str = "VANTAGE_SYNC_REPORT";

/// One wrapped run.
#[derive(Debug, Clone)]
pub struct Wrap {
    /// The resource.
    pub resource: String,
    /// The command and its arguments (at least the program).
    pub command: Vec<OsString>,
    /// How often to send a heartbeat; `None`: never.
    pub heartbeat: Option<Duration>,
}

/// Runs `wrap` and answers the wrapper's exit code; errors are printed on stderr.
pub fn run_wrapped(settings: &Settings, wrap: &Wrap) -> u8 {
    match start_and_supervise(settings, wrap) {
        Ok(code) => code,
        Err(e) => {
            error(&e.to_string());
            e.exit_code()
        }
    }
}

fn start_and_supervise(settings: &Settings, wrap: &Wrap) -> Result<u8> {
    if wrap.command.is_empty() {
        return Err(Error::Usage(
            "no command to run: put it after --, as in vantage-sync run accounts -- ./sync.sh"
                .into(),
        ));
    }
    // Caught before start: a SIGTERM from here on cannot leave a run behind.
    let forwarder = Forwarder::install()?;
    let client = Client::new(settings)?;
    let started = client.start(&wrap.resource)?;
    let (verdict, counts) = match forwarder.received() {
        Some(signal) => {
            let message = format!("terminated by {} before the command started", name(signal));
            let failure = Failure::new("TERMINATED", message).with("signal", name(signal));
            let code = u8::try_from(128 + signal).unwrap_or(1);
            (
                Verdict {
                    exit_code: code,
                    failure: Some(failure),
                },
                None,
            )
        }
        None => match supervise(settings, wrap, &started, &forwarder) {
            Ok(ended) => ended,
            Err(e) => {
                let failure = Failure::new("WRAPPER_ERROR", e.to_string());
                let _ = report_end(&client, &started, Some(&failure), None);
                return Err(e);
            }
        },
    };
    Ok(
        match report_end(&client, &started, verdict.failure.as_ref(), counts) {
            Ok(()) => verdict.exit_code,
            Err(e @ Error::Conflict { .. }) => {
                warn(&format!(
                    "the run was not recorded as this command ended: {e}"
                ));
                verdict.exit_code
            }
            Err(e) => {
                error(&format!("the end of the run was not recorded: {e}"));
                e.exit_code()
            }
        },
    )
}

/// Completes the run with `counts` (none: no counts reported), or fails it with `failure`.
fn report_end(
    client: &Client,
    started: &Started,
    failure: Option<&Failure>,
    counts: Option<Counts>,
) -> Result<()> {
    match failure {
        None => client.complete(&started.resource, &started.run_id, counts),
        Some(failure) => client.fail(&started.resource, &started.run_id, failure),
    }
}

/// Runs the command to its end: its verdict and the counts it reported.
fn supervise(
    settings: &Settings,
    wrap: &Wrap,
    started: &Started,
    forwarder: &Forwarder,
) -> Result<(Verdict, Option<Counts>)> {
    let report = ReportFile::create(&started.resource, &started.run_id)?;
    let mut command = Command::new(&wrap.command[0]);
    command
        .args(&wrap.command[1..])
        .env(RESOURCE_VAR, &started.resource)
        .env(RUN_ID_VAR, &started.run_id)
        .env(
            WATERMARK_VAR,
            started.sync_watermark.as_deref().unwrap_or(""),
        )
        .env(REPORT_VAR, report.path())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return Ok((not_started(&wrap.command[0], &e), None)),
    };
    forwarder.set_child(Some(child.id()));
    let tail = SharedTail::default();
    let (stderr_done, stderr_ended) = mpsc::channel::<()>();
    if let Some(stderr) = child.stderr.take() {
        let tail = tail.clone();
        std::thread::spawn(move || {
            pass_through(stderr, std::io::stderr(), &tail);
            let _ = stderr_done.send(());
        });
    }
    let heartbeat = match wrap.heartbeat {
        Some(every) => Some(Heartbeat::start(Beat {
            client: Client::new(&settings.clone().retrying_for(every))?,
            resource: started.resource.clone(),
            run_id: started.run_id.clone(),
            report: report.path().to_path_buf(),
            every,
        })),
        None => None,
    };
    let status = child.wait();
    forwarder.set_child(None);
    if let Some(heartbeat) = heartbeat {
        heartbeat.stop();
    }
    // A child of the command may still hold stderr open: do not wait for it long.
    let _ = stderr_ended.recv_timeout(Duration::from_secs(1));
    let status = status.map_err(|e| Error::io("cannot wait for the command", e))?;
    let tail_text = tail.lock().unwrap_or_else(PoisonError::into_inner).text();
    let verdict = judge(Ended::of(status), forwarder.received(), &tail_text);
    let counts = match report.read() {
        Ok(Report::Counts(counts)) => Some(counts),
        Ok(Report::Empty) => None,
        Err(e) => {
            warn(&format!("{e}; the run is recorded without counts"));
            None
        }
    };
    Ok((verdict, counts))
}

/// The command could not be started: 127 when it does not exist, 126 when it may not run, as
/// shells answer.
fn not_started(program: &OsString, e: &std::io::Error) -> Verdict {
    let program = program.to_string_lossy();
    error(&format!("cannot run {program:?}: {e}"));
    let exit_code = match e.kind() {
        std::io::ErrorKind::NotFound => 127,
        std::io::ErrorKind::PermissionDenied => 126,
        _ => crate::exit::EX_IOERR,
    };
    let failure = Failure::new(
        "COMMAND_NOT_STARTED",
        format!("cannot run {program:?}: {e}"),
    );
    Verdict {
        exit_code,
        failure: Some(failure),
    }
}
