//! `state.json` in a stack's folder: the list of the servers started, each with its PID and
//! ports, as this xtask writes it; and the one an older xtask wrote, read only to stop what it
//! names.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::postgres::PgMajor;
use super::servers::{RunningServer, ServerKind};
use crate::error::{Result, XtaskError};

/// The servers of a running stack, saved as `state.json` in its folder: those started, in the
/// order they were started (a server not started is not on the list).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackState {
    /// The PostgreSQL major the cluster runs.
    pub pg_major: PgMajor,
    /// The servers started, each with its PID and ports.
    pub servers: Vec<RunningServer>,
}

impl StackState {
    /// The first server of `kind` on the list.
    pub fn find(&self, kind: ServerKind) -> Option<&RunningServer> {
        self.servers.iter().find(|s| s.server.kind() == kind)
    }

    /// Takes the servers of `kind` off the list.
    pub fn remove(&mut self, kind: ServerKind) -> Vec<RunningServer> {
        let (taken, kept) = std::mem::take(&mut self.servers)
            .into_iter()
            .partition(|s| s.server.kind() == kind);
        self.servers = kept;
        taken
    }
}

/// `state.json` as xtask before the list wrote it: one field per server, a port of `0` or no
/// PID for one not started. Only read, so that `up` and `down` stop what it names.
#[derive(Debug, Deserialize)]
#[expect(
    clippy::struct_field_names,
    reason = "the names an older xtask wrote in state.json"
)]
struct OldStackState {
    db_pid: u32,
    rest_pid: Option<u32>,
    #[serde(default)]
    edge_pid: Option<u32>,
    #[serde(default)]
    widget_pid: Option<u32>,
    #[serde(default)]
    gateway_pid: Option<u32>,
}

/// What a stack's folder says runs.
pub enum SavedState {
    /// `state.json` as this xtask writes it.
    Current(StackState),
    /// `state.json` of an older xtask: only its servers' PIDs are used, to stop them.
    Old(Vec<(ServerKind, u32)>),
}

impl SavedState {
    /// The servers it names and their saved PIDs, in the order they were started.
    pub fn pids(&self) -> Vec<(ServerKind, u32)> {
        match self {
            Self::Current(state) => state
                .servers
                .iter()
                .map(|s| (s.server.kind(), s.pid))
                .collect(),
            Self::Old(pids) => pids.clone(),
        }
    }
}

impl OldStackState {
    fn pids(&self) -> Vec<(ServerKind, u32)> {
        let others = [
            (ServerKind::Postgrest, self.rest_pid),
            (ServerKind::Gateway, self.gateway_pid),
            (ServerKind::Edge, self.edge_pid),
            (ServerKind::Widget, self.widget_pid),
        ];
        std::iter::once((ServerKind::Postgres, self.db_pid))
            .chain(
                others
                    .into_iter()
                    .filter_map(|(kind, pid)| pid.map(|pid| (kind, pid))),
            )
            .collect()
    }
}

/// What the state file `file` says runs: `None` when there is none, or it is no state of any
/// xtask (then nothing of it can be stopped by PID).
pub fn read(file: &Path) -> Option<SavedState> {
    let text = std::fs::read_to_string(file).ok()?;
    serde_json::from_str(&text)
        .map(SavedState::Current)
        .or_else(|_| {
            serde_json::from_str::<OldStackState>(&text).map(|old| SavedState::Old(old.pids()))
        })
        .ok()
}

/// Saves `state` as the state file `file`.
pub fn write(file: &Path, state: &StackState) -> Result<()> {
    let text = serde_json::to_string_pretty(state)?;
    std::fs::write(file, text).map_err(XtaskError::io("writing", file))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::digest::sha256_hex;
    use crate::stack::servers::Server;

    fn saved(json: &str) -> Option<SavedState> {
        let file = std::env::temp_dir().join(format!(
            "vantage-state-{}-{}.json",
            std::process::id(),
            sha256_hex(json.as_bytes())
        ));
        std::fs::write(&file, json).expect("writing a test file");
        let state = read(&file);
        let _ = std::fs::remove_file(&file);
        state
    }

    #[test]
    fn an_older_state_names_the_servers_to_stop() {
        // As xtask wrote it before the list: ports of 0 and no PID for what was not started.
        let old = r#"{"db_port": 46009, "db_pid": 25352, "rest_port": 43095,
            "rest_admin_port": 35573, "rest_pid": 25454, "edge_port": 0, "edge_pid": null,
            "edge_built": 0, "widget_pid": 21562, "gateway_port": 36723, "gateway_pid": 25465,
            "pg_major": "V17"}"#;
        let Some(SavedState::Old(pids)) = saved(old) else {
            panic!("an older state.json is not read as one");
        };
        assert_eq!(
            pids,
            [
                (ServerKind::Postgres, 25352),
                (ServerKind::Postgrest, 25454),
                (ServerKind::Gateway, 25465),
                (ServerKind::Widget, 21562),
            ]
        );
        assert!(saved("not json").is_none());
    }

    #[test]
    fn the_state_is_the_list_of_servers_started() {
        let state = StackState {
            pg_major: PgMajor::V15,
            servers: vec![
                RunningServer {
                    server: Server::Postgres { port: 1 },
                    pid: 10,
                },
                RunningServer {
                    server: Server::Postgrest {
                        port: 2,
                        admin_port: 3,
                    },
                    pid: 11,
                },
            ],
        };
        let json = serde_json::to_string(&state).expect("serializing");
        let Some(SavedState::Current(mut back)) = saved(&json) else {
            panic!("{json} is not read back");
        };
        assert_eq!(back.pg_major, PgMajor::V15);
        assert_eq!(back.servers, state.servers);
        assert!(back.find(ServerKind::Edge).is_none());
        assert_eq!(back.remove(ServerKind::Postgrest).len(), 1);
        assert_eq!(back.servers, state.servers[..1]);
    }
}
