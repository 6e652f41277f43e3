//! `cargo xtask demo`: the stack with sample data in every health state, until Ctrl-C.

use std::sync::mpsc;

use crate::error::{Result, XtaskError};
use crate::progress::Step;
use crate::stack::{Stack, dev_stack_dir};

const DEMO_DATA_SQL: &str = include_str!("demo_data.sql");

/// The spec's monitoring dashboard query, shown so the states are visible without a browser.
const DASHBOARD_SQL: &str = "\
SELECT resource, last_sync_status AS status,
       CASE
         WHEN last_sync_status = 'failed' THEN 'red'
         WHEN last_sync_status = 'running' AND started_at < now() - interval '30 minutes' THEN 'red'
         WHEN last_sync_time < now() - interval '24 hours' THEN 'yellow'
         WHEN last_sync_status = 'never_run' THEN 'yellow'
         ELSE 'green'
       END AS health,
       round(extract(epoch FROM now() - last_sync_time) / 3600, 1) AS hours_since_sync,
       records_synced, duration_ms, jsonb_array_length(errors) AS errors
FROM public.vantage_sync_state
ORDER BY CASE WHEN last_sync_status = 'failed' OR (last_sync_status = 'running'
              AND started_at < now() - interval '30 minutes') THEN 1
              WHEN last_sync_time < now() - interval '24 hours' OR last_sync_status = 'never_run' THEN 2
              ELSE 3 END, resource";

/// Starts the dev stack, loads the demo data, shows it, and stops everything on Ctrl-C.
pub fn run() -> Result<()> {
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(|e| XtaskError::Stack(format!("cannot handle Ctrl-C: {e}")))?;

    let stack = Stack::at(dev_stack_dir());
    let running = match stack.up() {
        Ok(running) => running,
        Err(e) => {
            // Leave nothing half-started behind.
            stack.down()?;
            return Err(e);
        }
    };
    let step =
        Step::start("Loading demo data: success, running, stuck, failed, stale, never run, slow");
    running.psql.sql(DEMO_DATA_SQL)?;
    step.done();

    println!("\nSync health (the spec's dashboard query):\n");
    let table = running.psql.table(DASHBOARD_SQL)?;
    println!("{table}");
    running.print_summary();
    let get = |k: &str| running.env.get(k).unwrap_or("?").to_owned();
    println!("\nRead it as the signed-in admin would (role authenticated, read-only):");
    println!(
        "  curl -H 'Authorization: Bearer {}' '{}/vantage_sync_state?select=resource,last_sync_status,last_sync_time'",
        get("AUTHENTICATED_JWT"),
        get("POSTGREST_URL")
    );
    println!("\nPress Ctrl-C to stop the demo and remove its stack.");

    let _ = rx.recv();
    let step = Step::start("Stopping the demo stack");
    stack.down()?;
    step.done();
    Ok(())
}
