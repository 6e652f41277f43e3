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

/// The median "Execution Time" of `runs` EXPLAIN ANALYZE runs of `sql`, in milliseconds.
fn median_execution_ms(psql: &Psql, sql: &str, runs: usize) -> Result<f64> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let out = psql.sql(&format!("EXPLAIN (ANALYZE, TIMING OFF) {sql}"))?;
        let ms = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("Execution Time: "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .ok_or_else(|| XtaskError::NoReport {
                tool: "EXPLAIN ANALYZE",
                output: out.clone(),
            })?;
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[runs / 2])
}

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

    let step = Step::start("loading 10,000 resources and 1,000,000 history rows");
    psql.sql(BENCH_DB_SQL)?;
    step.done();

    let view_sql = "SELECT * FROM public.vantage_sync_health ORDER BY sort_key";
    let step = Step::start(format!(
        "health view, full read ordered by sort_key, 1 client, {seconds}s"
    ));
    let view = pgbench(psql, &format!("{view_sql};\n"), 1, seconds)?;
    step.done();
    let history_sql = "SELECT status, duration_ms FROM public.vantage_sync_runs \
                       WHERE resource = 'bench_view_' || (1 + :client_id) ORDER BY started_at DESC LIMIT 20";
    let history = pgbench(psql, &format!("{history_sql};\n"), 1, seconds)?;
    let plan = psql.sql(&format!(
        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {view_sql}"
    ))?;
    let server_ms = median_execution_ms(psql, view_sql, 21)?;
    let unordered_ms = median_execution_ms(psql, "SELECT * FROM public.vantage_sync_health", 21)?;
    // The floor: reading and sorting the state table itself, no health at all.
    let floor_ms = median_execution_ms(
        psql,
        "SELECT * FROM public.vantage_sync_state ORDER BY resource COLLATE \"C\"",
        21,
    )?;

    let calls = cycle.tps * 2.0;
    println!(
        "\ncargo xtask bench db — Postgres 15 on loopback, fsync off, {clients} clients, {seconds}s per run\n"
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
        "  ratio cycles / UPDATE             {:>10.2}",
        cycle.tps / update.tps
    );
    println!("\n  health view, 10,000 resources, 1,000,000 runs (goal < 20 ms):");
    println!("    executed in the server (median of 21 EXPLAIN ANALYZE) {server_ms:>7.2} ms");
    println!("    the same without ORDER BY                             {unordered_ms:>7.2} ms");
    println!(
        "    floor: the state table alone, sorted                  {floor_ms:>7.2} ms  (view / floor {:.1}x)",
        server_ms / floor_ms
    );
    println!(
        "    round trip incl. sending 10,000 rows (pgbench avg)    {:>7.2} ms",
        view.latency_ms
    );
    println!(
        "  last 20 runs of one resource:                  {:>7.3} ms avg",
        history.latency_ms
    );
    println!("\n  EXPLAIN ANALYZE {view_sql}:");
    for line in plan.lines() {
        println!("    {line}");
    }
    Ok(())
}

/// `pgbench`, which comes with the PostgreSQL server's package.
fn pgbench_path() -> Result<std::path::PathBuf> {
    let postgres = tools::path(&POSTGRES)?;
    Ok(postgres.parent().unwrap_or(Path::new("/")).join("pgbench"))
}
