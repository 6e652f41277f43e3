//! The edge function of the stack (`EDGE_URL`, `WRITER_TOKEN`, `EDGE_BIN` in its env file),
//! a blocking client for it, and extra instances of the native server that a test starts with
//! its own configuration (e.g. pointed at a closed port) and stops when dropped.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result, check};
use crate::stack::Stack;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// The path under which the function's routes live.
pub const FUNCTION_PATH: &str = "/functions/v1/vantage-sync";

/// The browser origin `cargo xtask up` allows on `abort` and `health` (Trunk's default).
pub const ALLOWED_ORIGIN: &str = "http://127.0.0.1:8080";

/// The edge function of a stack.
#[derive(Clone)]
pub struct Edge {
    base_url: String,
    writer_token: String,
    binary: PathBuf,
    stack_dir: PathBuf,
    http: reqwest::blocking::Client,
}

impl fmt::Debug for Edge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Edge")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// One answer of the edge.
#[derive(Debug, Clone)]
pub struct EdgeResponse {
    /// The status.
    pub status: u16,
    /// Headers, lowercase names.
    pub headers: HashMap<String, String>,
    /// The body as text.
    pub body: String,
}

impl EdgeResponse {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// `error.code` of an error body, or "".
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

impl fmt::Display for EdgeResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} {}", self.status, self.body)
    }
}

impl Edge {
    /// The edge of `stack`, from the `EDGE_*` and `WRITER_TOKEN` entries of its env file.
    pub fn load(stack: &Stack) -> Result<Self> {
        let path = stack.env_file();
        let get = |key: &'static str| stack.setting(key);
        // The server itself, as the functions runtime hands it requests: these suites test the
        // edge's own routing, limits and answers (the gateway in front has tests of its own).
        let base_url = get("EDGE_DIRECT_URL").or_else(|_| get("EDGE_URL"))?;
        let writer_token = get("WRITER_TOKEN")?;
        let binary = PathBuf::from(get("EDGE_BIN")?);
        let stack_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::new(&base_url, &writer_token, binary, stack_dir)
    }

    fn new(
        base_url: &str,
        writer_token: &str,
        binary: PathBuf,
        stack_dir: PathBuf,
    ) -> Result<Self> {
        let http = crate::rest::local_client(TIMEOUT)?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            writer_token: writer_token.to_owned(),
            binary,
            stack_dir,
            http,
        })
    }

    /// The same writer token and binary, another server (an instance a test started).
    pub fn at(&self, base_url: &str) -> Result<Self> {
        Self::new(
            base_url,
            &self.writer_token,
            self.binary.clone(),
            self.stack_dir.clone(),
        )
    }

    /// The stack's edge through its gateway (`EDGE_URL`,
    /// `{SUPABASE_URL}/functions/v1/vantage-sync`), as ETL jobs reach it on Supabase.
    pub fn through_gateway(&self, stack: &Stack) -> Result<Self> {
        self.at(&stack.setting("EDGE_URL")?)
    }

    /// The stack's own edge server's log (stdout and stderr; `edge.log` beside the env file).
    pub fn stack_log(&self) -> PathBuf {
        self.stack_dir.join("edge.log")
    }

    /// `http://127.0.0.1:PORT/functions/v1/vantage-sync`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The server's origin (`http://127.0.0.1:PORT`).
    pub fn origin(&self) -> &str {
        self.base_url
            .strip_suffix(FUNCTION_PATH)
            .unwrap_or(&self.base_url)
    }

    /// The stack's writer token.
    pub fn writer_token(&self) -> &str {
        &self.writer_token
    }

    /// `Bearer <writer token>`.
    pub fn writer_auth(&self) -> String {
        format!("Bearer {}", self.writer_token)
    }

    /// The native server's binary.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// Sends `method` to `path` (relative to the server's origin) with `headers` and `body`.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<reqwest::blocking::Body>,
    ) -> Result<EdgeResponse> {
        let url = format!("{}{path}", self.origin());
        let what = format!("{method} {path}");
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| Error::Edge(format!("not an HTTP method: {method}")))?;
        let mut builder = self.http.request(method, url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        let response = builder.send().map_err(|source| Error::Http {
            what: what.clone(),
            source,
        })?;
        let (status, headers, body) = crate::rest::read_answer(response, &what)?;
        Ok(EdgeResponse {
            status,
            headers,
            body,
        })
    }

    /// `POST <route>` with a JSON body and an optional `Authorization`.
    pub fn post(
        &self,
        route: &str,
        authorization: Option<&str>,
        body: &Value,
    ) -> Result<EdgeResponse> {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(auth) = authorization {
            headers.push(("authorization", auth));
        }
        self.send(
            "POST",
            &format!("{FUNCTION_PATH}/{route}"),
            &headers,
            Some(body.to_string().into()),
        )
    }

    /// `POST <route>` with the writer token.
    pub fn post_as_writer(&self, route: &str, body: &Value) -> Result<EdgeResponse> {
        self.post(route, Some(&self.writer_auth()), body)
    }

    /// One whole run of `resource` as an ETL job makes it with the writer token: `start`, then
    /// `finish` (`"complete"` with 3 records, or `"fail"` with the error `E_TEST`); each must
    /// answer 200. Returns the run id.
    pub fn sync_once(&self, resource: &str, finish: &str) -> Result<String> {
        let started = self.post_as_writer("start", &json!({ "resource": resource }))?;
        check(started.status == 200, || format!("start: {started}"))?;
        let run_id = started.json()["run_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let body = if finish == "fail" {
            json!({ "resource": resource, "run_id": run_id,
                    "errors": [{ "code": "E_TEST", "message": "the source said no" }] })
        } else {
            json!({ "resource": resource, "run_id": run_id, "records_synced": 3,
                    "records_created": 1, "records_updated": 2 })
        };
        let done = self.post_as_writer(finish, &body)?;
        check(done.status == 200, || format!("{finish}: {done}"))?;
        Ok(run_id)
    }

    /// `GET <route>` with an optional `Authorization`.
    pub fn get(&self, route: &str, authorization: Option<&str>) -> Result<EdgeResponse> {
        let headers: Vec<(&str, &str)> = authorization
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        self.send("GET", &format!("{FUNCTION_PATH}/{route}"), &headers, None)
    }

    /// Sends a body the edge will refuse as too large, the way a careful client would: in
    /// 8 KiB pieces (as `chunked` transfer coding, or with a `Content-Length`), looking for the
    /// answer between pieces and stopping as soon as it comes. A client that writes on would
    /// get its connection reset once the server closes with the rest unread, and could lose
    /// the answer with it (which is what made an HTTP library's test of this flaky).
    pub fn send_oversized(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        chunked: bool,
    ) -> Result<EdgeResponse> {
        use std::io::Write;
        let origin = self
            .base_url
            .strip_suffix(FUNCTION_PATH)
            .and_then(|o| o.strip_prefix("http://"))
            .ok_or_else(|| Error::Edge(format!("not a loopback edge: {}", self.base_url)))?;
        let io = |source: std::io::Error| Error::Io {
            path: PathBuf::from(origin),
            source,
        };
        let mut stream = TcpStream::connect(origin).map_err(io)?;
        stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
        let mut head = format!("POST {path} HTTP/1.1\r\nHost: {origin}\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.extend([name, ": ", value, "\r\n"]);
        }
        let length = body.len().to_string();
        if chunked {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        } else {
            head.extend(["Content-Length: ", &length, "\r\n\r\n"]);
        }
        stream.write_all(head.as_bytes()).map_err(io)?;
        for piece in body.chunks(8 * 1024) {
            if answer_waiting(&stream)? {
                break;
            }
            let written = if chunked {
                stream
                    .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                    .and_then(|()| stream.write_all(piece))
                    .and_then(|()| stream.write_all(b"\r\n"))
            } else {
                stream.write_all(piece)
            };
            if written.is_err() {
                break;
            }
            // Give the server time to answer before the next piece.
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut raw = Vec::new();
        // The server closes after answering; a reset after the answer is read is fine.
        let _ = stream.read_to_end(&mut raw);
        parse_answer(&raw)
    }

    /// Signs `claims` with the stack's ES256 key (from its `keys.json`), like Supabase Auth
    /// signs session tokens.
    pub fn sign_es256(&self, claims: &Value) -> Result<String> {
        let path = self.stack_dir.join("keys.json");
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let keys: Value = serde_json::from_str(&text)?;
        let der = keys["es256_pkcs8"]
            .as_str()
            .and_then(|k| STANDARD.decode(k).ok())
            .ok_or_else(|| Error::Edge(format!("{} has no ES256 key", path.display())))?;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = keys["kid"].as_str().map(str::to_owned);
        Ok(jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_ec_der(&der),
        )?)
    }
}

/// The SHA-256 of `token` as lowercase hex (`VANTAGE_WRITER_TOKEN_SHA256`).
pub fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| Error::Edge(format!("binding a loopback port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Edge(format!("reading the bound port: {e}")))
}

/// Whether the server has started to answer on `stream` (without blocking).
fn answer_waiting(stream: &TcpStream) -> Result<bool> {
    let io = |source: std::io::Error| Error::Io {
        path: PathBuf::from("edge connection"),
        source,
    };
    stream.set_nonblocking(true).map_err(io)?;
    let mut byte = [0_u8; 1];
    let waiting = matches!(stream.peek(&mut byte), Ok(n) if n > 0);
    stream.set_nonblocking(false).map_err(io)?;
    Ok(waiting)
}

/// An HTTP/1.1 answer read from a socket: status, lowercase headers, body (not chunked: the
/// edge answers errors with a `Content-Length`).
fn parse_answer(raw: &[u8]) -> Result<EdgeResponse> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| Error::Edge(format!("no HTTP answer: {text:?}")))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| Error::Edge(format!("no status line: {head:?}")))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(EdgeResponse {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// The configuration of a native edge server like the stack's, calling PostgREST at
/// `rest_url` with `service_key` (for [`EdgeProcess::start`]; add to it, e.g. CORS origins).
pub fn server_env(
    stack: &Stack,
    edge: &Edge,
    rest_url: &str,
    service_key: &str,
) -> Result<Vec<(&'static str, String)>> {
    let jwks = std::fs::read_to_string(stack.jwks_file()).map_err(|source| Error::Io {
        path: stack.jwks_file().to_path_buf(),
        source,
    })?;
    Ok(vec![
        ("SUPABASE_URL", rest_url.to_owned()),
        ("SUPABASE_REST_URL", rest_url.to_owned()),
        ("SUPABASE_SERVICE_ROLE_KEY", service_key.to_owned()),
        ("SUPABASE_JWKS", jwks),
        ("SUPABASE_JWT_SECRET", stack.jwt_secret().to_owned()),
        (
            "VANTAGE_WRITER_TOKEN_SHA256",
            sha256_hex(edge.writer_token()),
        ),
        ("VANTAGE_UPSTREAM_TIMEOUT_MS", "3000".to_owned()),
        // The tests' webhook receivers listen on loopback.
        ("VANTAGE_WEBHOOKS_ALLOW_PRIVATE", "true".to_owned()),
    ])
}

/// [`server_env`] for an edge like the stack's own: the stack's PostgREST and service key.
pub fn stack_server_env(stack: &Stack, edge: &Edge) -> Result<Vec<(&'static str, String)>> {
    server_env(stack, edge, stack.postgrest_url(), stack.service_role_key())
}

/// The configuration of a native edge server like the stack's own: PostgREST through the
/// stack's gateway (`SUPABASE_URL`) with the secret key, as a function on Supabase has it.
pub fn gateway_server_env(stack: &Stack, edge: &Edge) -> Result<Vec<(&'static str, String)>> {
    let mut env = server_env(stack, edge, stack.supabase_url()?, stack.secret_key()?)?;
    env.retain(|(name, _)| !matches!(*name, "SUPABASE_REST_URL" | "SUPABASE_SERVICE_ROLE_KEY"));
    env.push(("SUPABASE_SECRET_KEY", stack.secret_key()?.to_owned()));
    Ok(env)
}

/// A native edge server started by a test, stopped (killed) when dropped.
pub struct EdgeProcess {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl fmt::Debug for EdgeProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "EdgeProcess(pid {}, port {})",
            self.child.id(),
            self.port
        )
    }
}

impl EdgeProcess {
    /// Starts `binary` with exactly `env` (plus its listen address) on a free loopback port;
    /// stdout goes to a file ([`EdgeProcess::log_lines`]). Waits until it accepts connections.
    pub fn start(binary: &Path, env: &[(&str, String)]) -> Result<Self> {
        let port = closed_port()?;
        let log = std::env::temp_dir().join(format!(
            "vantage-edge-test-{}-{port}.log",
            std::process::id()
        ));
        let out = std::fs::File::create(&log).map_err(|source| Error::Io {
            path: log.clone(),
            source,
        })?;
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("VANTAGE_EDGE_ADDR", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::piped());
        for (name, value) in env {
            cmd.env(name, value);
        }
        let child = cmd.spawn().map_err(|source| Error::Io {
            path: binary.to_path_buf(),
            source,
        })?;
        let mut process = Self { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = process.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = process.child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                return Err(Error::Edge(format!(
                    "the edge server exited ({status}): {stderr}"
                )));
            }
            if Instant::now() >= deadline {
                return Err(Error::Edge(format!(
                    "the edge server did not listen on port {port}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(process)
    }

    /// `http://127.0.0.1:PORT/functions/v1/vantage-sync`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}{FUNCTION_PATH}", self.port)
    }

    /// Asks it to stop the way a service manager does: SIGTERM to its PID, that of a child this
    /// process started (a signal, not `kill(1)`: no subprocess, and its error is the kernel's).
    pub fn terminate(&self) -> Result<()> {
        let pid = self.child.id();
        let raw =
            i32::try_from(pid).map_err(|_| Error::Check(format!("PID {pid} out of range")))?;
        kill(Pid::from_raw(raw), Signal::SIGTERM).map_err(|source| Error::Signal { pid, source })
    }

    /// What it printed on stdout so far, one JSON value per line.
    pub fn log_lines(&self) -> Result<Vec<Value>> {
        let text = std::fs::read_to_string(&self.log).map_err(|source| Error::Io {
            path: self.log.clone(),
            source,
        })?;
        text.lines()
            .map(|line| serde_json::from_str(line).map_err(Error::from))
            .collect()
    }

    /// What it printed on stdout so far, as text.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits up to `timeout` for it to exit; its exit code, if it did.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for EdgeProcess {
    fn drop(&mut self) {
        // Only the child this test started, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// `Ok(())` when `answer` has `status` and the error code `code` (for a success, `code` is
/// what `EdgeResponse::code` reads from its body), else a failed check saying what came.
pub fn expect(answer: &EdgeResponse, status: u16, code: &str) -> Result<()> {
    check(answer.status == status && answer.code() == code, || {
        format!("expected {status} {code:?}, got {answer}")
    })
}
