//! The `vantage-sync` command line: the flags (clap), the settings they override, and one
//! function per subcommand. Usage errors exit 64, as sysexits has it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::client::{Client, Failure};
use crate::error::Result;
use crate::exit::EX_USAGE;
use crate::health::render;
use crate::report::Counts;
use crate::say::error;
use crate::settings::Settings;
use crate::wrapper::{Wrap, run_wrapped};

/// Reports an ETL job's runs to the Vantage sync-status function: wrap the job, or call each
/// step yourself.
#[derive(Debug, Parser)]
#[command(name = "vantage-sync", version, after_help = EXAMPLE_MAIN)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Step,
}

/// Settings every subcommand takes; each overrides its variable.
#[derive(Debug, Args)]
struct Global {
    #[arg(
        long,
        global = true,
        value_name = "URL",
        help = "The function's URL [default: $VANTAGE_SYNC_URL], e.g. https://<ref>.supabase.co/functions/v1/vantage-sync"
    )]
    url: Option<String>,
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        help = "A file holding the writer token [default: the token in $VANTAGE_SYNC_TOKEN]"
    )]
    token_file: Option<PathBuf>,
    /// How long each call to the function is retried on network errors, 5xx and 429
    /// (90, 90s, 5m, 1h)
    #[arg(long, global = true, value_name = "DURATION", default_value = "2m", value_parser = duration)]
    retry_for: Duration,
}

#[derive(Debug, Subcommand)]
enum Step {
    /// Start a run, run the command, then complete or fail the run by how it ended
    #[command(after_help = EXAMPLE_RUN)]
    Run {
        /// The resource the job syncs
        resource: String,
        /// Send a heartbeat this often with the records so far (0: none)
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration)]
        heartbeat: Duration,
        /// The command and its arguments, after --
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<OsString>,
    },
    #[command(
        about = r#"Start a run; prints {"run_id","sync_watermark","started_at"}"#,
        after_help = EXAMPLE_START
    )]
    Start {
        /// The resource
        resource: String,
    },
    /// Send a heartbeat of a run, with the records synced so far
    #[command(after_help = EXAMPLE_PROGRESS)]
    Progress {
        /// The resource
        resource: String,
        /// The run, as start printed it
        #[arg(long)]
        run_id: String,
        /// Records synced so far
        #[arg(long)]
        records_synced: Option<u32>,
    },
    /// Complete a run, with its counts (none: the run shows that no counts were reported)
    #[command(after_help = EXAMPLE_COMPLETE)]
    Complete {
        /// The resource
        resource: String,
        /// The run, as start printed it
        #[arg(long)]
        run_id: String,
        /// Records synced
        #[arg(long)]
        records_synced: Option<u32>,
        /// Of those, created [default: 0]
        #[arg(long, requires = "records_synced")]
        records_created: Option<u32>,
        /// Of those, updated [default: 0]
        #[arg(long, requires = "records_synced")]
        records_updated: Option<u32>,
    },
    /// Fail a run, saying why
    #[command(after_help = EXAMPLE_FAIL)]
    Fail {
        /// The resource
        resource: String,
        /// The run, as start printed it
        #[arg(long)]
        run_id: String,
        /// What went wrong, in a sentence
        #[arg(long)]
        message: String,
        /// A stable code for it
        #[arg(long, default_value = "JOB_FAILED")]
        code: String,
    },
    /// Print every resource's health; exits 0 all green, 1 any yellow, 2 any red, 3 none
    #[command(after_help = EXAMPLE_HEALTH)]
    Health {
        /// Only this resource
        #[arg(long)]
        resource: Option<String>,
        /// Print the function's answer as JSON
        #[arg(long)]
        json: bool,
    },
}

const EXAMPLE_MAIN: &str = "Example:\n  export VANTAGE_SYNC_URL=https://<ref>.supabase.co/functions/v1/vantage-sync\n  export VANTAGE_SYNC_TOKEN=...   # or --token-file /run/secrets/vantage-writer\n  vantage-sync run accounts -- ./sync-accounts.sh\n\nExit codes: the command's own (or 128 + its signal); 64 usage, 65 refused input,\n69 unreachable, 75 a run in progress, 78 bad settings or refused token.";
const EXAMPLE_RUN: &str = "Example:\n  vantage-sync run accounts -- python sync.py --since \"$VANTAGE_SYNC_WATERMARK\"\n\nThe command gets VANTAGE_SYNC_RESOURCE, VANTAGE_SYNC_RUN_ID, VANTAGE_SYNC_WATERMARK\n(RFC 3339, empty: sync everything) and VANTAGE_SYNC_REPORT, a file it may write its counts\nto at any time: {\"records_synced\":150,\"records_created\":10,\"records_updated\":140}";
const EXAMPLE_START: &str = "Example:\n  run=$(vantage-sync start accounts)\n  run_id=$(jq -r .run_id <<<\"$run\"); since=$(jq -r '.sync_watermark // empty' <<<\"$run\")";
const EXAMPLE_PROGRESS: &str =
    "Example:\n  vantage-sync progress accounts --run-id \"$run_id\" --records-synced 45200";
const EXAMPLE_COMPLETE: &str = "Example:\n  vantage-sync complete accounts --run-id \"$run_id\" --records-synced 150 --records-created 10 --records-updated 140";
const EXAMPLE_FAIL: &str = "Example:\n  vantage-sync fail accounts --run-id \"$run_id\" --code API_TIMEOUT --message 'Vantage did not answer in 30 s'";
const EXAMPLE_HEALTH: &str =
    "Example:\n  vantage-sync health --resource accounts || echo \"accounts is not green\"";

/// Parses `args` (the program's name first), runs the subcommand, answers the exit code.
pub fn main_with(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EX_USAGE } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            error(&e.to_string());
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    let settings = Settings::resolve(
        cli.global.url.as_deref(),
        cli.global.token_file.as_deref(),
        |name| std::env::var(name).ok(),
    )?
    .retrying_for(cli.global.retry_for);
    let client = || Client::new(&settings);
    match cli.command {
        Step::Run {
            resource,
            heartbeat,
            command,
        } => {
            let heartbeat = (!heartbeat.is_zero()).then_some(heartbeat);
            Ok(run_wrapped(
                &settings,
                &Wrap {
                    resource,
                    command,
                    heartbeat,
                },
            ))
        }
        Step::Start { resource } => {
            let started = client()?.start(&resource)?;
            let printed = serde_json::json!({
                "run_id": started.run_id,
                "sync_watermark": started.sync_watermark,
                "started_at": started.started_at,
            });
            println!("{printed}");
            Ok(0)
        }
        Step::Progress {
            resource,
            run_id,
            records_synced,
        } => {
            client()?.progress(&resource, &run_id, records_synced)?;
            Ok(0)
        }
        Step::Complete {
            resource,
            run_id,
            records_synced,
            records_created,
            records_updated,
        } => {
            let counts = records_synced.map(|records_synced| Counts {
                records_synced,
                records_created: records_created.unwrap_or(0),
                records_updated: records_updated.unwrap_or(0),
            });
            client()?.complete(&resource, &run_id, counts)?;
            Ok(0)
        }
        Step::Fail {
            resource,
            run_id,
            message,
            code,
        } => {
            client()?.fail(&resource, &run_id, &Failure::new(code, message))?;
            Ok(0)
        }
        Step::Health { resource, json } => {
            let answer = client()?.health(resource.as_deref())?;
            let (table, code) = render(&answer);
            if json {
                println!("{answer}");
            } else {
                print!("{table}");
            }
            Ok(code)
        }
    }
}

/// Reads a duration: `90` or `90s` seconds, `500ms`, `5m`, `1h`.
fn duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: write 90, 90s, 500ms, 5m or 1h"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(n)),
        "ms" => Ok(Duration::from_millis(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!(
            "{text:?} has an unknown unit {unit:?}: use ms, s, m or h"
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_are_read() {
        assert_eq!(duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(duration("soon").is_err());
        assert!(duration("5d").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn run_takes_the_command_after_the_double_dash() {
        let cli = Cli::try_parse_from([
            "vantage-sync",
            "run",
            "accounts",
            "--",
            "sh",
            "-c",
            "exit 3",
        ])
        .unwrap();
        let Step::Run {
            resource,
            command,
            heartbeat,
        } = cli.command
        else {
            panic!()
        };
        assert_eq!(resource, "accounts");
        assert_eq!(command, ["sh", "-c", "exit 3"]);
        assert_eq!(heartbeat, Duration::from_secs(60));
    }
}
