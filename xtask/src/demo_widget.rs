//! The demo's widget: the release build, with a `config.json` that points it at the demo
//! stack, served as static files from a loopback port (Python's `http.server`), stopped by its
//! PID when dropped.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::error::{Result, XtaskError};
use crate::process::{free_port, is_alive, is_running_as, last_lines, spawn_server, stop_server};
use crate::progress::Step;
use crate::stack::RunningStack;
use crate::tools::ensure_widget_tools;
use crate::widget::build_release_to;

/// The port the stack's edge function allows as a browser origin (`CORS_ORIGINS`).
const DEMO_PORT: u16 = 8080;

/// The served widget.
pub struct DemoWidget {
    pid: u32,
    /// The page, signed in as the stack's `authenticated` user (the token is in the fragment,
    /// which never reaches a server).
    pub url: String,
}

impl DemoWidget {
    /// Builds the widget into the stack's folder and serves it.
    pub fn start(stack: &RunningStack) -> Result<Self> {
        let tools = ensure_widget_tools()?;
        let dir = stack.dir.join("widget");
        build_release_to(&tools, &dir)?;
        let setting = |key: &str| {
            stack
                .env
                .get(key)
                .map(str::to_owned)
                .ok_or_else(|| XtaskError::Stack(format!("the demo stack has no {key}")))
        };
        // Only what a browser may hold: PostgREST's and the edge's URLs and the publishable
        // (anon) key.
        let edge_url = setting("EDGE_URL")?;
        let config = json!({
            "rest-url": setting("POSTGREST_URL")?,
            "functions-url": edge_url.trim_end_matches("/vantage-sync"),
            "anon-key": setting("ANON_KEY")?,
            "refresh-seconds": 10,
        });
        let file = dir.join("config.json");
        std::fs::write(&file, format!("{config:#}\n")).map_err(XtaskError::io("writing", &file))?;

        // The stack's edge function lets 127.0.0.1:8080 call `abort` (CORS): use that port
        // when it is free, so "Abort run" works in the demo.
        let port = if std::net::TcpListener::bind(("127.0.0.1", DEMO_PORT)).is_ok() {
            DEMO_PORT
        } else {
            println!("    (port {DEMO_PORT} is taken: \"Abort run\" will be refused by CORS)");
            free_port()?
        };
        let step = Step::start(format!("Serving the widget on 127.0.0.1:{port}"));
        let log = stack.dir.join("widget-server.log");
        let pid = spawn_server(
            Command::new("python3")
                .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
                .arg(&dir)
                .arg(port.to_string()),
            &log,
        )?;
        let widget = Self {
            pid,
            url: format!(
                "http://127.0.0.1:{port}/#access_token={}&token_type=bearer",
                setting("AUTHENTICATED_JWT")?
            ),
        };
        wait_listening(port, pid, &log)?;
        step.done();
        Ok(widget)
    }
}

impl Drop for DemoWidget {
    fn drop(&mut self) {
        // Only the server started here, by its PID, while it is still that program.
        if is_running_as(self.pid, "python3") {
            stop_server(self.pid, "TERM");
        }
    }
}

/// Waits until the server accepts connections.
fn wait_listening(port: u16, pid: u32, log: &Path) -> Result<()> {
    let timeout = Duration::from_secs(10);
    let deadline = Instant::now() + timeout;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if !is_alive(pid) || Instant::now() >= deadline {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            return Err(XtaskError::NotReady {
                server: "the widget's static server",
                seconds: timeout.as_secs(),
                log: log.to_path_buf(),
                tail: format!("\n{}", last_lines(&text, 10)),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
