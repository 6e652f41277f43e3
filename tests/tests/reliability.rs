//! Faults and load, with figures: PostgREST stopped and Postgres restarted under a stream of
//! ETL calls through the edge, an ETL job that dies mid-run, a retried `complete` after a lost
//! answer, and many jobs at full speed. After each, the history must agree with the state:
//! every state row matches its latest run, and every accepted start's run is in the history
//! exactly once.
//!
//! The load goes the way ETL jobs reach the edge on Supabase: through the stack's gateway
//! (`EDGE_URL`), the edge calling PostgREST through the gateway too, with the secret key. Only
//! the PostgREST outage uses a PostgREST and an edge of the test's own (called directly): the
//! stack's PostgREST, the one behind the gateway, is not the test's to stop.
//!
//! Run by `cargo xtask test reliability` on a stack of its own (it stops its own PostgREST and
//! restarts the stack's Postgres); `VANTAGE_LOAD_RESOURCES` and `VANTAGE_LOAD_SECONDS` set the
//! load (default 200 and 10). Each test records its figures for the suite's final table.

use std::time::{Duration, Instant};

use serde_json::json;
use vantage_sync_tests::browser::OwnPostgrest;
use vantage_sync_tests::edge::{Edge, EdgeProcess, EdgeResponse, server_env};
use vantage_sync_tests::figures::{Figures, Kind};
use vantage_sync_tests::load::{self, Dialect, LoadPlan, LoadReport, Target};
use vantage_sync_tests::postgres_server::PostgresServer;
use vantage_sync_tests::{Db, Error, Result, Stack, check};

/// `count` fresh resources named `{prefix}_{n}`.
fn create_resources(db: &Db, prefix: &str, count: usize) -> Result<Vec<String>> {
    let names: Vec<String> = (0..count).map(|n| format!("{prefix}_{n:04}")).collect();
    db.query(
        "INSERT INTO public.vantage_sync_state (resource) SELECT unnest($1::text[])",
        &[&names],
    )?;
    Ok(names)
}

/// What the history says after a fault, for the resources starting with `prefix`.
struct HistoryFigures {
    /// State rows that disagree with their latest run.
    disagreeing: i64,
    /// Runs recorded.
    runs: i64,
    /// Accepted starts whose run is not in the history.
    lost: i64,
    /// Run ids answered to two accepted starts.
    duplicated: usize,
}

fn history_figures(db: &Db, prefix: &str, report: &LoadReport) -> Result<HistoryFigures> {
    let pattern = format!("{prefix}\\_%");
    let row = db.query_one(
        "WITH latest AS (
           SELECT DISTINCT ON (resource) resource, run_id, status, started_at
             FROM public.vantage_sync_runs WHERE resource LIKE $1
            ORDER BY resource, started_at DESC)
         SELECT (SELECT count(*) FROM public.vantage_sync_state s
                   JOIN latest l USING (resource)
                  WHERE s.last_sync_status <> l.status
                     OR s.started_at IS DISTINCT FROM l.started_at
                     OR (l.status = 'running' AND s.current_run_id IS DISTINCT FROM l.run_id)),
                (SELECT count(*) FROM public.vantage_sync_runs WHERE resource LIKE $1),
                (SELECT count(*) FROM unnest($2::text[]) AS id
                  WHERE NOT EXISTS (SELECT 1 FROM public.vantage_sync_runs r
                                     WHERE r.run_id::text = id))",
        &[&pattern, &report.accepted_run_ids],
    )?;
    let unique: std::collections::HashSet<&String> = report.accepted_run_ids.iter().collect();
    Ok(HistoryFigures {
        disagreeing: row.get(0),
        runs: row.get(1),
        lost: row.get(2),
        duplicated: report.accepted_run_ids.len() - unique.len(),
    })
}

/// What went wrong after a fault or a load, if anything: runs lost or duplicated, state rows
/// that disagree with their history, 500s.
fn history_problems(figures: &HistoryFigures, report: &LoadReport) -> Vec<String> {
    let mut problems = Vec::new();
    if figures.disagreeing > 0 {
        problems.push(format!(
            "{} state rows disagree with their latest run",
            figures.disagreeing
        ));
    }
    if figures.lost > 0 || figures.duplicated > 0 {
        problems.push(format!(
            "{} runs lost, {} duplicated",
            figures.lost, figures.duplicated
        ));
    }
    if report.by_status.contains_key(&500) {
        problems.push(format!("500s: {:?}", report.by_status));
    }
    problems
}

/// One line of what the history and the jobs saw.
fn history_line(figures: &HistoryFigures, report: &LoadReport) -> String {
    format!(
        "{} requests, answers {:?}, no answer {}, {} starts accepted, {} runs recorded \
         ({} without an answer), finishes retried {} (answer lost {}), lost {}, duplicated {}, \
         state rows disagreeing {}",
        report.requests,
        report.by_status,
        report.transport_errors,
        report.starts_accepted,
        figures.runs,
        figures.runs - i64::try_from(report.starts_accepted).unwrap_or(i64::MAX),
        report.finish_retries,
        report.finishes_answered_lost,
        figures.lost,
        figures.duplicated,
        figures.disagreeing,
    )
}

/// Records `figures` (so the final table shows them either way), then fails with `problems`.
fn record_and_check(figures: &Figures, problems: &[String]) -> Result<()> {
    println!("  {}: {}", figures.name, figures.detail);
    figures.record()?;
    check(problems.is_empty(), || {
        format!("{}: {}", figures.name, problems.join("; "))
    })
}

/// Jobs for `seconds`, every 7th run failing; a request without an answer after `patience`
/// counts as lost (on a small machine 200 jobs queue for seconds: give them time).
fn plan(resources: Vec<String>, seconds: u64, patience: Duration) -> LoadPlan {
    LoadPlan {
        resources,
        duration: Duration::from_secs(seconds),
        fail_every: Some(7),
        request_timeout: patience,
    }
}

/// Waits until a start through `edge` is accepted again; how long that took.
fn wait_until_calls_work(edge: &Edge, resource: &str) -> Result<Duration> {
    let since = Instant::now();
    loop {
        let answer = edge.post_as_writer("start", &json!({ "resource": resource }))?;
        if answer.status == 200 {
            return Ok(since.elapsed());
        }
        check(since.elapsed() < RECOVERY_PATIENCE, || {
            format!("calls still fail {RECOVERY_PATIENCE:?} after the fault: {answer}")
        })?;
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// How long calls may take to work again after a fault ends (PostgREST reconnects to a
/// restarted Postgres with a backoff of 1, 2, 4 … s).
const RECOVERY_PATIENCE: Duration = Duration::from_secs(40);

/// A stream of ETL calls through `edge`, with `fault` injected two seconds in. `fault` gets the
/// edge and returns what it wants to report, plus problems it saw; `logged_500s` reads what
/// the edge logged for its 500s since the test began. Afterwards: no 500, nothing lost or
/// duplicated, every state row agrees with its history, and calls work again.
fn survive_under_load(
    stack: &Stack,
    name: &str,
    prefix: &str,
    edge: &Edge,
    logged_500s: impl FnOnce() -> Vec<String>,
    fault: impl FnOnce(&Edge) -> Result<(String, Vec<String>)>,
) -> Result<()> {
    let target = Target {
        dialect: Dialect::Edge,
        base_url: edge.base_url().to_owned(),
        token: edge.writer_token().to_owned(),
    };
    let resources = create_resources(&Db::connect(stack)?, prefix, 20)?;
    let plan = plan(resources, 10, Duration::from_secs(5));
    let load = std::thread::spawn(move || load::run(&target, &plan));

    std::thread::sleep(Duration::from_secs(2));
    let (what, mut problems) = fault(edge)?;
    let report = load
        .join()
        .map_err(|_| Error::Check("the load thread panicked".to_owned()))??;
    let recovered = wait_until_calls_work(edge, &format!("{prefix}_after"))?;

    // The fault may have cut the superuser's connection too: a new one.
    let figures = history_figures(&Db::connect(stack)?, prefix, &report)?;
    problems.extend(history_problems(&figures, &report));
    // What the edge logged for its 500s: the operator's side of the story.
    let internal = logged_500s();
    if !internal.is_empty() {
        problems.push(format!("the edge logged: {}", internal.join(" | ")));
    }
    let detail = format!(
        "{what}; calls work again {:.1}s after the load; {}",
        recovered.as_secs_f64(),
        history_line(&figures, &report)
    );
    let record = Figures {
        kind: Kind::Fault,
        name: name.to_owned(),
        tried: 1,
        bad: u64::from(!problems.is_empty()),
        runs_lost: lost_or_duplicated(&figures),
        detail,
    };
    record_and_check(&record, &problems)
}

/// The log lines (JSON, one per request) that report a 500.
fn lines_with_500<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    lines
        .into_iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["status"] == 500)
        .map(|line| line.to_string())
        .collect()
}

/// The length of the stack's edge log now, to read only what follows.
fn log_length(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// What the stack's edge logged for its 500s after the first `from` bytes of its log.
fn stack_edge_500s(path: &std::path::Path, from: u64) -> Vec<String> {
    let text = std::fs::read(path).unwrap_or_default();
    let start = usize::try_from(from).unwrap_or(usize::MAX).min(text.len());
    lines_with_500(String::from_utf8_lossy(&text[start..]).lines())
}

fn lost_or_duplicated(figures: &HistoryFigures) -> u64 {
    u64::try_from(figures.lost).unwrap_or(u64::MAX) + figures.duplicated as u64
}

#[test]
#[ignore = "stops its own PostgREST and loads the stack: run by `cargo xtask test reliability`"]
fn postgrest_stopped_under_load_loses_nothing() -> Result<()> {
    let stack = Stack::load()?;
    let edge = Edge::load(&stack)?;
    // A PostgREST and an edge of the test's own: the stack's PostgREST is not the test's to stop.
    let mut postgrest = OwnPostgrest::start(&stack)?;
    let process = EdgeProcess::start(
        edge.binary(),
        &server_env(&stack, &edge, &postgrest.url(), stack.service_role_key())?,
    )?;
    let own_edge = edge.at(&process.base_url())?;
    survive_under_load(
        &stack,
        "PostgREST stopped under load",
        "rel_outage",
        &own_edge,
        || {
            let text = process.log_text();
            lines_with_500(text.lines())
        },
        |edge| {
            postgrest.stop();
            let probe = edge.post_as_writer("start", &json!({ "resource": "rel_outage_probe" }))?;
            let mut problems = Vec::new();
            if probe.status != 503 {
                problems.push(format!("during the outage: {probe}"));
            }
            if probe.header("retry-after").is_none() {
                problems.push(format!("a 503 without Retry-After: {probe}"));
            }
            std::thread::sleep(Duration::from_secs(2));
            postgrest.resume()?;
            Ok((
                format!(
                    "down 2s, a call meanwhile answered {} with Retry-After {}",
                    probe.status,
                    probe.header("retry-after").unwrap_or("(none)")
                ),
                problems,
            ))
        },
    )
}

#[test]
#[ignore = "restarts the stack's Postgres: run by `cargo xtask test reliability`"]
fn postgres_restarted_under_load_loses_nothing() -> Result<()> {
    let stack = Stack::load()?;
    let server = PostgresServer::of(&stack)?;
    let edge = Edge::load(&stack)?;
    // The stack's own edge, through the gateway, calling PostgREST through the gateway.
    let through_gateway = edge.through_gateway(&stack)?;
    let log = edge.stack_log();
    let from = log_length(&log);
    survive_under_load(
        &stack,
        "Postgres restarted under load, through the gateway",
        "rel_restart",
        &through_gateway,
        || stack_edge_500s(&log, from),
        |_edge| {
            let before = server.pid()?;
            let away = server.restart()?;
            let after = server.pid()?;
            let problems = if before == after {
                vec![format!("Postgres kept PID {before}: it was not restarted")]
            } else {
                Vec::new()
            };
            Ok((
                format!(
                    "pg_ctl restart -m fast took {:.1}s (PID {before} → {after})",
                    away.as_secs_f64()
                ),
                problems,
            ))
        },
    )
}

/// The run id in an edge answer.
fn run_id_of(answer: &EdgeResponse) -> String {
    answer.json()["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
#[ignore = "loads the stack: run by `cargo xtask test reliability`"]
fn a_killed_job_is_swept_and_the_next_start_works() -> Result<()> {
    let stack = Stack::load()?;
    let db = Db::connect(&stack)?;
    let edge = Edge::load(&stack)?.through_gateway(&stack)?;
    create_resources(&db, "rel_killed", 1)?;
    let resource = "rel_killed_0000";
    db.query(
        "INSERT INTO public.vantage_sync_schedules (resource, stuck_after) VALUES ($1, interval '1 second')",
        &[&resource],
    )?;
    // The job starts, then dies: nobody completes its run.
    let started = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    check(started.status == 200, || format!("start: {started}"))?;
    let run_id = run_id_of(&started);
    std::thread::sleep(Duration::from_millis(1200));
    let swept = db.query(
        "SELECT run_id::text FROM public.sweep_stuck_vantage_syncs() WHERE resource = $1",
        &[&resource],
    )?;
    let code: Option<String> = db
        .query_one(
            "SELECT errors->0->>'code' FROM public.vantage_sync_runs WHERE run_id::text = $1",
            &[&run_id],
        )?
        .get(0);
    let next = edge.post_as_writer("start", &json!({ "resource": resource }))?;

    let mut problems = Vec::new();
    if !(swept.len() == 1 && swept[0].get::<_, String>(0) == run_id) {
        problems.push(format!("the sweep did not fail run {run_id}"));
    }
    if code.as_deref() != Some("STUCK_TIMEOUT") {
        problems.push(format!("the swept run has code {code:?}"));
    }
    if next.status != 200 {
        problems.push(format!("start after the sweep: {next}"));
    }
    let figures = Figures {
        kind: Kind::Fault,
        name: "ETL job killed mid-run".to_owned(),
        tried: 1,
        bad: u64::from(!problems.is_empty()),
        runs_lost: 0,
        detail: format!(
            "swept as {}, next start answered {}",
            code.as_deref().unwrap_or("(not swept)"),
            next.status
        ),
    };
    record_and_check(&figures, &problems)
}

#[test]
#[ignore = "loads the stack: run by `cargo xtask test reliability`"]
fn a_complete_retried_after_a_lost_answer_is_refused_naming_the_run() -> Result<()> {
    let stack = Stack::load()?;
    let db = Db::connect(&stack)?;
    let edge = Edge::load(&stack)?.through_gateway(&stack)?;
    create_resources(&db, "rel_retried", 1)?;
    let resource = "rel_retried_0000";
    let started = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    check(started.status == 200, || format!("start: {started}"))?;
    let run_id = run_id_of(&started);
    let body = json!({ "resource": resource, "run_id": run_id, "records_synced": 5,
                       "records_created": 1, "records_updated": 4 });
    // The first answer is "lost": the job never reads it and sends the same call again.
    let first = edge.post_as_writer("complete", &body)?;
    let retry = edge.post_as_writer("complete", &body)?;
    let finished: i64 = db
        .query_one(
            "SELECT count(*) FROM public.vantage_sync_runs WHERE resource = $1 AND status = 'success'",
            &[&resource],
        )?
        .get(0);

    let mut problems = Vec::new();
    if first.status != 200 {
        problems.push(format!("complete: {first}"));
    }
    if !(retry.status == 409 && retry.body.contains(&run_id)) {
        problems.push(format!(
            "a retried complete should be 409 naming run {run_id}: {retry}"
        ));
    }
    if finished != 1 {
        problems.push(format!("{finished} successful runs, not 1"));
    }
    let figures = Figures {
        kind: Kind::Fault,
        name: "complete retried after a lost answer".to_owned(),
        tried: 1,
        bad: u64::from(!problems.is_empty()),
        runs_lost: 0,
        detail: format!(
            "retry answered {} ({}), {finished} completion recorded",
            retry.status,
            retry.code()
        ),
    };
    record_and_check(&figures, &problems)
}

/// A setting of the load test from the environment, or its default.
fn load_setting(var: &str, default: u64) -> Result<u64> {
    match std::env::var(var) {
        Err(_) => Ok(default),
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| Error::Check(format!("{var} must be a whole number, not {text:?}"))),
    }
}

#[test]
#[ignore = "loads the stack: run by `cargo xtask test reliability`"]
fn many_jobs_at_full_speed_lose_nothing() -> Result<()> {
    let count = load_setting("VANTAGE_LOAD_RESOURCES", 200)?;
    let seconds = load_setting("VANTAGE_LOAD_SECONDS", 10)?;
    let stack = Stack::load()?;
    let db = Db::connect(&stack)?;
    // As ETL jobs call it on Supabase: through the gateway.
    let edge = Edge::load(&stack)?.through_gateway(&stack)?;
    let resources = create_resources(&db, "rel_load", usize::try_from(count).unwrap_or(200))?;
    let target = Target {
        dialect: Dialect::Edge,
        base_url: edge.base_url().to_owned(),
        token: edge.writer_token().to_owned(),
    };
    let report = load::run(&target, &plan(resources, seconds, Duration::from_secs(60)))?;
    let figures = history_figures(&db, "rel_load", &report)?;
    // A busy machine may answer some calls 503 (the edge's upstream timeout): counted as
    // errors and printed; never a 500.
    let errors = report
        .by_status
        .iter()
        .filter(|(status, _)| **status >= 500)
        .map(|(_, count)| count)
        .sum::<u64>()
        + report.transport_errors;
    let record = Figures {
        kind: Kind::Load,
        name: format!("{count} jobs for {seconds}s through the gateway and the native edge"),
        tried: report.requests,
        bad: errors,
        runs_lost: lost_or_duplicated(&figures),
        detail: format!(
            "{:.0} req/s, p50 {:.1} ms, p99 {:.1} ms; {}",
            report.requests_per_second,
            report.p50_ms,
            report.p99_ms,
            history_line(&figures, &report)
        ),
    };
    record_and_check(&record, &history_problems(&figures, &report))
}
