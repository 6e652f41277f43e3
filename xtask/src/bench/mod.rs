//! `cargo xtask bench ...`: numbers and ratios, printed; never limits inside tests.

mod db;
mod edge;
mod edge_reads;
mod first_cards;
mod pages;
mod report;
mod resources;
mod scale;
mod search_path;
mod site;
mod wasm_parts;
mod widget;

use clap::ValueEnum;

use crate::error::Result;
use crate::stack::{PgMajor, Stack, bench_stack_dir};

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Bench {
    /// The state functions against a plain UPDATE, and the health view at 10,000 resources.
    Db,
    /// ETL cycles through the native edge, the Deno/wasm bundle and a supabase-js peer,
    /// against the same RPCs straight to PostgREST; then `GET health` against `GET metrics`
    /// at 10,000 resources.
    Edge,
    /// The widget's transfer size (wasm + js + css; raw, gzip, brotli) after a release build,
    /// its wasm by part, and its time to first cards against the plain-JavaScript floor and a
    /// React + supabase-js page: on loopback, on a mobile network, and on a repeat visit.
    Widget,
}

/// How long and how much a benchmark measures.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seconds per measured run (`db`, `edge`).
    pub seconds: u32,
    /// Loads of each page under each condition (`widget`).
    pub rounds: u32,
    /// The resource counts of the widget's scale table (empty: no table).
    pub resources: Vec<usize>,
    /// The PostgreSQL major version of the bench's stack.
    pub pg: PgMajor,
}

/// Runs a benchmark on its own stack (`target/bench-stack`), stopped afterwards.
pub fn run(bench: Bench, options: &Options) -> Result<()> {
    let seconds = options.seconds;
    let stack = Stack::at(bench_stack_dir()).on(options.pg);
    stack.down()?;
    let running = stack.up()?;
    let result = match bench {
        Bench::Db => db::bench_db(&running.psql, seconds),
        Bench::Edge => edge::bench_edge(&running, seconds),
        Bench::Widget => widget::bench_widget(&running, options.rounds, &options.resources),
    };
    stack.down()?;
    result
}
