//! A load generator of simulated ETL jobs: one worker per resource, each looping `start` then
//! `complete` (or `fail`) as fast as the target answers, until a deadline; a finish without an
//! answer, or answered 503, is retried, as a careful job would. It speaks both the
//! edge function's routes and PostgREST's RPCs, so the same loop measures either, and counts
//! what a reliability check needs (accepted starts and finishes, answers by status).
//!
//! Used by `cargo xtask bench edge` through the `vantage-load` binary, which prints the
//! [`LoadReport`] as JSON.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// How a target is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The edge function's routes: `POST {base}/start`, `{base}/complete`, `{base}/fail`.
    Edge,
    /// PostgREST's RPCs: `POST {base}/rpc/start_vantage_sync`, …, as supabase-js calls them.
    PostgRest,
}

/// What to load and with which credential.
#[derive(Debug, Clone)]
pub struct Target {
    /// How the target is called.
    pub dialect: Dialect,
    /// The base URL: the function's (ending in `/functions/v1/vantage-sync`) or PostgREST's.
    pub base_url: String,
    /// The bearer token: a writer token for the edge, the service-role key for PostgREST.
    pub token: String,
}

/// How long and how hard.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// One worker per resource; every resource must exist.
    pub resources: Vec<String>,
    /// When the workers stop starting new cycles (a cycle in flight finishes).
    pub duration: Duration,
    /// Every `n`-th cycle of a worker ends with `fail` instead of `complete`; `None`: never.
    pub fail_every: Option<u32>,
    /// The time one request may take before it counts as a transport error.
    pub request_timeout: Duration,
}

/// What a run did, as counted by the client.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    /// Wall-clock seconds from the first request to the last answer.
    pub seconds: f64,
    /// Requests sent.
    pub requests: u64,
    /// Requests per second.
    pub requests_per_second: f64,
    /// Answers by HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Requests that got no answer (connection refused or reset, timeout).
    pub transport_errors: u64,
    /// `start` calls answered 2xx with a run id.
    pub starts_accepted: u64,
    /// `complete` and `fail` calls answered 2xx.
    pub finishes_accepted: u64,
    /// Finishes whose retry was answered 409: an earlier try had finished the run, only its
    /// answer was lost.
    pub finishes_answered_lost: u64,
    /// Finishes sent again after a 503 or no answer.
    pub finish_retries: u64,
    /// Median latency of answered requests, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency of answered requests, in milliseconds.
    pub p99_ms: f64,
    /// The run id of every accepted start (to check each is in the history).
    #[serde(skip)]
    pub accepted_run_ids: Vec<String>,
}

/// What one worker saw.
#[derive(Default)]
struct WorkerTally {
    latencies: Vec<Duration>,
    by_status: BTreeMap<u16, u64>,
    transport_errors: u64,
    starts_accepted: u64,
    finishes_accepted: u64,
    finishes_answered_lost: u64,
    finish_retries: u64,
    run_ids: Vec<String>,
}

/// The three calls of a cycle, in a target's dialect.
struct Calls {
    start_url: String,
    complete_url: String,
    fail_url: String,
    dialect: Dialect,
}

impl Calls {
    fn new(target: &Target) -> Self {
        let base = target.base_url.trim_end_matches('/');
        let url = |edge: &str, rpc: &str| match target.dialect {
            Dialect::Edge => format!("{base}/{edge}"),
            Dialect::PostgRest => format!("{base}/rpc/{rpc}"),
        };
        Self {
            start_url: url("start", "start_vantage_sync"),
            complete_url: url("complete", "complete_vantage_sync"),
            fail_url: url("fail", "fail_vantage_sync"),
            dialect: target.dialect,
        }
    }

    fn start_body(&self, resource: &str) -> Value {
        match self.dialect {
            Dialect::Edge => json!({ "resource": resource }),
            Dialect::PostgRest => json!({ "p_resource": resource }),
        }
    }

    fn complete_body(&self, resource: &str, run_id: &str, records: u32) -> Value {
        let (created, updated) = (records / 4, records / 2);
        match self.dialect {
            Dialect::Edge => json!({
                "resource": resource, "run_id": run_id, "records_synced": records,
                "records_created": created, "records_updated": updated,
            }),
            Dialect::PostgRest => json!({
                "p_resource": resource, "p_run_id": run_id, "p_records_synced": records,
                "p_records_created": created, "p_records_updated": updated,
            }),
        }
    }

    fn fail_body(&self, resource: &str, run_id: &str, cycle: u32) -> Value {
        let errors =
            json!([{ "code": "LOAD_TEST", "message": format!("simulated failure {cycle}") }]);
        match self.dialect {
            Dialect::Edge => json!({ "resource": resource, "run_id": run_id, "errors": errors }),
            Dialect::PostgRest => {
                json!({ "p_resource": resource, "p_run_id": run_id, "p_errors": errors })
            }
        }
    }

    /// The run id in a `start` answer: the edge's `{"run_id": …}` or the RPC's bare string.
    fn run_id(&self, body: &Value) -> Option<String> {
        match self.dialect {
            Dialect::Edge => body.get("run_id")?.as_str().map(str::to_owned),
            Dialect::PostgRest => body.as_str().map(str::to_owned),
        }
    }
}

/// Runs `plan` against `target` and reports what happened.
///
/// # Errors
/// When the HTTP client or the async runtime cannot be built; answers of any status are
/// counted, not errors.
pub fn run(target: &Target, plan: &LoadPlan) -> Result<LoadReport> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(run_async(target, plan))
}

async fn run_async(target: &Target, plan: &LoadPlan) -> Result<LoadReport> {
    let mut headers = reqwest::header::HeaderMap::new();
    let bearer = format!("Bearer {}", target.token);
    let invalid = |_| Error::Edge("the token is not a valid header value".to_owned());
    headers.insert(
        reqwest::header::AUTHORIZATION,
        bearer.parse().map_err(invalid)?,
    );
    if target.dialect == Dialect::PostgRest {
        headers.insert("apikey", target.token.parse().map_err(invalid)?);
    }
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .timeout(plan.request_timeout)
        .pool_max_idle_per_host(plan.resources.len())
        .build()
        .map_err(|source| Error::Http {
            what: "building the load client".to_owned(),
            source,
        })?;
    let calls = Arc::new(Calls::new(target));
    let started = Instant::now();
    let deadline = started + plan.duration;
    let workers: Vec<_> = plan
        .resources
        .iter()
        .map(|resource| {
            let worker = Worker {
                client: client.clone(),
                calls: Arc::clone(&calls),
                resource: resource.clone(),
                fail_every: plan.fail_every,
            };
            tokio::spawn(worker.run(deadline))
        })
        .collect();
    let mut tallies = Vec::with_capacity(workers.len());
    for worker in workers {
        tallies.push(
            worker
                .await
                .map_err(|e| Error::Edge(format!("a load worker stopped: {e}")))?,
        );
    }
    Ok(LoadReport::from_tallies(tallies, started.elapsed()))
}

/// One simulated ETL job.
struct Worker {
    client: reqwest::Client,
    calls: Arc<Calls>,
    resource: String,
    fail_every: Option<u32>,
}

impl Worker {
    async fn run(self, deadline: Instant) -> WorkerTally {
        let mut tally = WorkerTally::default();
        let mut cycle = 0_u32;
        while Instant::now() < deadline {
            cycle = cycle.wrapping_add(1);
            let start = self.calls.start_body(&self.resource);
            let Answer::Accepted(bytes) =
                self.send(&self.calls.start_url, &start, &mut tally).await
            else {
                continue;
            };
            let body = serde_json::from_slice(&bytes).ok();
            let Some(run_id) = body.and_then(|body| self.calls.run_id(&body)) else {
                continue;
            };
            tally.starts_accepted += 1;
            tally.run_ids.push(run_id.clone());
            let fails = self
                .fail_every
                .is_some_and(|n| n > 0 && cycle.is_multiple_of(n));
            let (url, finish) = if fails {
                (
                    &self.calls.fail_url,
                    self.calls.fail_body(&self.resource, &run_id, cycle),
                )
            } else {
                (
                    &self.calls.complete_url,
                    self.calls
                        .complete_body(&self.resource, &run_id, cycle % 1000 * 4),
                )
            };
            self.finish(url, &finish, deadline, &mut tally).await;
        }
        tally
    }

    /// Sends a run's `complete` or `fail` like a careful ETL job: an answer that did not
    /// arrive, or a 503, is retried (for at most [`FINISH_RETRY_GRACE`] past the deadline),
    /// because the run must not stay open. A 409 to a retry means an earlier attempt finished
    /// the run and only its answer was lost.
    async fn finish(&self, url: &str, body: &Value, deadline: Instant, tally: &mut WorkerTally) {
        let give_up = deadline + FINISH_RETRY_GRACE;
        let mut retried = false;
        loop {
            match self.send(url, body, tally).await {
                Answer::Accepted(_) => {
                    tally.finishes_accepted += 1;
                    return;
                }
                Answer::Refused(409) if retried => {
                    tally.finishes_answered_lost += 1;
                    return;
                }
                Answer::Refused(503) | Answer::Silence if Instant::now() < give_up => {
                    retried = true;
                    tally.finish_retries += 1;
                    tokio::time::sleep(FINISH_RETRY_PAUSE).await;
                }
                Answer::Refused(_) | Answer::Silence => return,
            }
        }
    }

    /// Sends one call and counts its answer.
    async fn send(&self, url: &str, body: &Value, tally: &mut WorkerTally) -> Answer {
        let sent = Instant::now();
        let Ok(answer) = self.client.post(url).json(body).send().await else {
            tally.transport_errors += 1;
            return Answer::Silence;
        };
        let status = answer.status().as_u16();
        let bytes = answer.bytes().await;
        let Ok(bytes) = bytes else {
            tally.transport_errors += 1;
            return Answer::Silence;
        };
        tally.latencies.push(sent.elapsed());
        *tally.by_status.entry(status).or_default() += 1;
        if (200..300).contains(&status) {
            Answer::Accepted(bytes)
        } else {
            Answer::Refused(status)
        }
    }
}

/// How one call ended.
enum Answer {
    /// A 2xx, with its body.
    Accepted(bytes::Bytes),
    /// Any other status.
    Refused(u16),
    /// No answer arrived (refused connection, reset, timeout).
    Silence,
}

/// How long after the deadline a job keeps retrying the finish of its open run.
const FINISH_RETRY_GRACE: Duration = Duration::from_secs(15);

/// The pause between two tries of a finish.
const FINISH_RETRY_PAUSE: Duration = Duration::from_millis(200);

impl LoadReport {
    fn from_tallies(tallies: Vec<WorkerTally>, elapsed: Duration) -> Self {
        let mut report = Self {
            seconds: elapsed.as_secs_f64(),
            ..Self::default()
        };
        let mut latencies = Vec::new();
        for tally in tallies {
            latencies.extend(tally.latencies);
            for (status, count) in tally.by_status {
                *report.by_status.entry(status).or_default() += count;
            }
            report.transport_errors += tally.transport_errors;
            report.starts_accepted += tally.starts_accepted;
            report.finishes_accepted += tally.finishes_accepted;
            report.finishes_answered_lost += tally.finishes_answered_lost;
            report.finish_retries += tally.finish_retries;
            report.accepted_run_ids.extend(tally.run_ids);
        }
        report.requests = report.by_status.values().sum::<u64>() + report.transport_errors;
        report.requests_per_second = rate(report.requests, elapsed);
        latencies.sort_unstable();
        report.p50_ms = percentile_ms(&latencies, 50);
        report.p99_ms = percentile_ms(&latencies, 99);
        report
    }
}

/// Events per second over `elapsed` (0 for an empty interval).
#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn rate(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

/// The `pct`-th percentile (nearest rank) of sorted latencies, in milliseconds; 0 if none.
fn percentile_ms(sorted: &[Duration], pct: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (sorted.len() * pct).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert!((percentile_ms(&ms, 50) - 50.0).abs() < 1e-9);
        assert!((percentile_ms(&ms, 99) - 99.0).abs() < 1e-9);
        assert!((percentile_ms(&ms[..1], 99) - 1.0).abs() < 1e-9);
        assert!(percentile_ms(&[], 50).abs() < 1e-9);
    }

    #[test]
    fn both_dialects_read_their_run_id() {
        let edge = Calls::new(&Target {
            dialect: Dialect::Edge,
            base_url: "http://127.0.0.1:1/functions/v1/vantage-sync/".to_owned(),
            token: String::new(),
        });
        assert_eq!(
            edge.start_url,
            "http://127.0.0.1:1/functions/v1/vantage-sync/start"
        );
        assert_eq!(edge.run_id(&json!({"run_id": "r1"})).as_deref(), Some("r1"));
        let rest = Calls::new(&Target {
            dialect: Dialect::PostgRest,
            base_url: "http://127.0.0.1:1".to_owned(),
            token: String::new(),
        });
        assert_eq!(rest.fail_url, "http://127.0.0.1:1/rpc/fail_vantage_sync");
        assert_eq!(rest.run_id(&json!("r2")).as_deref(), Some("r2"));
        assert_eq!(rest.run_id(&json!({"run_id": "r2"})), None);
    }
}
