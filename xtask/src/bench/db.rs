//! `cargo xtask bench db`: pgbench of the state functions against a plain UPDATE, and the
//! health view at 10,000 resources and 1,000,000 runs against its floor, with their plans.

use std::path::Path;
use std::process::Command;

use crate::error::{Result, XtaskError};
use crate::process::run_captured;
use crate::progress::Step;
use crate::stack::psql::Psql;
use crate::tools::{self, POSTGRES};

const BENCH_DB_SQL: &str = include_str!("db.sql");

/// One pgbench run: transactions per second and average latency.
struct Rate {
    tps: f64,
    latency_ms: f64,
    failed: f64,
}

fn pgbench(psql: &Psql, script: &str, clients: u32, seconds: u32) -> Result<Rate> {
    let dir = std::env::temp_dir().join(format!("vantage-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(XtaskError::io("creating", &dir))?;
    let file = dir.join("script.sql");
    std::fs::write(&file, script).map_err(XtaskError::io("writing", &file))?;
    let out = run_captured(
        Command::new(pgbench_path()?)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &psql.port().to_string(),
                "-U",
                "postgres",
                "-n",
            ])
            .args([
                "-c",
                &clients.to_string(),
                "-j",
                &clients.to_string(),
                "-T",
                &seconds.to_string(),
            ])
            .arg("-f")
            .arg(&file)
            .arg("postgres"),
    );
    let _ = std::fs::remove_dir_all(&dir);
    let out = out?;
    let value = |prefix: &str| -> Option<f64> {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    let tps = value("tps = ").ok_or(XtaskError::NoReport {
        tool: "pgbench",
        output: out.clone(),
    })?;
    Ok(Rate {
        tps,
        latency_ms: value("latency average = ").unwrap_or(f64::NAN),
        // pgbench prints failed transactions only when there are any (PG 15).
        failed: value("number of failed transactions: ").unwrap_or(0.0),
    })
}

/// The "Execution Time" of one `EXPLAIN (ANALYZE, TIMING OFF)` run of `sql`, in milliseconds.
fn execution_ms(psql: &Psql, sql: &str) -> Result<f64> {
    let out = psql.sql(&format!("EXPLAIN (ANALYZE, TIMING OFF) {sql}"))?;
    out.lines()
        .find_map(|l| l.trim().strip_prefix("Execution Time: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .ok_or(XtaskError::NoReport {
            tool: "EXPLAIN ANALYZE",
            output: out,
        })
}

/// The median execution times of `queries` over `runs` rounds, each round running every query
/// once in turn, so that load from other processes falls on all of them alike.
fn interleaved_medians(psql: &Psql, queries: &[&str], runs: usize) -> Result<Vec<f64>> {
    let mut times = vec![Vec::with_capacity(runs); queries.len()];
    for _ in 0..runs {
        for (sql, samples) in queries.iter().zip(&mut times) {
            samples.push(execution_ms(psql, sql)?);
        }
    }
    Ok(times
        .into_iter()
        .map(|mut samples| {
            samples.sort_by(f64::total_cmp);
            samples[runs / 2]
        })
        .collect())
}

/// The full read of the health view as a dashboard makes it.
const VIEW_SQL: &str = "SELECT * FROM public.vantage_sync_health ORDER BY sort_key";
/// The widget's first page (`?order=sort_key&limit=1000`).
const VIEW_PAGE_SQL: &str = "SELECT * FROM public.vantage_sync_health ORDER BY sort_key LIMIT 1000";
/// The floor: reading and sorting the state table itself, no health at all.
const FLOOR_SQL: &str = "SELECT * FROM public.vantage_sync_state ORDER BY resource COLLATE \"C\"";
/// The floor's first page.
const FLOOR_PAGE_SQL: &str =
    "SELECT * FROM public.vantage_sync_state ORDER BY resource COLLATE \"C\" LIMIT 1000";
/// The state table widened to the view's 32 columns by copies of its own (no join, nothing
/// computed), sorted: what any view of that width costs before it computes anything.
const WIDTH_SQL: &str = "SELECT s.*, s.resource AS c1, s.last_sync_status AS c2, \
    s.last_sync_time AS c3, s.started_at AS c4, s.completed_at AS c5, s.duration_ms AS c6, \
    s.records_synced AS c7, s.errors AS c8, s.consecutive_failures AS c9, s.current_run_id AS c10, \
    s.created_at AS c11, s.updated_at AS c12, s.next_attempt_at AS c13, s.records_created AS c14, \
    s.records_updated AS c15, s.resource AS c16, s.last_sync_time AS c17 \
    FROM public.vantage_sync_state AS s ORDER BY resource COLLATE \"C\"";

/// The widget's read of every row (issue 24): the 23 columns a card shows (its `select=`, which
/// names no computed column: health is computed in the browser), in name order, as its keyset
/// pages read them.
const CARD_READ_SQL: &str = "SELECT resource, last_sync_status, last_sync_time, started_at, \
    completed_at, created_at, updated_at, duration_ms, records_synced, errors, \
    consecutive_failures, stale_after, stuck_after, slow_after, expected_interval, late_grace, \
    next_attempt, retry_max_attempts, next_attempt_at, retries_exhausted, last_heartbeat_at, \
    records_so_far, counts_reported FROM public.vantage_sync_health ORDER BY resource";
/// Its floor: the same columns that the state table has, sorted the same way.
const CARD_FLOOR_SQL: &str = "SELECT resource, last_sync_status, last_sync_time, started_at, \
    completed_at, created_at, updated_at, duration_ms, records_synced, errors, \
    consecutive_failures, next_attempt_at, last_heartbeat_at, records_so_far, counts_reported \
    FROM public.vantage_sync_state ORDER BY resource";
/// The widget's first screen: those columns, problems first, 50 rows.
const CARD_FIRST_SCREEN_SQL: &str = "SELECT resource, last_sync_status, last_sync_time, \
    started_at, completed_at, created_at, updated_at, duration_ms, records_synced, errors, \
    consecutive_failures, stale_after, stuck_after, slow_after, expected_interval, late_grace, \
    next_attempt, retry_max_attempts, next_attempt_at, retries_exhausted, last_heartbeat_at, \
    records_so_far, counts_reported FROM public.vantage_sync_health ORDER BY sort_key LIMIT 50";
/// A refresh with nothing changed: the digest and no rows.
const CHANGES_SQL: &str = "SELECT public.vantage_sync_health_changes(now() - interval '1 minute')";

/// The state functions against a plain `UPDATE`, then the health view at 10,000 resources.
pub fn bench_db(psql: &Psql, seconds: u32) -> Result<()> {
    let clients = 2;
    psql.sql("INSERT INTO public.vantage_sync_state (resource) SELECT 'bench_' || g FROM generate_series(0, 1) g")?;

    let step = Step::start(format!(
        "plain single-row UPDATE, {clients} clients, {seconds}s"
    ));
    let update = pgbench(
        psql,
        "UPDATE public.vantage_sync_state SET records_synced = records_synced + 1 WHERE resource = 'bench_' || :client_id;\n",
        clients,
        seconds,
    )?;
    step.done();

    let step = Step::start(format!(
        "start_vantage_sync + complete_vantage_sync cycles, {clients} clients, {seconds}s"
    ));
    let cycle = pgbench(
        psql,
        "SELECT public.start_vantage_sync('bench_' || :client_id);\n\
         SELECT public.complete_vantage_sync('bench_' || :client_id, 100, 10, 90);\n",
        clients,
        seconds,
    )?;
    step.done();

    let calls = cycle.tps * 2.0;
    // Figures differ between majors: every report says which one it ran on.
    let version = psql.sql("SHOW server_version")?;
    println!(
        "\ncargo xtask bench db — Postgres {} on loopback, fsync off, {clients} clients, {seconds}s per run\n",
        version.trim()
    );
    println!(
        "  plain single-row UPDATE           {:>10.0} tx/s    {:>7.3} ms avg",
        update.tps, update.latency_ms
    );
    println!(
        "  start→complete cycles             {:>10.0} cycles/s {:>7.3} ms avg per cycle, {:.0} failed",
        cycle.tps, cycle.latency_ms, cycle.failed
    );
    println!("  state-function calls              {calls:>10.0} calls/s");
    println!(
        "  ratio calls / UPDATE              {:>10.2}          (goal ≥ 0.50)",
        calls / update.tps
    );
    println!(
        "  ratio cycles / UPDATE             {:>10.2}\n",
        cycle.tps / update.tps
    );
    bench_health_view(psql, seconds)
}

/// The health view at 10,000 resources and 1,000,000 runs: its full read and the widget's first
/// page against their floors, the bound that the view's width sets, a card's history, and the
/// plans.
fn bench_health_view(psql: &Psql, seconds: u32) -> Result<()> {
    let step = Step::start("loading 10,000 resources and 1,000,000 history rows");
    psql.sql(&super::resources::insert_sql(1, 10_000))?;
    psql.sql(BENCH_DB_SQL)?;
    step.done();

    let step = Step::start(format!(
        "health view, full read ordered by sort_key, 1 client, {seconds}s"
    ));
    let view = pgbench(psql, &format!("{VIEW_SQL};\n"), 1, seconds)?;
    step.done();
    let history_sql = "SELECT status, duration_ms FROM public.vantage_sync_runs \
                       WHERE resource = 'bench_view_' || (1 + :client_id) ORDER BY started_at DESC LIMIT 20";
    let history = pgbench(psql, &format!("{history_sql};\n"), 1, seconds)?;
    let step = Step::start("health view against its floors, 21 interleaved EXPLAIN ANALYZE rounds");
    super::search_path::build(psql)?;
    let [before_sql, naive_sql] = super::search_path::VARIANT_READS;
    let medians = interleaved_medians(
        psql,
        &[
            before_sql,
            naive_sql,
            VIEW_SQL,
            FLOOR_SQL,
            VIEW_PAGE_SQL,
            FLOOR_PAGE_SQL,
            WIDTH_SQL,
            CARD_READ_SQL,
            CARD_FLOOR_SQL,
            CARD_FIRST_SCREEN_SQL,
            CHANGES_SQL,
        ],
        21,
    )?;
    super::search_path::drop(psql)?;
    let [
        before_ms,
        naive_ms,
        view_ms,
        floor_ms,
        page_ms,
        floor_page_ms,
        width_ms,
        card_ms,
        card_floor_ms,
        first_screen_ms,
        changes_ms,
    ] = medians[..]
    else {
        return Err(XtaskError::NoReport {
            tool: "EXPLAIN ANALYZE",
            output: format!("{medians:?}"),
        });
    };
    step.done();

    print_view(
        &[view_ms, floor_ms, page_ms, floor_page_ms, width_ms],
        view.latency_ms,
    );
    print_widget_reads(card_ms, card_floor_ms, first_screen_ms, changes_ms);
    print_search_path(before_ms, naive_ms, view_ms);
    println!(
        "  last 20 runs of one resource:                    {:>7.3} ms avg",
        history.latency_ms
    );
    print_plans(psql)
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the view's reads and their floors.
fn print_plans(psql: &Psql) -> Result<()> {
    for sql in [
        VIEW_SQL,
        FLOOR_SQL,
        VIEW_PAGE_SQL,
        FLOOR_PAGE_SQL,
        CARD_READ_SQL,
        CARD_FLOOR_SQL,
    ] {
        let plan = psql.sql(&format!("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}"))?;
        println!("\n  EXPLAIN (ANALYZE, BUFFERS) {sql}:");
        for line in plan.lines() {
            println!("    {line}");
        }
    }
    Ok(())
}

/// The view's full read and first page against their floors, and the width's own cost:
/// `[view, floor, page, floor's page, width]` in ms; `round_trip_ms` from pgbench.
fn print_view(times: &[f64; 5], round_trip_ms: f64) {
    let [view_ms, floor_ms, page_ms, floor_page_ms, width_ms] = *times;
    println!(
        "\n  health view, 10,000 resources, 1,000,000 runs (medians of 21 interleaved EXPLAIN ANALYZE; goal ≤ 1.5x the floor):"
    );
    println!(
        "    full read, ORDER BY sort_key                  {view_ms:>7.2} ms  (view / floor {:.2}x)",
        view_ms / floor_ms
    );
    println!("    floor: the state table alone, sorted          {floor_ms:>7.2} ms");
    println!(
        "    first page, ORDER BY sort_key LIMIT 1000      {page_ms:>7.2} ms  (page / floor's page {:.2}x)",
        page_ms / floor_page_ms
    );
    println!("    floor's first page                            {floor_page_ms:>7.2} ms");
    println!("    the state table widened to the view's 32 columns by copies of its own, sorted");
    println!(
        "      (the cost of the width alone, before any join or rule) {width_ms:>7.2} ms  ({:.2}x the floor)",
        width_ms / floor_ms
    );
    println!("    round trip incl. sending 10,000 rows (pgbench avg) {round_trip_ms:>7.2} ms");
}

/// The view before and after migration `20261208100000` (issue 26), full reads.
fn print_search_path(before_ms: f64, naive_ms: f64, view_ms: f64) {
    println!(
        "  every function sets its search_path (issue 26; migration 20261208100000), full reads:"
    );
    println!("    before: the view calling the rule functions, inlined {before_ms:>7.2} ms");
    println!(
        "    after: the rules written out in the view (shipped) {view_ms:>7.2} ms  ({:.2}x before)",
        view_ms / before_ms
    );
    println!(
        "    not taken: the view calling the rules with their SET clause {naive_ms:>7.2} ms  ({:.2}x before)",
        naive_ms / before_ms
    );
}

/// The widget's reads (issue 24) against the state table's same columns, sorted.
fn print_widget_reads(card_ms: f64, card_floor_ms: f64, first_screen_ms: f64, changes_ms: f64) {
    println!("  the widget's reads (issue 24; goal ≤ 1.5x the floor):");
    println!(
        "    every row, the card's columns, ORDER BY resource {card_ms:>7.2} ms  (view / floor {:.2}x)",
        card_ms / card_floor_ms
    );
    println!("    floor: the same columns of the state table, sorted {card_floor_ms:>7.2} ms");
    println!(
        "    first screen, ORDER BY sort_key LIMIT 50      {first_screen_ms:>7.2} ms  ({:.2}x the floor's full read)",
        first_screen_ms / card_floor_ms
    );
    println!(
        "    a refresh with nothing changed (digest, no rows) {changes_ms:>7.2} ms  ({:.2}x the floor's full read)",
        changes_ms / card_floor_ms
    );
}

/// `pgbench`, which comes with the PostgreSQL server's package.
fn pgbench_path() -> Result<std::path::PathBuf> {
    let postgres = tools::path(&POSTGRES)?;
    Ok(postgres.parent().unwrap_or(Path::new("/")).join("pgbench"))
}
