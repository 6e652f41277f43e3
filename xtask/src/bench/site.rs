//! The widget benchmark's pages, served: written for loopback and for the shaping proxies
//! (`pages::write`), each folder at the root of its own loopback port (`vantage-static`), and
//! the proxies of the mobile link that the stopwatch starts. Stopped when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::first_cards::Proxy;
use super::pages::{self, Settings};
use crate::error::{Result, XtaskError};
use crate::process::{build_tests_binary, spawn_server, stop_server, wait_until_ready};
use crate::progress::Step;
use crate::stack::RunningStack;

/// How long the static server may take to listen.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// The static server of the pages, stopped when dropped.
struct PageServer {
    pid: u32,
}

impl PageServer {
    /// Serves each folder of `sites` at the root of its port.
    fn start(sites: &[(u16, &Path)], log: &Path) -> Result<Self> {
        let binary = build_tests_binary("vantage-static")?;
        let mut cmd = Command::new(binary);
        for (port, folder) in sites {
            cmd.arg(format!("{port}={}", folder.display()));
        }
        let server = Self {
            pid: spawn_server(&mut cmd, log)?,
        };
        wait_until_ready(
            "the pages' static server",
            server.pid,
            log,
            LISTEN_TIMEOUT,
            || {
                sites
                    .iter()
                    .all(|(port, _)| std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok())
            },
        )?;
        Ok(server)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        stop_server(self.pid, Signal::SIGTERM);
    }
}

/// `n` distinct free loopback ports (held together while chosen, so none repeats).
fn free_ports<const N: usize>() -> Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| std::net::TcpListener::bind(("127.0.0.1", 0)))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(XtaskError::Port)?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr().map_err(XtaskError::Port)?.port();
    }
    Ok(ports)
}

/// The loopback address of `url` (`http://127.0.0.1:PORT`).
fn address_of(url: &str) -> Result<SocketAddr> {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .map_err(|e| XtaskError::BuildOutput(format!("{url} is not http://127.0.0.1:PORT: {e}")))
}

/// The pages, served.
pub struct Site {
    _server: PageServer,
    /// The loopback pages' URLs (with the session in the fragment), in `pages::PAGES` order.
    pub loopback: Vec<String>,
    /// The same pages behind their shaping proxies, naming the gateway's proxy.
    pub mobile: Vec<String>,
    /// The loopback pages' folders.
    pub loopback_folders: [PathBuf; 3],
    /// The proxies' ports: the mobile pages' (listen, upstream), and the gateway's.
    mobile_ports: Vec<(u16, u16)>,
    gateway_proxy: u16,
    gateway: String,
}

impl Site {
    /// Writes the pages for `stack` from the widget's release build in `dist` and serves them.
    pub fn serve(stack: &RunningStack, dist: &Path) -> Result<Self> {
        let gateway = stack.env.require("SUPABASE_URL")?.to_owned();
        let publishable_key = stack.env.require("PUBLISHABLE_KEY")?.to_owned();
        let fragment = format!(
            "#access_token={}&token_type=bearer",
            stack.env.require("AUTHENTICATED_JWT")?
        );
        // Pages on loopback (3), the mobile pages (3), their proxies (3), the gateway's proxy.
        let ports: [u16; 10] = free_ports()?;
        let (direct, mobile_origin) = (&ports[0..3], &ports[3..6]);
        let (mobile_proxies, gateway_proxy) = (&ports[6..9], ports[9]);

        let step =
            Step::start("Writing the pages: the widget, the floor, the React peer (esbuild)");
        let dir = stack.dir.join("pages");
        let loopback_folders = pages::write(
            &dir.join("loopback"),
            dist,
            &Settings {
                supabase_url: gateway.clone(),
                publishable_key: publishable_key.clone(),
            },
        )?;
        let mobile_folders = pages::write(
            &dir.join("mobile"),
            dist,
            &Settings {
                supabase_url: format!("http://127.0.0.1:{gateway_proxy}"),
                publishable_key,
            },
        )?;
        step.done();

        let sites: Vec<(u16, &Path)> = direct
            .iter()
            .chain(mobile_origin)
            .copied()
            .zip(
                loopback_folders
                    .iter()
                    .chain(&mobile_folders)
                    .map(PathBuf::as_path),
            )
            .collect();
        let server = PageServer::start(&sites, &stack.dir.join("pages-server.log"))?;
        let urls = |ports: &[u16]| -> Vec<String> {
            ports
                .iter()
                .map(|port| format!("http://127.0.0.1:{port}/{fragment}"))
                .collect()
        };
        Ok(Self {
            _server: server,
            loopback: urls(direct),
            mobile: urls(mobile_proxies),
            loopback_folders,
            mobile_ports: mobile_proxies
                .iter()
                .copied()
                .zip(mobile_origin.iter().copied())
                .collect(),
            gateway_proxy,
            gateway,
        })
    }

    /// The shaping proxies of the mobile pages: one in front of each page's server and one in
    /// front of the gateway.
    pub fn proxies(&self) -> Result<Vec<Proxy>> {
        let loopback = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        let mut shaped: Vec<Proxy> = self
            .mobile_ports
            .iter()
            .map(|&(listen, upstream)| Proxy {
                listen: loopback(listen),
                upstream: loopback(upstream),
            })
            .collect();
        shaped.push(Proxy {
            listen: loopback(self.gateway_proxy),
            upstream: address_of(&self.gateway)?,
        });
        Ok(shaped)
    }
}
