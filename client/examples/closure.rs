//! The closure API: start a run of `example_accounts`, report progress, and complete it with
//! counts; `fail` makes the closure return an error (the run is failed), `panic` makes it panic
//! (the run is failed, then the panic goes on).
//!
//! ```sh
//! cargo xtask up && set -a && . target/stack/env && set +a
//! VANTAGE_SYNC_URL=$EDGE_URL VANTAGE_SYNC_TOKEN=$WRITER_TOKEN \
//!   cargo run -p vantage-sync --example closure [-- ok|fail|panic]
//! ```

use std::process::ExitCode;

use vantage_sync::{Client, Counts};

fn main() -> ExitCode {
    let how = std::env::args().nth(1).unwrap_or_else(|| "ok".into());
    let client = match Client::from_env() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(e.exit_code());
        }
    };
    let result = client.run("example_accounts", |run| {
        println!(
            "run {} syncs what changed since {:?}",
            run.run_id(),
            run.watermark()
        );
        for page in 1..=3 {
            // fetch a page of accounts from Vantage, upsert it, then say how far it got:
            if let Err(e) = run.progress(page * 50) {
                eprintln!("a heartbeat was not received: {e}");
            }
        }
        match how.as_str() {
            "fail" => Err("Vantage answered 503 three times"),
            "panic" => panic!("a bug in the job"),
            _ => Ok(Counts {
                records_synced: 150,
                records_created: 10,
                records_updated: 140,
            }),
        }
    });
    match result {
        Ok(counts) => {
            println!("completed: {} records", counts.records_synced);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}
