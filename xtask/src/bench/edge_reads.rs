//! The edge's two reads of every resource, on the same rows: `GET health` (JSON) and
//! `GET metrics` (OpenMetrics, as Prometheus asks for it) at 10,000 resources, through the
//! native edge server, one request at a time; medians over rounds that alternate the two.
//! The goal: a scrape takes less than twice a health read.

use std::time::{Duration, Instant};

use super::report::median;
use crate::error::{Result, XtaskError};
use crate::progress::Step;
use crate::stack::RunningStack;

/// Resources the reads cover (beyond the handful the stack already has).
pub const RESOURCES: usize = 10_000;

/// Requests per route; each route's median is reported.
const ROUNDS: usize = 9;

/// What Prometheus 2.42 sends as `Accept`.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// The medians, in milliseconds, and what each answer held.
pub struct ReadTimes {
    /// Rows read by each request (the health view's at the time).
    pub rows: usize,
    /// `GET health`'s median.
    pub health_ms: f64,
    /// `GET metrics`' median.
    pub metrics_ms: f64,
    /// The size of one answer of each, in bytes.
    pub health_bytes: usize,
    /// The size of one metrics answer, in bytes.
    pub metrics_bytes: usize,
}

/// Inserts the [`RESOURCES`] rows (fixed names: a second run finds them and adds nothing);
/// returns how many rows the health view has.
fn insert_resources(stack: &RunningStack) -> Result<usize> {
    let step = Step::start(format!(
        "{RESOURCES} resources for the health and metrics reads"
    ));
    stack.psql.sql(&format!(
        "INSERT INTO public.vantage_sync_state
                (resource, last_sync_status, last_sync_time, started_at, completed_at,
                 consecutive_failures, current_run_id)
         SELECT format('bench_read_%s', lpad(g::text, 5, '0')),
                (ARRAY['success', 'failed', 'running', 'never_run'])[1 + g % 4],
                CASE WHEN g % 4 IN (0, 2) THEN now() - make_interval(mins => g % 1500) END,
                CASE WHEN g % 4 <> 3 THEN now() - make_interval(mins => g % 1500 + 2) END,
                CASE WHEN g % 4 IN (0, 1) THEN now() - make_interval(mins => g % 1500) END,
                CASE WHEN g % 4 = 1 THEN g % 5 ELSE 0 END,
                CASE WHEN g % 4 = 2 THEN gen_random_uuid() END
           FROM generate_series(1, {RESOURCES}) AS g
         ON CONFLICT (resource) DO NOTHING"
    ))?;
    let rows: usize = stack
        .psql
        .sql("SELECT count(*) FROM public.vantage_sync_health")?
        .trim()
        .parse()
        .map_err(|_| XtaskError::Check("counting the health view's rows".into()))?;
    step.done();
    Ok(rows)
}

/// Makes sure the stack holds the [`RESOURCES`] rows of this benchmark (in every state: a
/// third succeeded, a third failed, the rest running or never run), then times both routes of
/// the edge at `edge_url` with `token`.
pub fn bench_reads(stack: &RunningStack, edge_url: &str, token: &str) -> Result<ReadTimes> {
    let rows = insert_resources(stack)?;

    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .build()
        .new_agent();
    let auth = format!("Bearer {token}");
    let read = |route: &str, accept: &str| -> Result<(f64, usize)> {
        let started = Instant::now();
        let mut answer = agent
            .get(format!("{edge_url}/{route}"))
            .header("Authorization", &auth)
            .header("Accept", accept)
            .call()
            .map_err(|e| XtaskError::Check(format!("GET {route}: {e}")))?;
        let body = answer
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| XtaskError::Check(format!("reading GET {route}'s answer: {e}")))?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let status = answer.status().as_u16();
        if status != 200 {
            return Err(XtaskError::Check(format!(
                "GET {route} answered {status}: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        Ok((ms, body.len()))
    };
    let step = Step::start(format!(
        "GET health and GET metrics at {rows} resources, {ROUNDS} rounds"
    ));
    // One of each first, untimed: the server's and the database's caches warm alike.
    let (_, health_bytes) = read("health", "application/json")?;
    let (_, metrics_bytes) = read("metrics", PROMETHEUS_ACCEPT)?;
    let (mut health, mut metrics) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Alternate which goes first, so neither always follows the other.
        if round % 2 == 0 {
            health.push(read("health", "application/json")?.0);
            metrics.push(read("metrics", PROMETHEUS_ACCEPT)?.0);
        } else {
            metrics.push(read("metrics", PROMETHEUS_ACCEPT)?.0);
            health.push(read("health", "application/json")?.0);
        }
    }
    let times = ReadTimes {
        rows,
        health_ms: median(&health),
        metrics_ms: median(&metrics),
        health_bytes,
        metrics_bytes,
    };
    step.note(format!(
        "health {:.1} ms, metrics {:.1} ms",
        times.health_ms, times.metrics_ms
    ));
    step.done();
    Ok(times)
}

/// Prints the two medians and their ratio against the goal.
pub fn print_reads(times: &ReadTimes) {
    println!(
        "\n  Reads of every resource through the native edge, {} rows, one request at a time, \
         median of {ROUNDS}:",
        times.rows
    );
    println!(
        "  GET health  (JSON)                               {:>8.1} ms  {:>9} bytes",
        times.health_ms, times.health_bytes
    );
    println!(
        "  GET metrics (OpenMetrics)                        {:>8.1} ms  {:>9} bytes",
        times.metrics_ms, times.metrics_bytes
    );
    println!(
        "  metrics / health                                 {:>8.2}    (goal < 2.00)",
        times.metrics_ms / times.health_ms
    );
}
