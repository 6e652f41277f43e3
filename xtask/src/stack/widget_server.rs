//! The stack's widget (`cargo xtask up` and `cargo xtask demo`): a release build with settings
//! in its page that point it at the stack, served as static files from a loopback port by
//! `vantage-static` (the tests crate's CDN-like server, the one the widget benchmark uses: the
//! cache headers of docs/deploy.md), detached like the stack's other servers. It joins the
//! stack's list of servers ([`super::servers`]), so `cargo xtask down` stops it with the rest
//! and the env file gets its `APP_URL`, which opens it signed in as the stack's admin user.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use super::keys::StackKeys;
use super::servers::{Probe, Server, ServerKind, WIDGET_SERVER_COMM};
use super::{RunningStack, Stack};
use crate::error::{Result, XtaskError};
use crate::page_settings::inline_settings;
use crate::process::{build_tests_binary, free_port, spawn_server};

/// The port the stack's edge function allows as a browser origin (`CORS_ORIGINS`), so that
/// "Abort run" works; another one is used when it is taken.
const PREFERRED_PORT: u16 = 8080;

impl RunningStack {
    /// Serves the built widget in `site` (replacing an earlier server of this stack) with this
    /// stack's settings in its page, and adds `APP_URL` to the env file. Returns `APP_URL`.
    pub fn serve_widget(&mut self, site: &Path) -> Result<String> {
        let stack = Stack::at(self.dir.clone());
        let mut state = stack
            .current_state()
            .ok_or_else(|| XtaskError::Unreadable {
                path: stack.state_file(),
                what: "a running stack's state",
                reason: "it is missing; run `cargo xtask up` again".into(),
            })?;
        for old in state.remove(ServerKind::Widget) {
            ServerKind::Widget.stop(old.pid);
        }
        // Only what a browser may hold, and what a Supabase project gives it: the project URL
        // and the publishable key (REST and functions are under the project URL).
        let config = json!({
            "supabase-url": self.env.require("SUPABASE_URL")?,
            "publishable-key": self.env.require("PUBLISHABLE_KEY")?,
            "refresh-seconds": 10,
        });
        // In the page rather than in config.json: the first read starts a round trip sooner.
        inline_settings(site, &config)?;

        let port = if std::net::TcpListener::bind(("127.0.0.1", PREFERRED_PORT)).is_ok() {
            PREFERRED_PORT
        } else {
            println!("    (port {PREFERRED_PORT} is taken: \"Abort run\" will be refused by CORS)");
            free_port()?
        };
        let server = build_tests_binary(WIDGET_SERVER_COMM)?;
        let keys = StackKeys::load(&self.dir.join("keys.json"))?;
        let probe = Probe {
            psql: &self.psql,
            writer_token: keys.writer_token(),
        };
        stack.start_server(&mut state, Server::Widget { port }, &probe, |log| {
            spawn_server(
                Command::new(server).arg(format!("{port}={}", site.display())),
                log,
            )
        })?;
        self.env = stack.environment(&state)?;
        self.env.write()?;
        Ok(self.env.require("APP_URL")?.to_owned())
    }
}
