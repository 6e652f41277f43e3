//! The dev stack's widget (`cargo xtask up` and `cargo xtask demo`): the release build, with a
//! `config.json` that points it at the stack, served as static files from a loopback port by
//! Python's `http.server`, detached like the stack's other servers. Its PID is kept in the
//! stack's folder (`widget.pid`), so `cargo xtask down` stops it with the rest; `APP_URL` in
//! the env file opens it signed in as the stack's admin user.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::error::{Result, XtaskError};
use crate::process::{
    free_port, is_running_as, spawn_server, stop_server, wait_until_ready, write_private_file,
};
use crate::progress::Step;
use crate::stack::RunningStack;
use crate::tools::ensure_widget_tools;
use crate::widget::build_release_to;

/// How long the static server may take to listen.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// The port the stack's edge function allows as a browser origin (`CORS_ORIGINS`), so that
/// "Abort run" works; another one is used when it is taken.
const PREFERRED_PORT: u16 = 8080;

/// The file that holds the server's PID, in the stack's folder.
const PID_FILE: &str = "widget.pid";

/// Builds the widget into the stack's folder, serves it (replacing an earlier server of this
/// stack), and adds `APP_URL` to the stack's env file. Returns `APP_URL`.
pub fn serve(stack: &mut RunningStack) -> Result<String> {
    stop(&stack.dir);
    let tools = ensure_widget_tools()?;
    let dir = stack.dir.join("widget");
    build_release_to(&tools, &dir)?;
    let setting = |key: &str| {
        stack
            .env
            .get(key)
            .map(str::to_owned)
            .ok_or_else(|| XtaskError::Stack(format!("the stack has no {key}")))
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

    let port = if std::net::TcpListener::bind(("127.0.0.1", PREFERRED_PORT)).is_ok() {
        PREFERRED_PORT
    } else {
        println!("    (port {PREFERRED_PORT} is taken: \"Abort run\" will be refused by CORS)");
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
    write_private_file(&stack.dir.join(PID_FILE), &pid.to_string())?;
    wait_until_ready(
        "the widget's static server",
        pid,
        &log,
        LISTEN_TIMEOUT,
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
    )?;
    step.done();
    // The token goes in the fragment, as a Supabase auth redirect gives it: never to a server.
    let app_url = format!(
        "http://127.0.0.1:{port}/#access_token={}&token_type=bearer",
        setting("AUTHENTICATED_JWT")?
    );
    stack.env.set("APP_URL", app_url.clone());
    stack.env.write(&stack.dir.join("env"))?;
    Ok(app_url)
}

/// Stops the widget server of the stack in `dir`, if one runs (by its saved PID, and only
/// while that PID is still a Python process).
pub fn stop(dir: &Path) {
    let file = dir.join(PID_FILE);
    let pid = std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok());
    if let Some(pid) = pid.filter(|&pid| is_running_as(pid, "python3")) {
        stop_server(pid, "TERM");
    }
    let _ = std::fs::remove_file(file);
}
