//! `vantage-static`: serves a folder on loopback as a CDN serves the widget (brotli or gzip
//! beside each file when the browser asks, `immutable` hashed files, `no-cache` pages and
//! settings; see `vantage_sync_tests::static_site`). The widget benchmark's pages are served
//! by it.
//!
//! ```text
//! vantage-static --port 8080 target/bench-stack/pages
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Serves a folder as a CDN does.
#[derive(Debug, Parser)]
struct Args {
    /// The loopback port to listen on.
    #[arg(long)]
    port: u16,
    /// The folder to serve.
    root: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let served = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(vantage_sync_tests::Error::Runtime)
        .and_then(|runtime| {
            runtime.block_on(vantage_sync_tests::static_site::serve(&args.root, addr))
        });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vantage-static: {e}");
            ExitCode::FAILURE
        }
    }
}
