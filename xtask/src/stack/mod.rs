//! The local Supabase-like stack: PostgreSQL (15, or 17 as new Supabase projects run) with
//! Supabase's roles and every migration, real PostgREST 12, the edge server, and an API gateway
//! on one project URL, with per-stack keys. `up` is safe to run twice; `down` stops exactly what
//! `up` started, by PID.

pub mod edge;
mod env_file;
mod gateway;
pub mod keys;
pub mod migrations;
mod postgres;
mod postgrest;
pub mod psql;
pub mod rollback;
mod servers;
mod state;
mod widget_server;

use std::path::{Path, PathBuf};

pub use env_file::StackEnv;
pub use postgres::PgMajor;

use crate::digest::sha256_hex;
use crate::error::{Result, XtaskError};
use crate::paths::{target_dir, workspace_root};
use crate::process::free_port;
use crate::progress::Step;
use crate::tools::{self, POSTGREST};
use keys::StackKeys;
use postgres::Cluster;
use postgrest::PostgrestConfig;
use psql::Psql;
use servers::{EnvFacts, Probe, RunningServer, Server, ServerKind};
use state::{SavedState, StackState};

/// What a Supabase project has before any migration runs (roles, `auth` helpers, default
/// privileges); runs in any database of a stack's cluster.
pub const BOOTSTRAP_SQL: &str = include_str!("bootstrap.sql");

/// One resource in every health state: the demo's data, also loaded by the end-to-end test and
/// the widget benchmark.
pub const DEMO_DATA_SQL: &str = include_str!("../../../tests/fixtures/demo_data.sql");
/// The folder of the stack that `cargo xtask up` runs.
pub fn dev_stack_dir() -> PathBuf {
    target_dir().join("stack")
}

/// The folder of the stack that `cargo xtask test` runs, apart from the dev stack so that a
/// running demo and a test run never touch each other's data.
pub fn test_stack_dir(pg: PgMajor) -> PathBuf {
    match pg {
        PgMajor::V15 => target_dir().join("test-stack"),
        PgMajor::V17 => target_dir().join("test-stack-17"),
    }
}

/// The folder of the stack that `cargo xtask bench` runs.
pub fn bench_stack_dir() -> PathBuf {
    target_dir().join("bench-stack")
}

/// Paths of the installed tools the stack runs.
struct StackTools {
    /// Folder of `initdb`, `postgres`, `pg_ctl` of the stack's major.
    pg_bin: PathBuf,
    /// Debian's `psql` (it talks to 15 and 17 alike).
    psql: PathBuf,
    /// The PostgREST binary.
    postgrest: PathBuf,
}

impl StackTools {
    /// Finds the tools (installed by the command's first step).
    fn locate(pg: PgMajor) -> Result<Self> {
        let debian = PgMajor::V15.bin_dir()?;
        Ok(Self {
            pg_bin: pg.bin_dir()?,
            psql: debian.join("psql"),
            postgrest: tools::path(&POSTGREST)?,
        })
    }
}

/// One stack's files.
pub struct Stack {
    dir: PathBuf,
    pg: PgMajor,
}

/// A running stack, as `up` leaves it.
pub struct RunningStack {
    /// Its folder.
    pub dir: PathBuf,
    /// What is written to its env file.
    pub env: StackEnv,
    /// A superuser psql client for its cluster.
    pub psql: Psql,
}

impl Stack {
    /// The stack kept in `dir`.
    pub fn at(dir: PathBuf) -> Self {
        Self {
            dir,
            pg: PgMajor::default(),
        }
    }

    /// The same stack, run on PostgreSQL `pg` (17 unless told).
    pub fn on(self, pg: PgMajor) -> Self {
        Self { pg, ..self }
    }

    fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The env file of this stack.
    pub fn env_file(&self) -> PathBuf {
        self.dir.join("env")
    }

    /// What `state.json` says runs: `None` when there is none, or it is no state of any
    /// xtask (then nothing of it can be stopped by PID).
    fn read_state(&self) -> Option<SavedState> {
        state::read(&self.state_file())
    }

    /// The state this xtask wrote, if any.
    fn current_state(&self) -> Option<StackState> {
        match self.read_state()? {
            SavedState::Current(state) => Some(state),
            SavedState::Old(_) => None,
        }
    }

    /// The Postgres data folder of this stack: outside the checkout, in a folder of its own
    /// per stack folder. As root the server runs as the `postgres` OS user, who cannot enter a
    /// checkout under a home folder of mode 700 (`/root`, or a user's): its files must live
    /// where that user can reach them.
    fn data_dir(&self) -> PathBuf {
        let key = sha256_hex(self.dir.as_os_str().as_encoded_bytes());
        std::env::temp_dir()
            .join(format!("vantage-sync-{}", nix::unistd::Uid::effective()))
            .join(&key[..16])
            .join("pgdata")
    }

    /// The PID of a server on the list as it runs now. Postgres's own `postmaster.pid` is the
    /// authority: a restart (the reliability suite's, or `pg_ctl restart` by hand) gives the
    /// server a new PID that `state.json` cannot know.
    fn pid_now(&self, kind: ServerKind, saved: u32) -> u32 {
        if kind != ServerKind::Postgres {
            return saved;
        }
        std::fs::read_to_string(self.data_dir().join("postmaster.pid"))
            .ok()
            .and_then(|text| {
                text.lines()
                    .next()
                    .and_then(|line| line.trim().parse().ok())
            })
            .unwrap_or(saved)
    }

    /// Whether a server on the list still runs.
    fn runs(&self, server: &RunningServer) -> bool {
        let kind = server.server.kind();
        kind.runs_as(self.pid_now(kind, server.pid))
    }

    fn write_state(&self, state: &StackState) -> Result<()> {
        state::write(&self.state_file(), state)
    }

    /// A superuser psql client for this stack's running database, without starting anything.
    pub fn running_database(&self) -> Result<Psql> {
        let not_running = || XtaskError::StackNotRunning(self.dir.clone());
        let state = self.current_state().ok_or_else(not_running)?;
        let db = state
            .find(ServerKind::Postgres)
            .filter(|db| self.runs(db))
            .ok_or_else(not_running)?;
        let tools = StackTools::locate(state.pg_major)?;
        Ok(Psql::new(tools.psql, db.server.port()))
    }

    /// Starts the stack, or finds it running and applies any new migrations.
    pub fn up(&self) -> Result<RunningStack> {
        let tools = StackTools::locate(self.pg)?;
        let state = match self.read_state() {
            Some(SavedState::Current(state)) => state,
            Some(SavedState::Old(_)) => {
                let step = Step::start(format!(
                    "Found a stack in {} started by an older `cargo xtask`; stopping it and starting a fresh one",
                    self.dir.display()
                ));
                self.down()?;
                step.done();
                return self.start_fresh(&tools);
            }
            None => {
                // Left over from an interrupted `up`: nothing of it runs (no state was saved).
                self.remove_files()?;
                return self.start_fresh(&tools);
            }
        };
        // Every server on the list must run, and every one `up` starts must be on it.
        let never_started = ServerKind::OF_UP
            .into_iter()
            .filter(|&kind| state.find(kind).is_none());
        let stopped = state
            .servers
            .iter()
            .filter(|s| !self.runs(s))
            .map(|s| s.server.kind());
        let not_running: Vec<ServerKind> = never_started.chain(stopped).collect();
        if not_running.is_empty() && state.pg_major == self.pg {
            return self.keep_running(state, &tools);
        }
        let step = Step::start(format!(
            "Found a stack in {} that is not fully running, or runs another major ({}); starting a fresh one",
            self.dir.display(),
            Self::status(&state, &not_running),
        ));
        self.down()?;
        step.done();
        self.start_fresh(&tools)
    }

    /// `Postgres 17 up, PostgREST down, edge up, gateway up`: `up`'s servers and any other on
    /// the list, each up unless named in `not_running`.
    fn status(state: &StackState, not_running: &[ServerKind]) -> String {
        let others = state
            .servers
            .iter()
            .map(|s| s.server.kind())
            .filter(|kind| !ServerKind::OF_UP.contains(kind));
        ServerKind::OF_UP
            .into_iter()
            .chain(others)
            .map(|kind| {
                let up = if not_running.contains(&kind) {
                    "down"
                } else {
                    "up"
                };
                match kind {
                    ServerKind::Postgres => format!("Postgres {} {up}", state.pg_major.number()),
                    _ => format!("{} {up}", kind.short_name()),
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The stack runs: applies new migrations, restarts a rebuilt edge server, writes the env
    /// file again.
    fn keep_running(&self, mut state: StackState, tools: &StackTools) -> Result<RunningStack> {
        let (binary, built) = edge::build()?;
        let step = Step::start(format!("Stack already running in {}", self.dir.display()));
        let db_port = state
            .find(ServerKind::Postgres)
            .map(|db| db.server.port())
            .ok_or_else(|| XtaskError::StackNotRunning(self.dir.clone()))?;
        let psql = Psql::new(tools.psql.clone(), db_port);
        for m in migrations::apply_pending(&psql, &workspace_root().join("migrations"))? {
            step.note(format!("applied new migration {}_{}", m.version, m.name));
        }
        let rebuilt = state
            .find(ServerKind::Edge)
            .map(|edge| edge.server)
            .filter(|server| !matches!(server, Server::Edge { built: b, .. } if *b == built));
        if let Some(server) = rebuilt {
            step.note("the edge server was rebuilt: restarting it");
            for old in state.remove(ServerKind::Edge) {
                ServerKind::Edge.stop(old.pid);
            }
            self.write_state(&state)?;
            let keys = StackKeys::load(&self.dir.join("keys.json"))?;
            let gateway = state.find(ServerKind::Gateway).map(|g| g.server.port());
            let gateway_port =
                gateway.ok_or_else(|| XtaskError::StackNotRunning(self.dir.clone()))?;
            let probe = Probe {
                psql: &psql,
                writer_token: keys.writer_token(),
            };
            self.start_edge(
                &mut state,
                &probe,
                &binary,
                server.port(),
                built,
                gateway_port,
            )?;
        }
        let env = self.environment(&state)?;
        env.write()?;
        step.done();
        Ok(RunningStack {
            dir: self.dir.clone(),
            env,
            psql,
        })
    }

    fn start_fresh(&self, tools: &StackTools) -> Result<RunningStack> {
        // First: a compile error should stop `up` before any server starts.
        let (edge_binary, edge_built) = edge::build()?;
        std::fs::create_dir_all(&self.dir).map_err(XtaskError::io("creating", &self.dir))?;
        let keys = StackKeys::generate()?;
        keys.save(&self.dir.join("keys.json"))?;

        let cluster = Cluster::new(&tools.pg_bin, self.data_dir());
        let step = Step::start(format!(
            "Creating a throwaway PostgreSQL {} cluster",
            self.pg.number()
        ));
        step.note(format!("data in {}", self.data_dir().display()));
        cluster.init()?;
        step.done();

        let db_port = free_port()?;
        let psql = Psql::new(tools.psql.clone(), db_port);
        let probe = Probe {
            psql: &psql,
            writer_token: keys.writer_token(),
        };
        let mut state = StackState {
            pg_major: self.pg,
            servers: Vec::new(),
        };
        let postgres = Server::Postgres { port: db_port };
        self.start_server(&mut state, postgres, &probe, |log| {
            cluster.start(db_port, log)
        })?;
        prepare_database(&psql)?;

        let jwks = serde_json::to_string(&keys.jwks()?)?;
        let jwks_file = self.dir.join("jwks.json");
        std::fs::write(&jwks_file, &jwks).map_err(XtaskError::io("writing", &jwks_file))?;

        let (rest_port, admin_port) = (free_port()?, free_port()?);
        let postgrest = Server::Postgrest {
            port: rest_port,
            admin_port,
        };
        self.start_server(&mut state, postgrest, &probe, |log| {
            postgrest::start(&PostgrestConfig {
                binary: &tools.postgrest,
                db_port,
                port: rest_port,
                admin_port,
                jwks: &jwks,
                log: log.to_path_buf(),
            })
        })?;

        let (edge_port, gateway_port) = (free_port()?, free_port()?);
        // Before the edge: the edge reaches PostgREST through it.
        self.start_gateway(
            &mut state,
            &probe,
            &keys,
            gateway_port,
            rest_port,
            edge_port,
        )?;
        self.start_edge(
            &mut state,
            &probe,
            &edge_binary,
            edge_port,
            edge_built,
            gateway_port,
        )?;

        let env = self.environment(&state)?;
        env.write()?;
        Ok(RunningStack {
            dir: self.dir.clone(),
            env,
            psql,
        })
    }

    /// Starts one server: says so, spawns it with its output in its log, puts it on the saved
    /// list before anything else can fail (so that `down` can always stop what was started),
    /// then waits until it is ready.
    fn start_server(
        &self,
        state: &mut StackState,
        server: Server,
        probe: &Probe<'_>,
        spawn: impl FnOnce(&Path) -> Result<u32>,
    ) -> Result<()> {
        let step = Step::start(server.starting());
        let log = self.dir.join(server.kind().log_file());
        let pid = spawn(&log)?;
        state.servers.push(RunningServer { server, pid });
        self.write_state(state)?;
        server.wait_ready(pid, &log, probe)?;
        step.done();
        Ok(())
    }

    /// Starts the API gateway on `port`, in front of PostgREST and the edge.
    fn start_gateway(
        &self,
        state: &mut StackState,
        probe: &Probe<'_>,
        keys: &StackKeys,
        port: u16,
        rest_port: u16,
        edge_port: u16,
    ) -> Result<()> {
        let public_jwks = serde_json::to_string(&keys.public_jwks()?)?;
        self.start_server(state, Server::Gateway { port }, probe, |log| {
            gateway::start(&gateway::GatewayConfig {
                port,
                rest_port,
                edge_port,
                publishable: (keys.publishable_key(), keys.anon_key()),
                secret: (keys.secret_key(), keys.service_role_key()),
                legacy_keys: [keys.anon_key(), keys.service_role_key()],
                public_jwks: &public_jwks,
                dir: self.dir.join("gateway"),
                log: log.to_path_buf(),
            })
        })
    }

    /// Starts the edge server `binary` (built at `built`) on `port`, reaching PostgREST through
    /// the gateway on `gateway_port`.
    fn start_edge(
        &self,
        state: &mut StackState,
        probe: &Probe<'_>,
        binary: &Path,
        port: u16,
        built: u64,
        gateway_port: u16,
    ) -> Result<()> {
        let keys = StackKeys::load(&self.dir.join("keys.json"))?;
        let jwks_file = self.dir.join("jwks.json");
        let jwks =
            std::fs::read_to_string(&jwks_file).map_err(XtaskError::io("reading", &jwks_file))?;
        self.start_server(state, Server::Edge { port, built }, probe, |log| {
            edge::start(&edge::EdgeConfig {
                binary,
                port,
                supabase_url: &gateway::url(gateway_port),
                secret_key: keys.secret_key(),
                jwks: &jwks,
                jwt_secret: keys.legacy_secret(),
                writer_token: keys.writer_token(),
                log: log.to_path_buf(),
            })
        })
    }

    /// The env file's entries for a running stack: its keys, then each server's entries.
    fn environment(&self, state: &StackState) -> Result<StackEnv> {
        let keys = StackKeys::load(&self.dir.join("keys.json"))?;
        let mut env = StackEnv::new(self.env_file());
        env.set("PUBLISHABLE_KEY", keys.publishable_key());
        env.set("SECRET_KEY", keys.secret_key());
        env.set("ANON_KEY", keys.anon_key());
        env.set("SERVICE_ROLE_KEY", keys.service_role_key());
        env.set("JWT_SECRET", keys.legacy_secret());
        env.set(
            "JWKS_FILE",
            self.dir.join("jwks.json").display().to_string(),
        );
        let data_dir = self.data_dir();
        let facts = EnvFacts {
            keys: &keys,
            data_dir: &data_dir,
        };
        for running in &state.servers {
            running.server.add_env(&facts, &mut env)?;
        }
        Ok(env)
    }

    /// Stops what `up` started (by the PIDs it saved, also those an older xtask saved) and
    /// removes the stack's files.
    pub fn down(&self) -> Result<bool> {
        let Some(saved) = self.read_state() else {
            self.remove_files()?;
            return Ok(false);
        };
        // The last started first: Postgres last.
        let mut still_running = None;
        for (kind, pid) in saved.pids().into_iter().rev() {
            let pid = self.pid_now(kind, pid);
            if !kind.stop(pid) && still_running.is_none() {
                still_running = Some(XtaskError::StillRunning {
                    server: kind.name(),
                    pid,
                });
            }
        }
        if let Some(error) = still_running {
            return Err(error);
        }
        self.remove_files()?;
        Ok(true)
    }

    /// Removes the stack's folder and its cluster's data folder, where they exist.
    fn remove_files(&self) -> Result<()> {
        let data = self.data_dir();
        for dir in [&self.dir, data.parent().unwrap_or(&data)] {
            if dir.exists() {
                remove_dir(dir)?;
            }
        }
        Ok(())
    }
}

/// Supabase's roles and helpers, then every migration, in a new cluster.
fn prepare_database(psql: &Psql) -> Result<()> {
    let step = Step::start("Creating Supabase's roles, auth helpers and default privileges");
    psql.sql(BOOTSTRAP_SQL)?;
    step.done();

    let step = Step::start("Applying migrations");
    for m in migrations::apply_pending(psql, &workspace_root().join("migrations"))? {
        step.note(format!("{}_{}", m.version, m.name));
    }
    step.done();
    Ok(())
}

fn remove_dir(dir: &Path) -> Result<()> {
    std::fs::remove_dir_all(dir).map_err(XtaskError::io("removing", dir))
}

impl RunningStack {
    /// Prints where everything is.
    pub fn print_summary(&self) {
        let get = |k: &str| self.env.get(k).unwrap_or("?").to_owned();
        println!();
        println!("Local stack is up ({}):", self.dir.display());
        println!("  Postgres    {}", get("DATABASE_URL"));
        println!(
            "  Project URL {}   (the gateway: /rest/v1, /functions/v1, /auth/v1/.well-known/jwks.json)",
            get("SUPABASE_URL")
        );
        println!("  PostgREST   {}   (direct)", get("POSTGREST_URL"));
        println!("  Edge        {}", get("EDGE_URL"));
        println!(
            "  env file    {}   (load it: set -a; . {0}; set +a)",
            self.dir.join("env").display()
        );
        println!(
            "  logs        {}/postgres.log, postgrest.log, edge.log, gateway.log",
            self.dir.display()
        );
    }

    /// Prints how to report a job's runs to this stack with the `vantage-sync` command.
    pub fn print_client_usage(&self) {
        let env = self.dir.join("env");
        println!();
        println!("Report an ETL job's runs to this stack (docs/client.md):");
        println!("  cargo install --path client      # the vantage-sync command");
        println!(
            "  set -a; . {}; set +a; export VANTAGE_SYNC_URL=$EDGE_URL VANTAGE_SYNC_TOKEN=$WRITER_TOKEN",
            env.display()
        );
        println!(
            r#"  vantage-sync run accounts -- sh -c 'echo "{{\"records_synced\":150}}" > "$VANTAGE_SYNC_REPORT"'"#
        );
        println!("  vantage-sync health");
    }
}
