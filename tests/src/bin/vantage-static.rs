//! `vantage-static`: serves folders on loopback as a CDN serves the widget (brotli or gzip
//! beside each file when the browser asks, `immutable` hashed files, `no-cache` pages and
//! settings; see `vantage_sync_tests::static_site`), each folder at the root of its own port,
//! as each page would be at the root of its own site. The widget benchmark's pages are served
//! by it.
//!
//! ```text
//! vantage-static 8080=target/bench-stack/pages/widget 8081=target/bench-stack/pages/floor
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use vantage_sync_tests::{Error, Result, static_site};

/// Serves folders as a CDN does.
#[derive(Debug, Parser)]
struct Args {
    /// `PORT=FOLDER`: serves FOLDER at the root of 127.0.0.1:PORT.
    #[arg(required = true, value_parser = site)]
    sites: Vec<(u16, PathBuf)>,
}

/// `PORT=FOLDER` read.
fn site(text: &str) -> std::result::Result<(u16, PathBuf), String> {
    let (port, folder) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not PORT=FOLDER"))?;
    let port = port
        .parse()
        .map_err(|_| format!("{port:?} is not a port number"))?;
    Ok((port, PathBuf::from(folder)))
}

async fn serve_all(sites: Vec<(u16, PathBuf)>) -> Result<()> {
    let mut servers = tokio::task::JoinSet::new();
    for (port, folder) in sites {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        servers.spawn(async move { static_site::serve(&folder, addr).await });
    }
    while let Some(done) = servers.join_next().await {
        done.map_err(|e| Error::Check(format!("a server stopped: {e}")))??;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let served = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(Error::Runtime)
        .and_then(|runtime| runtime.block_on(serve_all(args.sites)));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vantage-static: {e}");
            ExitCode::FAILURE
        }
    }
}
