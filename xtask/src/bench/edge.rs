//! `cargo xtask bench edge`: ETL cycles (`start` then `complete`) at full speed on loopback
//! through each way a job can reach the database, one after the other on one stack:
//!
//! 1. straight to PostgREST's RPCs with the service-role key (the floor: no edge at all);
//! 2. the native edge server (release build);
//! 3. the Supabase bundle (Rust compiled to wasm) under Deno;
//! 4. the TypeScript function a Supabase user would otherwise write with supabase-js, under
//!    the same Deno (`bench_peer.ts`).
//!
//! Then the edge's two reads of every resource, `GET health` and `GET metrics`, at 10,000
//! resources through the native edge (`edge_reads.rs`).
//!
//! Each target gets its own resources, so no run of one can conflict with another's. The load
//! comes from `vantage-load` (`tests/src/load.rs`), one worker per resource.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use nix::sys::signal::Signal;

use super::edge_reads;
use crate::build::deno_function::DenoFunction;
use crate::build::supabase::bundle_supabase;
use crate::error::{Result, XtaskError};
use crate::paths::target_dir;
use crate::process::{build_tests_binary, cargo, free_port, run_captured, stop_server};
use crate::progress::Step;
use crate::stack::RunningStack;
use crate::stack::edge::{self, EdgeConfig};

/// The benchmark's TypeScript peer.
const PEER_TS: &str = include_str!("peer.ts");

/// Concurrent simulated ETL jobs per target in the throughput runs.
const WORKERS: usize = 16;

/// Rounds over all targets; each target's median round is reported.
const ROUNDS: usize = 3;

/// What `vantage-load` printed (the fields the table shows).
#[derive(Debug, Deserialize)]
struct LoadReport {
    requests: u64,
    requests_per_second: f64,
    by_status: std::collections::BTreeMap<u16, u64>,
    p50_ms: f64,
    p99_ms: f64,
}

impl LoadReport {
    /// Answers that were not 2xx, and requests that got none (counted in `requests`).
    fn errors(&self) -> u64 {
        let accepted: u64 = self.by_status.range(200..300).map(|(_, n)| n).sum();
        self.requests - accepted
    }
}

/// One way to reach the database, as the load generator calls it.
struct Target {
    label: &'static str,
    dialect: &'static str,
    url: String,
    token_key: &'static str,
}

/// What is measured: PostgREST's RPCs directly, the native edge, the wasm bundle under Deno and
/// the TypeScript peer under Deno.
fn targets(rest_url: String, native_url: &str, wasm_url: &str, peer_url: &str) -> [Target; 4] {
    [
        Target {
            label: "PostgREST RPCs, direct",
            dialect: "postgrest",
            url: rest_url,
            token_key: "SERVICE_ROLE_KEY",
        },
        Target {
            label: "native edge (axum)",
            dialect: "edge",
            url: native_url.to_owned(),
            token_key: "WRITER_TOKEN",
        },
        Target {
            label: "Deno: Rust/wasm bundle",
            dialect: "edge",
            url: wasm_url.to_owned(),
            token_key: "WRITER_TOKEN",
        },
        Target {
            label: "Deno: TypeScript + supabase-js",
            dialect: "edge",
            url: peer_url.to_owned(),
            token_key: "WRITER_TOKEN",
        },
    ]
}

/// Runs the benchmark on `stack` (the bench stack, already up) for `seconds` per target.
pub fn bench_edge(stack: &RunningStack, seconds: u32) -> Result<()> {
    let setting = |key: &str| stack.env.require(key).map(str::to_owned);
    let load = build_tests_binary("vantage-load")?;
    let native = NativeEdge::start(stack, &setting)?;
    let bundle = bundle_supabase()?;

    let step = Step::start("Starting the Deno functions: the wasm bundle and the TypeScript peer");
    let wasm = DenoFunction::start(
        &bundle.join("functions/vantage-sync/index.ts"),
        setting,
        stack.dir.join("bench-deno-wasm.log"),
    )?;
    let peer_script = stack.dir.join("peer").join("index.ts");
    std::fs::create_dir_all(stack.dir.join("peer"))
        .map_err(XtaskError::io("creating", &stack.dir))?;
    vantage_dev_files::write_private_file(&peer_script, PEER_TS)?;
    let peer = DenoFunction::start(&peer_script, setting, stack.dir.join("bench-deno-peer.log"))?;
    step.done();

    let targets = targets(
        setting("POSTGREST_URL")?,
        &native.url,
        &wasm.base_url,
        &peer.base_url,
    );
    // Rounds, each in a different order, and the median of each target's rounds: on a small
    // machine every process shares the same cores, so one run alone says little.
    let mut throughput: Vec<Vec<LoadReport>> = targets.iter().map(|_| Vec::new()).collect();
    let mut latency: Vec<Vec<LoadReport>> = targets.iter().map(|_| Vec::new()).collect();
    for round in 0..ROUNDS {
        for offset in 0..targets.len() {
            let index = (round + offset) % targets.len();
            let target = &targets[index];
            let token = setting(target.token_key)?;
            for (jobs, reports) in [(WORKERS, &mut throughput), (1, &mut latency)] {
                let resources = create_resources(stack, round, index, jobs)?;
                let step = Step::start(format!(
                    "round {}/{ROUNDS}, {}: {jobs} job(s) for {seconds}s",
                    round + 1,
                    target.label
                ));
                let report = run_load(&load, target, &token, &resources, seconds)?;
                step.note(format!(
                    "{:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
                    report.requests_per_second, report.p50_ms, report.p99_ms
                ));
                step.done();
                reports[index].push(report);
            }
        }
    }
    // Ratios are taken within a round (the same minute of the machine's life), then the median.
    let ratio = |a: usize, b: usize| {
        median(
            (0..ROUNDS)
                .map(|r| {
                    throughput[a][r].requests_per_second / throughput[b][r].requests_per_second
                })
                .collect(),
        )
    };
    let ratios = Ratios {
        native_to_direct: ratio(1, 0),
        wasm_to_peer: ratio(2, 3),
    };
    let throughput: Vec<LoadReport> = throughput
        .into_iter()
        .map(|rounds| median_by(rounds, |r| r.requests_per_second))
        .collect();
    let latency: Vec<LoadReport> = latency
        .into_iter()
        .map(|rounds| median_by(rounds, |r| r.p99_ms))
        .collect();
    drop((wasm, peer));
    let reads = edge_reads::bench_reads(stack, &native.url, &setting("WRITER_TOKEN")?)?;
    drop(native);
    print_table(&targets, &throughput, &latency, &ratios, seconds);
    edge_reads::print_reads(&reads);
    Ok(())
}

/// `jobs` fresh resources for target number `index` in `round`.
fn create_resources(
    stack: &RunningStack,
    round: usize,
    index: usize,
    jobs: usize,
) -> Result<Vec<String>> {
    let names: Vec<String> = (0..jobs)
        .map(|n| format!("bench_edge_{round}_{index}_{jobs}_{n:03}"))
        .collect();
    stack.psql.sql(&format!(
        "INSERT INTO public.vantage_sync_state (resource) SELECT unnest(ARRAY['{}'])",
        names.join("','")
    ))?;
    Ok(names)
}

fn run_load(
    load: &Path,
    target: &Target,
    token: &str,
    resources: &[String],
    seconds: u32,
) -> Result<LoadReport> {
    let out = run_captured(
        Command::new(load)
            .args(["--dialect", target.dialect, "--url", &target.url])
            .args(["--token-env", "VANTAGE_LOAD_TOKEN"])
            .env("VANTAGE_LOAD_TOKEN", token)
            .arg("--resources")
            .arg(resources.join(","))
            .args(["--seconds", &seconds.to_string()]),
    )?;
    serde_json::from_str(out.trim()).map_err(|e| XtaskError::NoReport {
        tool: "vantage-load",
        output: format!("{e}\n{out}"),
    })
}

/// The native edge server, release build, on its own port (the stack's own is a debug
/// build); stopped by its PID when dropped.
struct NativeEdge {
    pid: u32,
    url: String,
}

impl NativeEdge {
    fn start(stack: &RunningStack, setting: &impl Fn(&str) -> Result<String>) -> Result<Self> {
        let step = Step::start("Building and starting the native edge server (release)");
        run_captured(cargo().args(["build", "--quiet", "--release", "-p", "vantage-edge-server"]))?;
        let binary = target_dir().join("release").join("vantage-edge-server");
        let jwks_file = PathBuf::from(setting("JWKS_FILE")?);
        let jwks =
            std::fs::read_to_string(&jwks_file).map_err(XtaskError::io("reading", &jwks_file))?;
        // As deployed: the edge reaches PostgREST through the project URL, with the secret key.
        let (supabase_url, secret_key, jwt_secret, writer_token) = (
            setting("SUPABASE_URL")?,
            setting("SECRET_KEY")?,
            setting("JWT_SECRET")?,
            setting("WRITER_TOKEN")?,
        );
        let port = free_port()?;
        let log = stack.dir.join("bench-edge-release.log");
        let pid = edge::start(&EdgeConfig {
            binary: &binary,
            port,
            supabase_url: &supabase_url,
            secret_key: &secret_key,
            jwks: &jwks,
            jwt_secret: &jwt_secret,
            writer_token: &writer_token,
            log: log.clone(),
        })?;
        let native = Self {
            pid,
            url: edge::url(port),
        };
        edge::wait_ready(
            port,
            pid,
            &writer_token,
            &log,
            std::time::Duration::from_secs(30),
        )?;
        step.done();
        Ok(native)
    }
}

impl Drop for NativeEdge {
    fn drop(&mut self) {
        stop_server(self.pid, Signal::SIGTERM);
    }
}

/// Throughput ratios, each the median of its per-round ratios.
struct Ratios {
    native_to_direct: f64,
    wasm_to_peer: f64,
}

/// The median of `values` (not empty).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The report whose `key` is the median of `rounds` (not empty).
fn median_by(mut rounds: Vec<LoadReport>, key: impl Fn(&LoadReport) -> f64) -> LoadReport {
    rounds.sort_by(|a, b| key(a).total_cmp(&key(b)));
    rounds.swap_remove(rounds.len() / 2)
}

fn print_table(
    targets: &[Target],
    throughput: &[LoadReport],
    latency: &[LoadReport],
    ratios: &Ratios,
    seconds: u32,
) {
    println!(
        "\ncargo xtask bench edge — start+complete cycles on loopback, {seconds}s per run, median of \
         {ROUNDS} rounds; throughput with {WORKERS} concurrent jobs, latency with 1 job\n"
    );
    println!(
        "  {:<32} {:>10} {:>7} {:>11} {:>11} {:>11}",
        "target", "req/s", "errors", "p50 ms (16)", "p99 ms (16)", "p99 ms (1)"
    );
    for ((target, loaded), single) in targets.iter().zip(throughput).zip(latency) {
        println!(
            "  {:<32} {:>10.0} {:>7} {:>11.2} {:>11.2} {:>11.2}",
            target.label,
            loaded.requests_per_second,
            loaded.errors() + single.errors(),
            loaded.p50_ms,
            loaded.p99_ms,
            single.p99_ms,
        );
    }
    if let [direct_1, native_1, wasm_1, peer_1] = latency {
        println!("\n  (ratios: median of the {ROUNDS} rounds' own ratios)");
        println!(
            "  native edge / direct PostgREST throughput        {:>6.2}    (goal ≥ 0.60)",
            ratios.native_to_direct
        );
        println!(
            "  p99 added by the native edge, 1 job              {:>6.2} ms (goal ≤ 2 ms)",
            native_1.p99_ms - direct_1.p99_ms
        );
        println!(
            "  p50 added by the native edge, 1 job              {:>6.2} ms",
            native_1.p50_ms - direct_1.p50_ms
        );
        println!(
            "  Deno: wasm bundle / TypeScript peer throughput   {:>6.2}    (goal ≥ 1.00)",
            ratios.wasm_to_peer
        );
        println!(
            "  Deno: p99 wasm bundle − TypeScript peer, 1 job   {:>6.2} ms",
            wasm_1.p99_ms - peer_1.p99_ms
        );
    }
}
