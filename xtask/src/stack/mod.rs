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
mod widget_server;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use env_file::StackEnv;
pub use postgres::PgMajor;

use nix::sys::signal::Signal;

use crate::digest::sha256_hex;
use crate::error::{Result, XtaskError};
use crate::paths::{target_dir, workspace_root};
use crate::process::{free_port, is_running_as, stop_server};
use crate::progress::Step;
use crate::tools::{self, POSTGREST};
use keys::StackKeys;
use postgres::Cluster;
use postgrest::PostgrestConfig;
use psql::Psql;

/// What a Supabase project has before any migration runs (roles, `auth` helpers, default
/// privileges); runs in any database of a stack's cluster.
pub const BOOTSTRAP_SQL: &str = include_str!("bootstrap.sql");

/// One resource in every health state: the demo's data, also loaded by the end-to-end test and
/// the widget benchmark.
pub const DEMO_DATA_SQL: &str = include_str!("../../../tests/fixtures/demo_data.sql");
/// The widget's static server's `/proc/PID/comm`, and its program in the tests crate.
const WIDGET_SERVER_COMM: &str = "vantage-static";

const READY_TIMEOUT: Duration = Duration::from_secs(30);

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

/// The processes and ports of a running stack, saved as `state.json` in its folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StackState {
    db_port: u16,
    db_pid: u32,
    rest_port: u16,
    rest_admin_port: u16,
    rest_pid: Option<u32>,
    #[serde(default)]
    edge_port: u16,
    #[serde(default)]
    edge_pid: Option<u32>,
    /// When the running edge binary was built (ns since the epoch): a newer build restarts it.
    #[serde(default)]
    edge_built: u128,
    /// The static server of the widget, once `serve_widget` started it.
    #[serde(default)]
    widget_pid: Option<u32>,
    /// The API gateway's port (the project URL's).
    #[serde(default)]
    gateway_port: u16,
    /// The API gateway (nginx's master process).
    #[serde(default)]
    gateway_pid: Option<u32>,
    /// The PostgreSQL major the cluster runs.
    #[serde(default)]
    pg_major: PgMajor,
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

    fn read_state(&self) -> Option<StackState> {
        let text = std::fs::read_to_string(self.state_file()).ok()?;
        serde_json::from_str(&text).ok()
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

    /// The PID of the stack's Postgres. Its own `postmaster.pid` is the authority: a restart
    /// (the reliability suite's, or `pg_ctl restart` by hand) gives the server a new PID that
    /// `state.json` cannot know.
    fn db_pid(&self, state: &StackState) -> u32 {
        std::fs::read_to_string(self.data_dir().join("postmaster.pid"))
            .ok()
            .and_then(|text| {
                text.lines()
                    .next()
                    .and_then(|line| line.trim().parse().ok())
            })
            .unwrap_or(state.db_pid)
    }

    fn write_state(&self, state: &StackState) -> Result<()> {
        let path = self.state_file();
        let text = serde_json::to_string_pretty(state)?;
        std::fs::write(&path, text).map_err(XtaskError::io("writing", &path))
    }

    /// A superuser psql client for this stack's running database, without starting anything.
    pub fn running_database(&self) -> Result<Psql> {
        let state = self
            .read_state()
            .filter(|state| is_running_as(self.db_pid(state), "postgres"))
            .ok_or_else(|| XtaskError::StackNotRunning(self.dir.clone()))?;
        let tools = StackTools::locate(state.pg_major)?;
        Ok(Psql::new(tools.psql, state.db_port))
    }

    /// Starts the stack, or finds it running and applies any new migrations.
    pub fn up(&self) -> Result<RunningStack> {
        let tools = StackTools::locate(self.pg)?;
        if let Some(state) = self.read_state() {
            let db_alive = is_running_as(self.db_pid(&state), "postgres");
            let rest_alive = state
                .rest_pid
                .is_some_and(|pid| is_running_as(pid, "postgrest"));
            let edge_alive = state
                .edge_pid
                .is_some_and(|pid| is_running_as(pid, edge::COMM));
            let gateway_alive = state
                .gateway_pid
                .is_some_and(|pid| is_running_as(pid, gateway::COMM));
            let same_major = state.pg_major == self.pg;
            if db_alive && rest_alive && edge_alive && gateway_alive && same_major {
                let (binary, built) = edge::build()?;
                let step = Step::start(format!("Stack already running in {}", self.dir.display()));
                let psql = Psql::new(tools.psql.clone(), state.db_port);
                for m in migrations::apply_pending(&psql, &workspace_root().join("migrations"))? {
                    step.note(format!("applied new migration {}_{}", m.version, m.name));
                }
                let mut state = state;
                if built != state.edge_built {
                    step.note("the edge server was rebuilt: restarting it");
                    if let Some(pid) = state.edge_pid.take() {
                        stop_server(pid, Signal::SIGTERM);
                    }
                    self.write_state(&state)?;
                    self.start_edge(&mut state, &binary, built)?;
                }
                let env = self.environment(&state)?;
                env.write()?;
                step.done();
                return Ok(RunningStack {
                    dir: self.dir.clone(),
                    env,
                    psql,
                });
            }
            let step = Step::start(format!(
                "Found a stack in {} that is not fully running, or runs another major (Postgres {} {}, PostgREST {}, edge {}, gateway {}); starting a fresh one",
                self.dir.display(),
                state.pg_major.number(),
                if db_alive { "up" } else { "down" },
                if rest_alive { "up" } else { "down" },
                if edge_alive { "up" } else { "down" },
                if gateway_alive { "up" } else { "down" },
            ));
            self.down()?;
            step.done();
        } else {
            // Left over from an interrupted `up`: nothing of it runs (no state was saved).
            self.remove_files()?;
        }
        self.start_fresh(&tools)
    }

    fn start_fresh(&self, tools: &StackTools) -> Result<RunningStack> {
        // First: a compile error should stop `up` before any server starts.
        let (edge_binary, edge_built) = edge::build()?;
        std::fs::create_dir_all(&self.dir).map_err(XtaskError::io("creating", &self.dir))?;
        let keys = StackKeys::generate()?;
        keys.save(&self.dir.join("keys.json"))?;

        let cluster = Cluster::new(
            &tools.pg_bin,
            self.data_dir(),
            self.dir.join("postgres.log"),
        );
        let step = Step::start(format!(
            "Creating a throwaway PostgreSQL {} cluster",
            self.pg.number()
        ));
        step.note(format!("data in {}", self.data_dir().display()));
        cluster.init()?;
        step.done();

        let db_port = free_port()?;
        let step = Step::start(format!("Starting Postgres on 127.0.0.1:{db_port}"));
        let db_pid = cluster.start(db_port)?;
        let mut state = StackState {
            db_port,
            db_pid,
            rest_port: 0,
            rest_admin_port: 0,
            rest_pid: None,
            edge_port: 0,
            edge_pid: None,
            edge_built: 0,
            widget_pid: None,
            gateway_port: 0,
            gateway_pid: None,
            pg_major: self.pg,
        };
        // Saved before anything else can fail, so that `down` can always stop what was started.
        self.write_state(&state)?;
        let psql = Psql::new(tools.psql.clone(), db_port);
        cluster.wait_ready(&psql, db_pid, READY_TIMEOUT)?;
        step.done();

        let step = Step::start("Creating Supabase's roles, auth helpers and default privileges");
        psql.sql(BOOTSTRAP_SQL)?;
        step.done();

        let step = Step::start("Applying migrations");
        for m in migrations::apply_pending(&psql, &workspace_root().join("migrations"))? {
            step.note(format!("{}_{}", m.version, m.name));
        }
        step.done();

        let jwks = serde_json::to_string(&keys.jwks()?)?;
        let jwks_file = self.dir.join("jwks.json");
        std::fs::write(&jwks_file, &jwks).map_err(XtaskError::io("writing", &jwks_file))?;

        state.rest_port = free_port()?;
        state.rest_admin_port = free_port()?;
        let step = Step::start(format!(
            "Starting PostgREST 12 on 127.0.0.1:{}",
            state.rest_port
        ));
        let log = self.dir.join("postgrest.log");
        let rest_pid = postgrest::start(&PostgrestConfig {
            binary: &tools.postgrest,
            db_port,
            port: state.rest_port,
            admin_port: state.rest_admin_port,
            jwks: &jwks,
            log: log.clone(),
        })?;
        state.rest_pid = Some(rest_pid);
        self.write_state(&state)?;
        postgrest::wait_ready(state.rest_admin_port, rest_pid, &log, READY_TIMEOUT)?;
        step.done();

        state.edge_port = free_port()?;
        state.gateway_port = free_port()?;
        // Before the edge: the edge reaches PostgREST through it.
        self.start_gateway(&mut state, &keys)?;
        self.start_edge(&mut state, &edge_binary, edge_built)?;

        let env = self.environment(&state)?;
        env.write()?;
        Ok(RunningStack {
            dir: self.dir.clone(),
            env,
            psql,
        })
    }

    /// Starts the API gateway on `state.gateway_port` and waits for it.
    fn start_gateway(&self, state: &mut StackState, keys: &StackKeys) -> Result<()> {
        let step = Step::start(format!(
            "Starting the API gateway (nginx) on 127.0.0.1:{}",
            state.gateway_port
        ));
        let log = self.dir.join("gateway.log");
        let public_jwks = serde_json::to_string(&keys.public_jwks()?)?;
        let pid = gateway::start(&gateway::GatewayConfig {
            port: state.gateway_port,
            rest_port: state.rest_port,
            edge_port: state.edge_port,
            publishable: (keys.publishable_key(), keys.anon_key()),
            secret: (keys.secret_key(), keys.service_role_key()),
            legacy_keys: [keys.anon_key(), keys.service_role_key()],
            public_jwks: &public_jwks,
            dir: self.dir.join("gateway"),
            log: log.clone(),
        })?;
        state.gateway_pid = Some(pid);
        self.write_state(state)?;
        gateway::wait_ready(state.gateway_port, pid, &log, READY_TIMEOUT)?;
        step.done();
        Ok(())
    }

    /// Starts the edge server on `state.edge_port` and waits for its health route.
    fn start_edge(&self, state: &mut StackState, binary: &Path, built: u128) -> Result<()> {
        let keys = StackKeys::load(&self.dir.join("keys.json"))?;
        let jwks_file = self.dir.join("jwks.json");
        let jwks =
            std::fs::read_to_string(&jwks_file).map_err(XtaskError::io("reading", &jwks_file))?;
        let step = Step::start(format!(
            "Starting the edge server on 127.0.0.1:{}",
            state.edge_port
        ));
        let log = self.dir.join("edge.log");
        let pid = edge::start(&edge::EdgeConfig {
            binary,
            port: state.edge_port,
            supabase_url: &gateway::url(state.gateway_port),
            secret_key: keys.secret_key(),
            jwks: &jwks,
            jwt_secret: keys.legacy_secret(),
            writer_token: keys.writer_token(),
            log: log.clone(),
        })?;
        state.edge_pid = Some(pid);
        state.edge_built = built;
        self.write_state(state)?;
        edge::wait_ready(
            state.edge_port,
            pid,
            keys.writer_token(),
            &log,
            READY_TIMEOUT,
        )?;
        step.done();
        Ok(())
    }

    /// The env file's entries for a running stack.
    fn environment(&self, state: &StackState) -> Result<StackEnv> {
        let keys = StackKeys::load(&self.dir.join("keys.json"))?;
        let rest_url = format!("http://127.0.0.1:{}", state.rest_port);
        let mut env = StackEnv::new(self.env_file());
        env.set(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{}/postgres", state.db_port),
        );
        env.set("POSTGREST_URL", rest_url.clone());
        env.set(
            "POSTGREST_ADMIN_URL",
            format!("http://127.0.0.1:{}", state.rest_admin_port),
        );
        let supabase_url = gateway::url(state.gateway_port);
        env.set("SUPABASE_URL", supabase_url.clone());
        env.set("PUBLISHABLE_KEY", keys.publishable_key());
        env.set("SECRET_KEY", keys.secret_key());
        env.set("ANON_KEY", keys.anon_key());
        env.set(
            "AUTHENTICATED_JWT",
            keys.sign_es256(&keys::demo_user_claims(&format!("{supabase_url}/auth/v1")))?,
        );
        env.set("SERVICE_ROLE_KEY", keys.service_role_key());
        env.set("JWT_SECRET", keys.legacy_secret());
        env.set(
            "JWKS_FILE",
            self.dir.join("jwks.json").display().to_string(),
        );
        // For tests that run a PostgREST of their own against this database (to stop it).
        env.set(
            "POSTGREST_BIN",
            tools::path(&POSTGREST)?.display().to_string(),
        );
        // For tests that restart the cluster (`pg_ctl -D`).
        env.set("PGDATA", self.data_dir().display().to_string());
        // Through the gateway, as ETL jobs reach it on Supabase; the server's own port for the
        // tests that start, stop and compare edge servers.
        env.set(
            "EDGE_URL",
            format!("{supabase_url}/functions/v1/{}", edge::FUNCTION_NAME),
        );
        env.set("EDGE_DIRECT_URL", edge::url(state.edge_port));
        env.set("WRITER_TOKEN", keys.writer_token());
        env.set(
            "EDGE_BIN",
            target_dir()
                .join("debug")
                .join("vantage-edge-server")
                .display()
                .to_string(),
        );
        Ok(env)
    }

    /// Stops what `up` started (by the PIDs it saved) and removes the stack's files.
    pub fn down(&self) -> Result<bool> {
        let Some(state) = self.read_state() else {
            self.remove_files()?;
            return Ok(false);
        };
        let servers = [
            (state.widget_pid, WIDGET_SERVER_COMM),
            (state.gateway_pid, gateway::COMM),
            (state.edge_pid, edge::COMM),
            (state.rest_pid, "postgrest"),
        ];
        for (pid, comm) in servers {
            if let Some(pid) = pid.filter(|&pid| is_running_as(pid, comm)) {
                stop_server(pid, Signal::SIGTERM);
            }
        }
        // SIGINT is Postgres's "fast shutdown": abort transactions, exit cleanly.
        let db_pid = self.db_pid(&state);
        if is_running_as(db_pid, "postgres") && !stop_server(db_pid, Signal::SIGINT) {
            return Err(XtaskError::StillRunning {
                server: "Postgres",
                pid: db_pid,
            });
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
