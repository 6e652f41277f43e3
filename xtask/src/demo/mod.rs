//! `cargo xtask demo`: the stack with sample data in every health state, a simulated ETL job
//! that changes states live through the edge function, and a periodic sweep of stuck runs,
//! until Ctrl-C.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

mod etl;

use crate::build::widget;
use crate::error::Result;
use crate::progress::Step;
use crate::stack::{DEMO_DATA_SQL, PgMajor, Stack, dev_stack_dir};
use etl::EtlJob;

/// The health view, as an on-call engineer would first look at it.
const HEALTH_SQL: &str = "\
SELECT resource, health, alerts, last_sync_status AS status,
       round(hours_since_sync::numeric, 1) AS hours_since_sync, running_seconds,
       records_synced, duration_ms, error_count, consecutive_failures AS failures_in_a_row
  FROM public.vantage_sync_health
 ORDER BY sort_key";

/// Sweeps stuck runs and says which.
const SWEEP_SQL: &str = "SELECT string_agg(resource || ' (run ' || run_id || ', stuck for ' \
    || date_trunc('second', stuck_for) || ')', ', ') FROM public.sweep_stuck_vantage_syncs()";

/// How often the demo sweeps stuck runs, as a `pg_cron` job would (see the README).
const SWEEP_EVERY: Duration = Duration::from_secs(300);

/// Starts the dev stack, loads the demo data, shows it, and stops everything on Ctrl-C.
pub fn run(pg: PgMajor) -> Result<()> {
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })?;

    // A fresh stack every time: the demo shows its own data, nothing left from earlier work.
    let stack = Stack::at(dev_stack_dir()).on(pg);
    stack.down()?;
    let mut running = match stack.up() {
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

    println!("\nSync health (public.vantage_sync_health):\n");
    let table = running.psql.table(HEALTH_SQL)?;
    println!("{table}");
    running.print_summary();
    let get = |k: &str| running.env.get(k).unwrap_or("?").to_owned();
    println!("\nRead it as the signed-in admin would (role authenticated, read-only):");
    println!(
        "  curl -H 'apikey: {}' -H 'Authorization: Bearer {}' '{}/rest/v1/vantage_sync_health?select=resource,health,alerts&order=sort_key'",
        get("PUBLISHABLE_KEY"),
        get("AUTHENTICATED_JWT"),
        get("SUPABASE_URL")
    );
    println!(
        "\nStuck runs are swept every {} minutes, as a pg_cron job would. Press Ctrl-C to stop the demo and remove its stack.",
        SWEEP_EVERY.as_secs() / 60
    );
    let served = widget::build_release_to(&running.dir.join("widget"))
        .and_then(|site| running.serve_widget(&site));
    let app_url = match served {
        Ok(url) => url,
        Err(e) => {
            stack.down()?;
            return Err(e);
        }
    };
    println!(
        "\nOpen the widget (signed in as the stack's admin user; it refreshes every 10 s):\n  {app_url}\n"
    );
    println!(
        "A simulated ETL job now drives accounts, cashflows, funds and commitments through the edge function:\n"
    );
    let get = |k: &str| running.env.get(k).unwrap_or("?").to_owned();
    let job = EtlJob::start(&get("EDGE_URL"), &get("WRITER_TOKEN"));

    // Any message, or a closed channel, means Ctrl-C.
    while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(SWEEP_EVERY) {
        let swept = running.psql.sql(SWEEP_SQL)?;
        let swept = swept.trim();
        println!(
            "sweep: {}",
            if swept.is_empty() {
                "nothing stuck"
            } else {
                swept
            }
        );
    }

    job.stop();
    let step = Step::start("Stopping the demo stack");
    stack.down()?;
    step.done();
    Ok(())
}
