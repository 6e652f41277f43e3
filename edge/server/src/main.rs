//! `vantage-edge-server`: the vantage-sync edge function as a native HTTP server.
//!
//! Reads the same variables as the Supabase function (`SUPABASE_URL`, `SUPABASE_SECRET_KEYS` /
//! `SUPABASE_SECRET_KEY` / `SUPABASE_SERVICE_ROLE_KEY`, `SUPABASE_JWKS`, `SUPABASE_JWT_SECRET`,
//! `VANTAGE_WRITER_TOKEN_SHA256`, ...) plus `VANTAGE_EDGE_ADDR` (default `127.0.0.1:54321`).
//! A configuration problem stops it at start-up with the variable's name (exit code 2). Prints
//! one JSON line per request on stdout; stops gracefully on SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use vantage_edge_core::{Config, Edge};
use vantage_edge_server::{DEFAULT_ADDR, ReqwestUpstream, SystemClock, app};

/// The listen address variable.
const VANTAGE_EDGE_ADDR: &str = "VANTAGE_EDGE_ADDR";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("vantage-edge-server: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), String> {
    let config = Config::from_env(|name| std::env::var(name).ok())
        .map_err(|e| format!("configuration error: {e}"))?;
    let addr_text = std::env::var(VANTAGE_EDGE_ADDR)
        .ok()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ADDR.to_owned());
    let addr: SocketAddr = addr_text.trim().parse().map_err(|_| {
        format!("configuration error: {VANTAGE_EDGE_ADDR} is not an address like 127.0.0.1:54321 (got {addr_text:?})")
    })?;
    let upstream = ReqwestUpstream::new(
        Duration::from_millis(config.upstream_timeout_ms),
        config.webhooks_allow_private,
    )
    .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let rest_url = config.rest_url.clone();
    let edge = Arc::new(Edge::new(config, upstream, SystemClock));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    println!(
        "{}",
        json!({ "msg": "listening", "addr": addr.to_string(), "rest_url": rest_url })
    );
    axum::serve(listener, app(edge))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    println!("{}", json!({ "msg": "stopped" }));
    Ok(())
}

/// Resolves on SIGTERM (how `cargo xtask down` and service managers stop it) or Ctrl-C.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
