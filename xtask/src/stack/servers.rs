//! The stack's servers as one list. Each server is a [`Server`]: which program it is, where it
//! listens, how to tell it is ready, how to stop it and what it adds to the env file. The
//! stack's `state.json` keeps the list of those that run, each with its PID
//! ([`RunningServer`]); a server not started is not on the list.
//!
//! `up` starts Postgres, PostgREST, the gateway and the edge ([`ServerKind::OF_UP`]); the
//! widget's static server joins the list when `cargo xtask up` or `demo` serve the widget.

use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use super::env_file::StackEnv;
use super::keys::{self, StackKeys};
use super::psql::Psql;
use super::{edge, gateway, postgres, postgrest};
use crate::error::Result;
use crate::paths::target_dir;
use crate::process::{is_running_as, stop_server, wait_until_ready};
use crate::tools::{self, POSTGREST};

/// How long a server may take to be ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the widget's static server may take to listen.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Which program a server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// The cluster's postmaster.
    Postgres,
    /// PostgREST.
    Postgrest,
    /// The API gateway (nginx's master process).
    Gateway,
    /// The native edge server.
    Edge,
    /// `vantage-static`, serving the built widget.
    Widget,
}

impl ServerKind {
    /// The servers `up` starts (and needs running to call a stack running), in the order its
    /// message names them.
    pub const OF_UP: [Self; 4] = [Self::Postgres, Self::Postgrest, Self::Edge, Self::Gateway];

    /// Its `/proc/PID/comm`: a PID is only ever signalled while it still runs this program.
    pub fn comm(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Postgrest => "postgrest",
            Self::Gateway => gateway::COMM,
            Self::Edge => edge::COMM,
            Self::Widget => WIDGET_SERVER_COMM,
        }
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "Postgres",
            Self::Postgrest => "PostgREST",
            Self::Gateway => "the API gateway",
            Self::Edge => "the edge server",
            Self::Widget => "the widget's static server",
        }
    }

    /// Its short name in `up`'s line about a stack not fully running.
    pub fn short_name(self) -> &'static str {
        match self {
            Self::Postgres => "Postgres",
            Self::Postgrest => "PostgREST",
            Self::Gateway => "gateway",
            Self::Edge => "edge",
            Self::Widget => "widget server",
        }
    }

    /// Its log file in the stack's folder.
    pub fn log_file(self) -> &'static str {
        match self {
            Self::Postgres => "postgres.log",
            Self::Postgrest => "postgrest.log",
            Self::Gateway => "gateway.log",
            Self::Edge => "edge.log",
            Self::Widget => "widget-server.log",
        }
    }

    /// Whether the process `pid` still runs as this server.
    pub fn runs_as(self, pid: u32) -> bool {
        is_running_as(pid, self.comm())
    }

    /// Stops the process `pid` if it still runs as this server (SIGINT, a fast shutdown, for
    /// Postgres; SIGTERM for the others; SIGKILL after a while). Returns whether it is gone.
    pub fn stop(self, pid: u32) -> bool {
        let polite = match self {
            Self::Postgres => Signal::SIGINT,
            _ => Signal::SIGTERM,
        };
        !self.runs_as(pid) || stop_server(pid, polite)
    }
}

/// The widget's static server's `/proc/PID/comm`, and its program in the tests crate.
pub const WIDGET_SERVER_COMM: &str = "vantage-static";

/// One server and where it listens, on 127.0.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "server", rename_all = "snake_case")]
pub enum Server {
    /// The cluster.
    Postgres {
        /// Its port.
        port: u16,
    },
    /// PostgREST.
    Postgrest {
        /// The REST API's port.
        port: u16,
        /// The admin server's port (`/ready`, `/live`).
        admin_port: u16,
    },
    /// The API gateway: the project URL's port.
    Gateway {
        /// Its port.
        port: u16,
    },
    /// The edge server.
    Edge {
        /// Its port.
        port: u16,
        /// When its binary was built (ns since the epoch): a newer build restarts it.
        built: u64,
    },
    /// The widget's static server.
    Widget {
        /// Its port.
        port: u16,
    },
}

/// What the readiness checks need besides a server's port: a client of the stack's database
/// and the writer token the edge's health route is asked with.
pub struct Probe<'a> {
    /// A superuser psql client of the stack's cluster.
    pub psql: &'a Psql,
    /// The stack's writer token.
    pub writer_token: &'a str,
}

/// What the env entries need besides a server's ports.
pub struct EnvFacts<'a> {
    /// The stack's keys.
    pub keys: &'a StackKeys,
    /// The cluster's data folder.
    pub data_dir: &'a Path,
}

impl Server {
    /// Which program it is.
    pub fn kind(self) -> ServerKind {
        match self {
            Self::Postgres { .. } => ServerKind::Postgres,
            Self::Postgrest { .. } => ServerKind::Postgrest,
            Self::Gateway { .. } => ServerKind::Gateway,
            Self::Edge { .. } => ServerKind::Edge,
            Self::Widget { .. } => ServerKind::Widget,
        }
    }

    /// Its (main) port.
    pub fn port(self) -> u16 {
        match self {
            Self::Postgres { port }
            | Self::Postgrest { port, .. }
            | Self::Gateway { port }
            | Self::Edge { port, .. }
            | Self::Widget { port } => port,
        }
    }

    /// The line that says it is being started.
    pub fn starting(self) -> String {
        let port = self.port();
        match self {
            Self::Postgres { .. } => format!("Starting Postgres on 127.0.0.1:{port}"),
            Self::Postgrest { .. } => format!("Starting PostgREST 12 on 127.0.0.1:{port}"),
            Self::Gateway { .. } => {
                format!("Starting the API gateway (nginx) on 127.0.0.1:{port}")
            }
            Self::Edge { .. } => format!("Starting the edge server on 127.0.0.1:{port}"),
            Self::Widget { .. } => format!("Serving the widget on 127.0.0.1:{port}"),
        }
    }

    /// Waits until the server, just started as `pid` with its output in `log`, is ready; fails
    /// with the end of its log when it exits first or takes too long.
    pub fn wait_ready(self, pid: u32, log: &Path, probe: &Probe<'_>) -> Result<()> {
        match self {
            Self::Postgres { .. } => postgres::wait_ready(probe.psql, pid, log, READY_TIMEOUT),
            Self::Postgrest { admin_port, .. } => {
                postgrest::wait_ready(admin_port, pid, log, READY_TIMEOUT)
            }
            Self::Gateway { port } => gateway::wait_ready(port, pid, log, READY_TIMEOUT),
            Self::Edge { port, .. } => {
                edge::wait_ready(port, pid, probe.writer_token, log, READY_TIMEOUT)
            }
            Self::Widget { port } => wait_until_ready(
                "the widget's static server",
                pid,
                log,
                LISTEN_TIMEOUT,
                || TcpStream::connect(("127.0.0.1", port)).is_ok(),
            ),
        }
    }

    /// Adds its entries to the env file (the widget's `APP_URL` needs the gateway's
    /// `AUTHENTICATED_JWT` before it).
    pub fn add_env(self, facts: &EnvFacts<'_>, env: &mut StackEnv) -> Result<()> {
        let local = |port: u16| format!("http://127.0.0.1:{port}");
        match self {
            Self::Postgres { port } => {
                env.set(
                    "DATABASE_URL",
                    format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                );
                // For tests that restart the cluster (`pg_ctl -D`).
                env.set("PGDATA", facts.data_dir.display().to_string());
            }
            Self::Postgrest { port, admin_port } => {
                env.set("POSTGREST_URL", local(port));
                env.set("POSTGREST_ADMIN_URL", local(admin_port));
                // For tests that run a PostgREST of their own against this database.
                env.set(
                    "POSTGREST_BIN",
                    tools::path(&POSTGREST)?.display().to_string(),
                );
            }
            Self::Gateway { port } => gateway_env(port, facts.keys, env)?,
            Self::Edge { port, .. } => {
                // The server's own port, for the tests that start, stop and compare edge
                // servers.
                env.set("EDGE_DIRECT_URL", edge::url(port));
                env.set("WRITER_TOKEN", facts.keys.writer_token());
                let binary = target_dir().join("debug").join("vantage-edge-server");
                env.set("EDGE_BIN", binary.display().to_string());
            }
            Self::Widget { port } => {
                // The token goes in the fragment, as a Supabase auth redirect gives it: never
                // to a server.
                let app_url = format!(
                    "{}/#access_token={}&token_type=bearer",
                    local(port),
                    env.require("AUTHENTICATED_JWT")?
                );
                env.set("APP_URL", app_url);
            }
        }
        Ok(())
    }
}

/// The project URL's entries: the URL, the demo user's session for it, and the edge function
/// through it, as ETL jobs reach it on Supabase.
fn gateway_env(port: u16, keys: &StackKeys, env: &mut StackEnv) -> Result<()> {
    let supabase_url = gateway::url(port);
    env.set("SUPABASE_URL", supabase_url.clone());
    env.set(
        "AUTHENTICATED_JWT",
        keys.sign_es256(&keys::demo_user_claims(&format!("{supabase_url}/auth/v1")))?,
    );
    env.set(
        "EDGE_URL",
        format!("{supabase_url}/functions/v1/{}", edge::FUNCTION_NAME),
    );
    Ok(())
}

/// A server on the stack's list, and its PID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningServer {
    /// The server.
    #[serde(flatten)]
    pub server: Server,
    /// Its PID when it was started.
    pub pid: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_server_is_saved_as_one_flat_record() {
        let running = RunningServer {
            server: Server::Edge { port: 5, built: 7 },
            pid: 42,
        };
        let json = serde_json::to_value(running).expect("serializing");
        assert_eq!(
            json,
            serde_json::json!({"server": "edge", "port": 5, "built": 7, "pid": 42})
        );
        let back: RunningServer = serde_json::from_value(json).expect("reading it back");
        assert_eq!(back, running);
        assert_eq!(back.server.kind().log_file(), "edge.log");
    }
}
