//! What the end-to-end tests need around a real headless Chromium: the built widget served
//! as a CDN serves it with a `config.json` of the test's choosing, Debian's `chromedriver`, a
//! WebDriver session (fantoccini) behind blocking calls, and a PostgREST of the test's own
//! that it may stop and start. Every process is a child of the test, on a loopback port, and
//! is killed by its handle when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use vantage_dev_files::tree::copy_dir;

use crate::edge::closed_port;
use crate::error::{Error, Result};
use crate::stack::Stack;
use crate::static_site;

/// How long a server may take to listen, and a page condition to come true.
const PATIENCE: Duration = Duration::from_secs(30);

/// A server the test started; killed when dropped.
#[derive(Debug)]
pub struct ChildServer {
    child: Child,
    /// Its loopback port.
    pub port: u16,
}

impl ChildServer {
    /// Starts `cmd` (which must listen on 127.0.0.1:`port`) and waits until it does.
    pub fn start(mut cmd: Command, port: u16, what: &str) -> Result<Self> {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::Edge(format!("starting {what}: {e}")))?;
        let mut server = Self { child, port };
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(Error::Edge(format!("{what} exited ({status})")));
            }
            if Instant::now() >= deadline {
                return Err(Error::Edge(format!("{what} did not listen on port {port}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        // Only the child this test started, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a served widget's settings are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsIn {
    /// A `config.json` beside `index.html`.
    ConfigFile,
    /// In `index.html` itself (`<script type="application/json" id="vantage-sync-config">`),
    /// as `cargo xtask build-widget --settings` writes them.
    Page,
}

/// The built widget (`dist/`) copied to a temporary folder with its settings, served as a
/// CDN serves it ([`static_site`]) from a runtime of its own; stopped when dropped.
#[derive(Debug)]
pub struct ServedWidget {
    _runtime: tokio::runtime::Runtime,
    dir: PathBuf,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
}

impl ServedWidget {
    /// Serves `dist` on 127.0.0.1:`port` with `config` as its settings, put where `place` says.
    pub fn start(dist: &Path, port: u16, config: &Value, place: SettingsIn) -> Result<Self> {
        // One folder per server: a test may serve the widget twice, with two configurations.
        let dir =
            std::env::temp_dir().join(format!("vantage-widget-e2e-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(dist, &dir)?;
        match place {
            SettingsIn::ConfigFile => write(&dir.join("config.json"), &config.to_string())?,
            SettingsIn::Page => {
                let index = dir.join("index.html");
                let html = std::fs::read_to_string(&index).map_err(Error::io(&index))?;
                write(&index, &with_settings_in_page(&html, config)?)?;
            }
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .map_err(|source| Error::Net {
                what: format!("binding 127.0.0.1:{port} for the widget"),
                source,
            })?;
        let router = static_site::router(&dir);
        // Bound before it returns: the browser may connect at once.
        runtime.spawn(async move { axum::serve(listener, router).await });
        Ok(Self {
            _runtime: runtime,
            dir,
            url: format!("http://127.0.0.1:{port}/"),
        })
    }
}

/// Writes `text` to `file`.
fn write(file: &Path, text: &str) -> Result<()> {
    std::fs::write(file, text).map_err(Error::io(file))
}

/// The widget's `html` with `config` as the content of its settings element (`<` escaped, so
/// no value can end the element).
fn with_settings_in_page(html: &str, config: &Value) -> Result<String> {
    let element = html
        .find("vantage-sync-config")
        .and_then(|at| html[at..].find('>').map(|end| at + end + 1))
        .and_then(|start| {
            html[start..]
                .find("</script>")
                .map(|end| (start, start + end))
        });
    let (start, end) = element.ok_or_else(|| {
        Error::Check(
            "the built index.html has no vantage-sync-config element to hold settings".into(),
        )
    })?;
    let json = config.to_string().replace('<', "\\u003c");
    Ok(format!("{}{json}{}", &html[..start], &html[end..]))
}

impl Drop for ServedWidget {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A PostgREST of the test's own against the stack's database, configured like the stack's
/// (`POSTGREST_BIN` in its env file), so a test can stop and start it.
#[derive(Debug)]
pub struct OwnPostgrest {
    binary: PathBuf,
    db_port: String,
    jwks: String,
    port: u16,
    server: Option<ChildServer>,
}

impl OwnPostgrest {
    /// Starts it on a free loopback port.
    pub fn start(stack: &Stack) -> Result<Self> {
        let binary = PathBuf::from(stack.setting("POSTGREST_BIN")?);
        let db_port = stack
            .database_url()
            .rsplit_once(':')
            .and_then(|(_, rest)| rest.split('/').next())
            .ok_or_else(|| Error::Edge("DATABASE_URL has no port".to_owned()))?
            .to_owned();
        let jwks = std::fs::read_to_string(stack.jwks_file()).map_err(|source| Error::Io {
            path: stack.jwks_file().to_path_buf(),
            source,
        })?;
        let mut postgrest = Self {
            binary,
            db_port,
            jwks,
            port: closed_port()?,
            server: None,
        };
        postgrest.resume()?;
        Ok(postgrest)
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops it (the port stays reserved for [`OwnPostgrest::resume`]).
    pub fn stop(&mut self) {
        self.server = None;
    }

    /// Starts it again on the same port and waits until it answers.
    pub fn resume(&mut self) -> Result<()> {
        let mut cmd = Command::new(&self.binary);
        cmd.env_clear()
            .env(
                "PGRST_DB_URI",
                format!(
                    "postgres://authenticator@127.0.0.1:{}/postgres",
                    self.db_port
                ),
            )
            .env("PGRST_DB_SCHEMAS", "public")
            .env("PGRST_DB_ANON_ROLE", "anon")
            // Supabase's default cap, as the stack's: clients must page past it.
            .env("PGRST_DB_MAX_ROWS", "1000")
            .env("PGRST_JWT_SECRET", &self.jwks)
            .env("PGRST_SERVER_HOST", "127.0.0.1")
            .env("PGRST_SERVER_PORT", self.port.to_string());
        self.server = Some(ChildServer::start(cmd, self.port, "PostgREST")?);
        let deadline = Instant::now() + PATIENCE;
        // Listening comes before the schema cache: wait for a real answer.
        while reqwest::blocking::get(format!("{}/vantage_sync_state?limit=0", self.url()))
            .map_or(true, |r| !r.status().is_success() && r.status() != 401)
        {
            if Instant::now() >= deadline {
                return Err(Error::Edge("PostgREST did not become ready".to_owned()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

/// Debian's `chromedriver` on a loopback port, for several browser sessions one after another
/// (a benchmark's loads: starting the driver once spares each load its start-up).
#[derive(Debug)]
pub struct ChromeDriver {
    server: ChildServer,
}

impl ChromeDriver {
    /// Starts `chromedriver`.
    pub fn start() -> Result<Self> {
        let port = closed_port()?;
        let mut cmd = Command::new("chromedriver");
        cmd.arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1");
        Ok(Self {
            server: ChildServer::start(cmd, port, "chromedriver")?,
        })
    }

    /// A new headless Chromium session `width` × `height` pixels: a new profile, an empty
    /// cache; it ends when the [`Browser`] is dropped.
    pub fn session(&self, width: u32, height: u32) -> Result<Browser> {
        Browser::connect(self.server.port, width, height, None, false)
    }

    /// As [`ChromeDriver::session`], with chromedriver's performance log on: the page's
    /// CDP network events (the `devtools` module reads them).
    pub fn logged_session(&self, width: u32, height: u32) -> Result<Browser> {
        Browser::connect(self.server.port, width, height, None, true)
    }
}

/// A chromedriver command of its own, `POST /session/{id}/{path}` with a JSON body
/// (fantoccini sends it with `Client::issue_cmd`).
#[derive(Debug)]
pub struct Post {
    /// The path after `session/{id}/`.
    pub path: String,
    /// The JSON body.
    pub body: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Post {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// A headless Chromium driven through `chromedriver`, with blocking calls.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    _driver: Option<ChildServer>,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Browser")
    }
}

impl Browser {
    /// Starts `chromedriver` and a headless Chromium session `width` × `height` pixels.
    pub fn start(width: u32, height: u32) -> Result<Self> {
        let driver = ChromeDriver::start()?;
        Self::connect(
            driver.server.port,
            width,
            height,
            Some(driver.server),
            false,
        )
    }

    /// A session of the `chromedriver` on `port`; `driver`, when given, is stopped with it;
    /// `performance_log` turns on chromedriver's log of CDP events.
    fn connect(
        port: u16,
        width: u32,
        height: u32,
        driver: Option<ChildServer>,
        performance_log: bool,
    ) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", format!("--window-size={width},{height}"),
                ],
            }),
        );
        if performance_log {
            capabilities.insert(
                "goog:loggingPrefs".to_owned(),
                json!({ "performance": "ALL" }),
            );
        }
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = runtime
            .block_on(
                ClientBuilder::new(connector)
                    .capabilities(capabilities)
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .map_err(|e| Error::Edge(format!("starting a Chromium session: {e}")))?;
        Ok(Self {
            runtime,
            client: Some(client),
            _driver: driver,
        })
    }

    fn client(&self) -> Result<&Client> {
        self.client
            .as_ref()
            .ok_or_else(|| Error::Edge("the browser session is closed".to_owned()))
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) -> Result<()> {
        let client = self.client()?;
        self.runtime
            .block_on(client.goto(url))
            .map_err(|e| Error::Edge(format!("opening {url}: {e}")))
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the page; its result.
    pub fn js(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        let client = self.client()?;
        self.runtime
            .block_on(client.execute(script, args))
            .map_err(|e| Error::Edge(format!("running script: {e}\n{script}")))
    }

    /// Sends a WebDriver command of chromedriver's own: `POST /session/{id}/{path}` with
    /// `body`; its `value`.
    pub fn post(&self, path: &str, body: Value) -> Result<Value> {
        let client = self.client()?;
        let command = Post {
            path: path.to_owned(),
            body,
        };
        self.runtime
            .block_on(client.issue_cmd(command))
            .map_err(|e| Error::Edge(format!("POST {path}: {e}")))
    }

    /// The text of every element matching `css`, in document order.
    pub fn texts(&self, css: &str) -> Result<Vec<String>> {
        let value = self.js(
            "return Array.from(document.querySelectorAll(arguments[0]), e => e.textContent.trim());",
            vec![json!(css)],
        )?;
        Ok(value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Waits until `script` (a function body) returns `true`; `what` names it in the error.
    pub fn wait_until(&self, script: &str, what: &str) -> Result<()> {
        self.wait_until_within(script, what, PATIENCE)
    }

    /// As [`Browser::wait_until`], waiting at most `patience`.
    pub fn wait_until_within(&self, script: &str, what: &str, patience: Duration) -> Result<()> {
        let deadline = Instant::now() + patience;
        loop {
            if self.js(script, Vec::new())? == Value::Bool(true) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let body = self.texts("body")?.join(" ");
                return Err(Error::Edge(format!(
                    "waited {}s for {what}; the page says: {body}",
                    patience.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks the first element matching `css`.
    pub fn click(&self, css: &str) -> Result<()> {
        let client = self.client()?;
        self.runtime
            .block_on(async { client.find(Locator::Css(css)).await?.click().await })
            .map_err(|e| Error::Edge(format!("clicking {css}: {e}")))
    }

    /// Types `keys` into the focused element (WebDriver key codes such as `"\u{E004}"`, Tab).
    pub fn type_keys(&self, keys: &str) -> Result<()> {
        let client = self.client()?;
        self.runtime
            .block_on(async { client.active_element().await?.send_keys(keys).await })
            .map_err(|e| Error::Edge(format!("typing: {e}")))
    }

    /// Resizes the window.
    pub fn resize(&self, width: u32, height: u32) -> Result<()> {
        let client = self.client()?;
        self.runtime
            .block_on(client.set_window_size(width, height))
            .map_err(|e| Error::Edge(format!("resizing: {e}")))
    }

    /// Saves a PNG screenshot of the window to `path`.
    pub fn screenshot(&self, path: &Path) -> Result<()> {
        let client = self.client()?;
        let png = self
            .runtime
            .block_on(client.screenshot())
            .map_err(|e| Error::Edge(format!("taking a screenshot: {e}")))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(path, png).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
    }
}
