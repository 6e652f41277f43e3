//! `cargo xtask`: the project's automation. Installs the pinned tools, runs the local
//! Supabase-like stack and the demo, builds the widget and the Supabase bundle, and runs every
//! test and benchmark.
//!
//! Layers run one way: `main` → `demo`, `test`, `bench` → `build` → `stack` → `tools` → the
//! helpers (`process`, `paths`, `progress`, `digest`, `page_settings`, `error`).

mod bench;
mod build;
mod demo;
mod digest;
mod error;
mod page_settings;
mod paths;
mod process;
mod progress;
mod schema;
mod stack;
mod test;
mod tools;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use build::widget::Toolchain;
use error::Result;
use paths::workspace_root;
use progress::Step;
use stack::rollback::Keep;
use stack::{Stack, dev_stack_dir, test_stack_dir};
use test::Suite;
use tools::Need;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Vantage sync status: tools, local stack, demo, builds, tests and benchmarks"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
    /// Install every tool afresh into an empty temporary folder (also the `cargo install`
    /// root), as a new machine would, and remove it afterwards.
    #[arg(long, global = true)]
    fresh_tools: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install every pinned tool any command needs (Debian packages, npm packages checked by
    /// SHA-256, cargo-installed binaries, the wasm32 target, schemathesis).
    Install,
    /// Start the local stack (PostgreSQL + Supabase roles + migrations + PostgREST 12 + the
    /// edge server + the API gateway) and serve the widget.
    Up {
        /// The PostgreSQL major version: 17 (what new Supabase projects run, the default) or
        /// 15 (Debian's, for a project still on it).
        #[arg(long, value_enum, default_value = "17")]
        pg: stack::PgMajor,
    },
    /// The dev stack's database (`cargo xtask up`'s): roll migrations back, or write a new one
    /// from `schemas/`.
    Db {
        /// What to do.
        #[command(subcommand)]
        action: DbCmd,
    },
    /// Stop what `up` started and remove its files.
    Down {
        /// Stop the test stacks (`target/test-stack`, `target/test-stack-17`) instead of the dev
        /// stack.
        #[arg(long)]
        test_stack: bool,
    },
    /// Start the stack with sample data in every health state; Ctrl-C stops it.
    Demo {
        /// The PostgreSQL major version: 17 (the default, as new Supabase projects) or 15.
        #[arg(long, value_enum, default_value = "17")]
        pg: stack::PgMajor,
    },
    /// Build the status widget for release into dist/ and print its sizes.
    BuildWidget {
        /// Write these settings (a JSON object, as `config.json` holds) into the page itself:
        /// its first read then starts without a round trip for `config.json`.
        #[arg(long, value_name = "FILE")]
        settings: Option<PathBuf>,
        /// The compiler: the pinned nightly (what ships, the smallest wasm) or stable (for a
        /// machine without the nightly; a larger wasm).
        #[arg(long, value_enum, default_value = "nightly")]
        toolchain: Toolchain,
    },
    /// Measure: prints numbers and ratios.
    Bench {
        /// What to measure.
        #[arg(value_enum)]
        what: bench::Bench,
        /// Seconds per measured run.
        #[arg(long, default_value_t = 10)]
        seconds: u32,
        /// `widget`: loads of each page under each condition (interleaved rounds).
        #[arg(long, default_value_t = 15)]
        rounds: u32,
        /// `widget`: also the table at scale, for these resource counts (a list, `1000,10000`;
        /// one count N > 1,000 stands for 7, 1,000 and N; 7 is the demo fixture alone).
        #[arg(long, value_name = "N[,N...]", value_delimiter = ',')]
        resources: Vec<usize>,
        /// The PostgreSQL major version of the bench's stack: 17 (the default) or 15.
        #[arg(long, value_enum, default_value = "17")]
        pg: stack::PgMajor,
    },
    /// Build a deployable bundle (`supabase`: target/supabase/ for the Supabase CLI).
    Bundle {
        /// What to bundle.
        #[arg(value_enum)]
        target: build::supabase::Target,
        /// Then run the edge suite (`tests/tests/edge_routes.rs`) through the bundle under Deno,
        /// against the running dev stack (`cargo xtask up`).
        #[arg(long)]
        test: bool,
        /// The project's Postgres major version, written as `db.major_version` in config.toml
        /// (`SHOW server_version;` on the project); new Supabase projects run 17.
        #[arg(long, value_enum, default_value_t = build::supabase::DEFAULT_PG)]
        pg: stack::PgMajor,
    },
    /// Run every check: fmt, clippy, unit, pgTAP, HTTP per role, shared checks, the widget,
    /// reliability.
    Test {
        /// Run only these suites.
        #[arg(value_enum)]
        suites: Vec<Suite>,
        /// Leave the test stack running afterwards, for debugging.
        #[arg(long)]
        keep_stack: bool,
        /// Longer reliability settings: 1,000 jobs for 60 s, 10 min of fuzzing, 500
        /// schemathesis examples per operation (the default fits in a few minutes of CI).
        #[arg(long)]
        long: bool,
    },
}

/// `cargo xtask db ...`.
#[derive(Subcommand)]
enum DbCmd {
    /// Run rollback files of applied migrations, newest first, each in one transaction with the
    /// delete of its row in `supabase_migrations.schema_migrations` (so `cargo xtask up` applies
    /// it again). Without `--to`, only the newest applied migration.
    Rollback {
        /// Keep this version and every older one; roll back every newer one.
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
    },
    /// Write `migrations/<timestamp>_<name>.sql` and its rollback from the difference between
    /// `schemas/` and `migrations/` (migra, in scratch databases of the dev stack's cluster).
    /// Change `schemas/` first; nothing is written when nothing differs.
    Diff {
        /// The migration's name: lower-case letters, digits and underscores (`add_progress`).
        name: String,
    },
}

impl Cmd {
    /// The tools the command needs, installed by its first step.
    fn needs(&self) -> &'static [Need] {
        match self {
            Self::Install => &[
                Need::Stack,
                Need::Widget,
                Need::WidgetNightly,
                Need::Edge,
                Need::Test,
                Need::Bench,
                Need::SchemaDiff,
            ],
            Self::Up { .. } | Self::Demo { .. } => {
                &[Need::Stack, Need::Widget, Need::WidgetNightly]
            }
            Self::Down { .. } => &[],
            Self::Db { .. } => &[Need::Stack, Need::SchemaDiff],
            Self::BuildWidget {
                toolchain: Toolchain::Stable,
                ..
            } => &[Need::Widget],
            Self::BuildWidget { .. } => &[Need::Widget, Need::WidgetNightly],
            Self::Bench { .. } => &[
                Need::Stack,
                Need::Widget,
                Need::WidgetNightly,
                Need::Edge,
                Need::Bench,
            ],
            Self::Bundle { test: false, .. } => &[Need::Edge],
            Self::Bundle { test: true, .. } => &[Need::Stack, Need::Edge],
            Self::Test { .. } => &[
                Need::Stack,
                Need::Widget,
                Need::WidgetNightly,
                Need::Edge,
                Need::Test,
            ],
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let fresh = cli.fresh_tools.then(fresh_tools_dir);
    if let Some(dir) = &fresh {
        println!(
            "==> Fresh tools: installing every tool into the empty folder {} (removed afterwards)",
            dir.display()
        );
        paths::use_tools_dir(dir.clone());
    }
    let started = std::time::Instant::now();
    let result = tools::ensure(cli.command.needs()).and_then(|()| run(cli.command));
    if let Some(dir) = fresh {
        let _ = std::fs::remove_dir_all(&dir);
        println!(
            "==> Fresh tools: the whole run took {:.1} min",
            started.elapsed().as_secs_f64() / 60.0
        );
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nerror: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask db diff <name>` on the dev stack's cluster.
fn write_migration(name: &str) -> Result<()> {
    schema::new_migration::check_name(name)?;
    let psql = Stack::at(dev_stack_dir()).running_database()?;
    let step = Step::start("Building schemas/ and migrations/ into scratch databases; migra");
    let root = workspace_root();
    let folders = schema::new_migration::Folders {
        schemas: &root.join("schemas"),
        migrations: &root.join("migrations"),
    };
    let written = schema::new_migration::write(&psql, name, &folders)?;
    step.done();
    println!(
        "Wrote {}
  and {}
Read both; `cargo xtask up` applies the migration, `cargo xtask test db` checks it and its rollback.",
        written.forward.display(),
        written.rollback.display()
    );
    Ok(())
}

/// `cargo xtask db rollback [--to VERSION]` on the dev stack.
fn roll_back(to: Option<String>) -> Result<()> {
    let stack = Stack::at(dev_stack_dir());
    let psql = stack.running_database()?;
    let keep = to.map_or(Keep::AllButNewest, Keep::Through);
    let done = stack::rollback::roll_back(&psql, &workspace_root().join("migrations"), &keep)?;
    if done.is_empty() {
        println!("Nothing to roll back.");
    } else {
        println!(
            "Rolled back {} migration(s); `cargo xtask up` applies them again.",
            done.len()
        );
    }
    Ok(())
}

/// An empty folder of this run's own for `--fresh-tools`.
fn fresh_tools_dir() -> PathBuf {
    std::env::temp_dir().join(format!("vantage-fresh-tools-{}", std::process::id()))
}

/// `cargo xtask up`: the dev stack and the widget served against it, with how to use them.
fn up(pg: stack::PgMajor) -> Result<()> {
    let stack = Stack::at(dev_stack_dir()).on(pg);
    let started = stack.up().and_then(|mut running| {
        let site = build::widget::build_release_to(&running.dir.join("widget"))?;
        let app_url = running.serve_widget(&site)?;
        Ok((running, app_url))
    });
    match started {
        Ok((running, app_url)) => {
            running.print_summary();
            println!("  widget      {app_url}");
            println!("  stop it     cargo xtask down");
            running.print_client_usage();
            Ok(())
        }
        Err(e) => {
            // Stop whatever did start, so a retry begins clean.
            stack.down()?;
            Err(e)
        }
    }
}

/// `cargo xtask down [--test-stack]`.
fn down(test_stack: bool) -> Result<()> {
    let dirs = if test_stack {
        vec![
            test_stack_dir(stack::PgMajor::V15),
            test_stack_dir(stack::PgMajor::V17),
        ]
    } else {
        vec![dev_stack_dir()]
    };
    for dir in dirs {
        let stopped = Stack::at(dir.clone()).down()?;
        let verb = if stopped {
            "Stopped the stack in"
        } else {
            "No stack running in"
        };
        println!("{verb} {}", dir.display());
    }
    Ok(())
}

fn run(command: Cmd) -> Result<()> {
    match command {
        Cmd::Install => {
            println!(
                "All tools are installed in {}.",
                paths::tools_dir().display()
            );
            Ok(())
        }
        Cmd::Up { pg } => up(pg),
        Cmd::Down { test_stack } => down(test_stack),
        Cmd::Db {
            action: DbCmd::Rollback { to },
        } => roll_back(to),
        Cmd::Db {
            action: DbCmd::Diff { name },
        } => write_migration(&name),
        Cmd::Demo { pg } => demo::run(pg),
        Cmd::BuildWidget {
            settings,
            toolchain,
        } => build::widget::build_widget(settings.as_deref(), toolchain),
        Cmd::Bench {
            what,
            seconds,
            rounds,
            resources,
            pg,
        } => bench::run(
            what,
            &bench::Options {
                seconds,
                rounds,
                resources,
                pg,
            },
        ),
        Cmd::Bundle { target, test, pg } => {
            let env = test.then(|| Stack::at(dev_stack_dir()).env_file());
            build::supabase::run_bundle(target, pg, env.as_deref())
        }
        Cmd::Test {
            suites,
            keep_stack,
            long,
        } => test::suite::run_suites(&suites, keep_stack, long),
    }
}
