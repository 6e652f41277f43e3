//! The demo's simulated ETL job: it drives resources through the edge function with the
//! stack's writer token, exactly as a real job would, so the widget shows states changing live.
//!
//! Each resource follows its own script, chosen so every health state stays on screen:
//! `accounts` syncs every 30 s and fails now and then (then recovers), `cashflows` finishes
//! the run the demo data left in flight and then runs for 25 s every minute, `funds` keeps
//! failing with errors, and `commitments` gets a run every 10 minutes that is never finished,
//! so it turns stuck and the demo's sweep fails it. `investors` (stale), `investments` (never
//! synced) and `valuations` (slow) are left alone: syncing them would end their states.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};

/// How long one call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How a run of a script ends.
#[derive(Clone, Copy)]
enum Ending {
    /// `complete` with about this many records; every `fail_every`-th run fails instead.
    Complete { records: u32, fail_every: u32 },
    /// `fail` with errors, every time.
    Fail,
    /// Never finished: the run is left to get stuck.
    Abandon,
}

/// What the job does for one resource.
struct Script {
    resource: &'static str,
    /// When the first run starts, from the job's start.
    first_start: Duration,
    /// Time between starts.
    every: Duration,
    /// How long a run takes before it ends.
    runs_for: Duration,
    ending: Ending,
    /// The demo data left a run of this resource in flight, to be ended after `runs_for`.
    in_flight_at_start: bool,
}

const SCRIPTS: [Script; 4] = [
    Script {
        resource: "accounts",
        first_start: Duration::from_secs(15),
        every: Duration::from_secs(30),
        runs_for: Duration::from_secs(3),
        ending: Ending::Complete {
            records: 150,
            fail_every: 5,
        },
        in_flight_at_start: false,
    },
    Script {
        resource: "cashflows",
        first_start: Duration::from_secs(60),
        every: Duration::from_secs(60),
        runs_for: Duration::from_secs(25),
        ending: Ending::Complete {
            records: 1250,
            fail_every: 0,
        },
        in_flight_at_start: true,
    },
    Script {
        resource: "funds",
        first_start: Duration::from_secs(45),
        every: Duration::from_secs(90),
        runs_for: Duration::from_secs(2),
        ending: Ending::Fail,
        in_flight_at_start: false,
    },
    Script {
        resource: "commitments",
        first_start: Duration::from_secs(600),
        every: Duration::from_secs(600),
        runs_for: Duration::ZERO,
        ending: Ending::Abandon,
        in_flight_at_start: false,
    },
];

/// A script's progress.
struct Progress {
    script: &'static Script,
    next_start: Instant,
    /// The run in flight (its id, unknown for the one the demo data left) and when it ends.
    running: Option<(Option<String>, Instant)>,
    runs: u32,
}

/// The job, running on its own thread until [`EtlJob::stop`].
pub struct EtlJob {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl EtlJob {
    /// Starts driving the scripts through the edge at `edge_url` with `writer_token`.
    pub fn start(edge_url: &str, writer_token: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let client = EdgeClient::new(edge_url, writer_token);
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || drive(&client, &flag));
        Self { stop, thread }
    }

    /// Stops after the call in progress, if any.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

fn drive(client: &EdgeClient, stop: &AtomicBool) {
    let begun = Instant::now();
    let mut progress: Vec<Progress> = SCRIPTS
        .iter()
        .map(|script| Progress {
            script,
            next_start: begun + script.first_start,
            running: script
                .in_flight_at_start
                .then(|| (None, begun + script.runs_for)),
            runs: 0,
        })
        .collect();
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        for p in &mut progress {
            if let Some((run_id, ends_at)) = &p.running
                && now >= *ends_at
            {
                finish(client, p.script, run_id.as_deref(), p.runs);
                p.running = None;
            }
            if p.running.is_none() && now >= p.next_start {
                p.next_start = now + p.script.every;
                p.runs += 1;
                if let Some(run_id) = client.start(p.script.resource) {
                    if matches!(p.script.ending, Ending::Abandon) {
                        println!(
                            "etl: {} run {run_id} started and left unfinished (it will turn stuck)",
                            p.script.resource
                        );
                    } else {
                        p.running = Some((Some(run_id), now + p.script.runs_for));
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Ends a run as its script says.
fn finish(client: &EdgeClient, script: &Script, run_id: Option<&str>, run: u32) {
    let resource = script.resource;
    let failing = match script.ending {
        Ending::Complete { fail_every, .. } => fail_every > 0 && run.is_multiple_of(fail_every),
        Ending::Fail => true,
        Ending::Abandon => return,
    };
    let mut body = if failing {
        json!({
            "resource": resource,
            "errors": [
                {"code": "API_TIMEOUT", "message": "Vantage API request timed out after 30s"},
                {"code": "RATE_LIMITED", "message": "429 from the Vantage API", "retry_after_s": 60}
            ],
        })
    } else {
        let Ending::Complete { records, .. } = script.ending else {
            return;
        };
        // ±10% around the script's count, so the widget's numbers move.
        let records = records - records / 10 + OsRng.next_u32() % (records / 5 + 1);
        json!({
            "resource": resource,
            "records_synced": records,
            "records_created": records / 10,
            "records_updated": records - records / 10,
        })
    };
    if let (Some(run_id), Some(map)) = (run_id, body.as_object_mut()) {
        map.insert("run_id".to_owned(), json!(run_id));
    }
    let route = if failing { "fail" } else { "complete" };
    if client.post(route, &body).is_some() {
        let what = if failing {
            "failed with 2 errors".to_owned()
        } else {
            format!("completed ({} records)", body["records_synced"])
        };
        println!("etl: {resource} {what}");
    }
}

/// The edge function's ETL routes, with the writer token.
struct EdgeClient {
    agent: ureq::Agent,
    base_url: String,
    authorization: String,
}

impl EdgeClient {
    fn new(base_url: &str, writer_token: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(CALL_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self {
            agent,
            base_url: base_url.trim_end_matches('/').to_owned(),
            authorization: format!("Bearer {writer_token}"),
        }
    }

    /// Starts a run; its id, or `None` (said why) when the edge refused.
    fn start(&self, resource: &str) -> Option<String> {
        let answer = self.post("start", &json!({ "resource": resource }))?;
        let run_id = answer["run_id"].as_str()?.to_owned();
        println!("etl: {resource} started run {run_id}");
        Some(run_id)
    }

    /// Posts `body` to `route`; the answer's JSON on 200, `None` (printed) otherwise.
    fn post(&self, route: &str, body: &Value) -> Option<Value> {
        let url = format!("{}/{route}", self.base_url);
        let resource = body["resource"].as_str().unwrap_or("?");
        let answer = self
            .agent
            .post(&url)
            .header("Authorization", &self.authorization)
            .header("Content-Type", "application/json")
            .send(body.to_string());
        match answer {
            Ok(mut answer) => {
                let status = answer.status().as_u16();
                let text = answer.body_mut().read_to_string().unwrap_or_default();
                let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if status == 200 {
                    Some(json)
                } else {
                    let message = json["error"]["message"].as_str().unwrap_or("no message");
                    println!("etl: {resource} {route} refused ({status}): {message}");
                    None
                }
            }
            Err(e) => {
                println!("etl: {resource} {route}: the edge did not answer ({e})");
                None
            }
        }
    }
}
