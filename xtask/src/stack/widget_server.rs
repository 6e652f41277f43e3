//! The stack's widget (`cargo xtask up` and `cargo xtask demo`): a release build with settings
//! in its page that point it at the stack, served as static files from a loopback port by
//! `vantage-static` (the tests crate's CDN-like server, the one the widget benchmark uses: the
//! cache headers of docs/deploy.md), detached like the stack's other servers. Its PID is kept in the
//! stack's state, so `cargo xtask down` stops it with the rest; `APP_URL` in the env file opens
//! it signed in as the stack's admin user.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::json;

use super::{RunningStack, Stack, WIDGET_SERVER_COMM};
use crate::error::{Result, XtaskError};
use crate::page_settings::inline_settings;
use crate::process::{
    build_tests_binary, free_port, is_running_as, spawn_server, stop_server, wait_until_ready,
};
use crate::progress::Step;

/// How long the static server may take to listen.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// The port the stack's edge function allows as a browser origin (`CORS_ORIGINS`), so that
/// "Abort run" works; another one is used when it is taken.
const PREFERRED_PORT: u16 = 8080;

impl RunningStack {
    /// Serves the built widget in `site` (replacing an earlier server of this stack) with this
    /// stack's settings in its page, and adds `APP_URL` to the env file. Returns `APP_URL`.
    pub fn serve_widget(&mut self, site: &Path) -> Result<String> {
        let stack = Stack::at(self.dir.clone());
        let mut state = stack.read_state().ok_or_else(|| XtaskError::Unreadable {
            path: stack.state_file(),
            what: "a running stack's state",
            reason: "it is missing; run `cargo xtask up` again".into(),
        })?;
        if let Some(pid) = state
            .widget_pid
            .take()
            .filter(|&pid| is_running_as(pid, WIDGET_SERVER_COMM))
        {
            stop_server(pid, Signal::SIGTERM);
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
        let step = Step::start(format!("Serving the widget on 127.0.0.1:{port}"));
        let log = self.dir.join("widget-server.log");
        let pid = spawn_server(
            Command::new(server).arg(format!("{port}={}", site.display())),
            &log,
        )?;
        state.widget_pid = Some(pid);
        stack.write_state(&state)?;
        wait_until_ready(
            "the widget's static server",
            pid,
            &log,
            LISTEN_TIMEOUT,
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        )?;
        step.done();
        // The token goes in the fragment, as a Supabase auth redirect gives it: never to a
        // server.
        let app_url = format!(
            "http://127.0.0.1:{port}/#access_token={}&token_type=bearer",
            self.env.require("AUTHENTICATED_JWT")?
        );
        self.env.set("APP_URL", app_url.clone());
        self.env.write()?;
        Ok(app_url)
    }
}
