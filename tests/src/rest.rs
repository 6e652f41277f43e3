//! A blocking PostgREST client that sends requests the way supabase-js does, through the
//! stack's gateway (as on Supabase) or to PostgREST directly (as self-hosters without a gateway
//! have it), and [`send_raw`]: one request written byte for byte on a TCP connection, for paths
//! an HTTP library would normalize first.

use std::fmt;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::stack::Stack;
use crate::tokens::Credential;

/// The media type supabase-js asks for on `.single()`: one JSON object, not an array.
pub const SINGLE_OBJECT: &str = "application/vnd.pgrst.object+json";

/// The schema supabase-js names in `Accept-Profile` / `Content-Profile` (its `db.schema`).
pub const SCHEMA: &str = "public";

/// How long one request may take before the test gives up on it.
const TIMEOUT: Duration = Duration::from_secs(15);

/// A blocking HTTP client for the stack's loopback servers: no proxy from the environment may
/// get in between, and every request gives up after `timeout`.
pub fn local_client(timeout: Duration) -> Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()
        .map_err(|source| Error::Http {
            what: "building the client".to_owned(),
            source,
        })
}

/// The HTTP methods the tests use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET` (`.select()`).
    Get,
    /// `POST` (`.insert()`, `.upsert()`, `.rpc()`).
    Post,
    /// `PATCH` (`.update()`).
    Patch,
    /// `DELETE` (`.delete()`).
    Delete,
    /// `PUT` (PostgREST's single-row upsert by primary key).
    Put,
}

impl Method {
    /// The method's name, as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Put => "PUT",
        }
    }

    fn reqwest(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Post => reqwest::Method::POST,
            Self::Patch => reqwest::Method::PATCH,
            Self::Delete => reqwest::Method::DELETE,
            Self::Put => reqwest::Method::PUT,
        }
    }
}

/// One request, described independently of who sends it (so a table of requests can be sent
/// with every credential).
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    path: String,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
    single: bool,
}

impl Request {
    fn new(method: Method, path: impl Into<String>, body: Option<Value>) -> Self {
        Self {
            method,
            path: path.into(),
            body,
            headers: Vec::new(),
            single: false,
        }
    }

    /// `GET path` (path relative to PostgREST's root, query string included).
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::Get, path, None)
    }

    /// `POST path` with a JSON body.
    pub fn post(path: impl Into<String>, body: Value) -> Self {
        Self::new(Method::Post, path, Some(body))
    }

    /// `PATCH path` with a JSON body.
    pub fn patch(path: impl Into<String>, body: Value) -> Self {
        Self::new(Method::Patch, path, Some(body))
    }

    /// `PUT path` with a JSON body.
    pub fn put(path: impl Into<String>, body: Value) -> Self {
        Self::new(Method::Put, path, Some(body))
    }

    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::Delete, path, None)
    }

    /// `supabase.rpc(function, args)`: `POST /rpc/<function>` with the named arguments.
    pub fn rpc(function: &str, args: Value) -> Self {
        Self::post(format!("/rpc/{function}"), args)
    }

    /// Asks for one object instead of an array, as `.single()` does.
    #[must_use]
    pub fn single(mut self) -> Self {
        self.single = true;
        self
    }

    /// Adds a header, e.g. `Prefer: resolution=merge-duplicates` for `.upsert()`.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The path and query.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The JSON body, if any.
    pub fn body(&self) -> Option<&Value> {
        self.body.as_ref()
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.as_str(), self.path)?;
        for (name, value) in &self.headers {
            write!(f, " [{name}: {value}]")?;
        }
        if self.single {
            write!(f, " [.single()]")?;
        }
        if let Some(body) = &self.body {
            write!(f, " {body}")?;
        }
        Ok(())
    }
}

/// What PostgREST answered.
#[derive(Debug, Clone)]
pub struct Response {
    what: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The response headers (lowercase names).
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body as text.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.body).map_err(|source| Error::NotJson {
            what: self.what.clone(),
            body: self.body.clone(),
            source,
        })
    }

    /// The value of the header `name` (lowercase), the first if it was sent more than once.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `message` of a JSON error body (the gateway's and PostgREST's), if any.
    pub fn message(&self) -> Option<String> {
        self.json().ok().and_then(|body| {
            body.get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    }

    /// Whether `needle` occurs anywhere in the body or in a header value.
    pub fn contains(&self, needle: &str) -> bool {
        self.body.contains(needle) || self.headers.iter().any(|(_, v)| v.contains(needle))
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 300;
        let body: String = self.body.chars().take(MAX).collect();
        let more = if self.body.chars().count() > MAX {
            "…"
        } else {
            ""
        };
        write!(f, "HTTP {} {body}{more}", self.status)
    }
}

/// PostgREST, reached over plain HTTP on 127.0.0.1.
#[derive(Debug, Clone)]
pub struct Rest {
    http: reqwest::blocking::Client,
    base_url: String,
}

impl Rest {
    /// A client for the stack's PostgREST through its gateway (`{SUPABASE_URL}/rest/v1`), as
    /// browsers and servers reach it on Supabase: send it credentials of the current keys
    /// ([`Credential::new`]).
    pub fn new(stack: &Stack) -> Result<Self> {
        Self::with_base_url(&stack.rest_url()?)
    }

    /// A client for the stack's PostgREST on its own port (`POSTGREST_URL`), as self-hosters
    /// without a gateway reach it: send it credentials of the legacy keys
    /// ([`Credential::legacy`]).
    pub fn direct(stack: &Stack) -> Result<Self> {
        Self::with_base_url(stack.postgrest_url())
    }

    /// A client for the PostgREST at `base_url` (its root, like Supabase's `/rest/v1`).
    pub fn with_base_url(base_url: &str) -> Result<Self> {
        let http = local_client(TIMEOUT)?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// The root requests are sent under (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends `request` with `credential`'s headers and reads the whole answer.
    pub fn send(&self, request: &Request, credential: &Credential) -> Result<Response> {
        let what = format!("{request} as {} to {}", credential.kind(), self.base_url);
        let url = format!("{}{}", self.base_url, request.path);
        let mut builder = self.http.request(request.method.reqwest(), url);
        if let Some(key) = credential.apikey() {
            builder = builder.header("apikey", key);
        }
        if let Some(token) = credential.bearer() {
            builder = builder.bearer_auth(token);
        }
        builder = builder.header("X-Client-Info", "vantage-sync-tests");
        builder = match request.method {
            Method::Get => builder.header("Accept-Profile", SCHEMA),
            _ => builder.header("Content-Profile", SCHEMA),
        };
        if request.single {
            builder = builder.header("Accept", SINGLE_OBJECT);
        }
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = builder.send().map_err(|source| Error::Http {
            what: what.clone(),
            source,
        })?;
        let (status, headers, body) = read_answer(response, &what)?;
        Ok(Response {
            what,
            status,
            headers,
            body,
        })
    }
}

/// The status, headers (lowercase names) and body text of an answer, read to the end.
pub(crate) fn read_answer<H: FromIterator<(String, String)>>(
    response: reqwest::blocking::Response,
    what: &str,
) -> Result<(u16, H, String)> {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.text().map_err(|source| Error::Http {
        what: what.to_owned(),
        source,
    })?;
    Ok((status, headers, body))
}

/// How long [`send_raw`] waits for an answer.
const RAW_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends `method target` to the HTTP server at `origin` (`http://127.0.0.1:PORT`) exactly as
/// written, over a TCP connection of its own: no URL parsing, so `..`, `%2e%2e` and the like
/// reach the server unnormalized. `headers` go as given (a name twice is sent twice), then
/// `Connection: close` and, with a body, its `Content-Length`. Reads the whole answer
/// (a chunked body decoded).
pub fn send_raw(
    origin: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Response> {
    let what = format!("{method} {target} (raw) to {origin}");
    let host = origin
        .strip_prefix("http://")
        .map(|h| h.trim_end_matches('/'))
        .ok_or_else(|| Error::Check(format!("{what}: not a plain http:// origin")))?;
    let io = |source: std::io::Error| Error::Io {
        path: PathBuf::from(origin),
        source,
    };
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in headers {
        request.extend([*name, ": ", *value, "\r\n"]);
    }
    request.push_str("Connection: close\r\n");
    if let Some(body) = body {
        request.extend(["Content-Length: ", &body.len().to_string(), "\r\n"]);
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or_default());
    let mut stream = TcpStream::connect(host).map_err(io)?;
    stream.set_read_timeout(Some(RAW_TIMEOUT)).map_err(io)?;
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io)?;
    let (status, headers, body) = parse_raw_answer(&raw).ok_or_else(|| {
        Error::Check(format!(
            "{what}: not an HTTP answer: {:?}",
            String::from_utf8_lossy(&raw)
        ))
    })?;
    Ok(Response {
        what,
        status,
        headers,
        body,
    })
}

/// Headers as read: lowercase names, values as sent.
type Headers = Vec<(String, String)>;

/// The status, headers and body of an HTTP/1.1 answer read to the end.
fn parse_raw_answer(raw: &[u8]) -> Option<(u16, Headers, String)> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let rest = &raw[split + 4..];
    let mut lines = head.lines();
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let has = |name: &str, value: &str| {
        headers
            .iter()
            .any(|(n, v)| n == name && v.eq_ignore_ascii_case(value))
    };
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let body = if has("transfer-encoding", "chunked") {
        dechunk(rest)?
    } else if let Some(length) = length {
        rest.get(..length)?.to_vec()
    } else {
        rest.to_vec()
    };
    Some((status, headers, String::from_utf8_lossy(&body).into_owned()))
}

/// A chunked body decoded (chunk extensions and trailers ignored).
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_line = String::from_utf8_lossy(&raw[..end]);
        let size_text = size_line.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        raw = &raw[end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// Paths outside the three prefixes: Supabase's other services, PostgREST's own paths without
/// the prefix, the prefix in another case or version, and near misses of the JWKS.
pub const PATHS_OUTSIDE_THE_GATEWAY: [&str; 13] = [
    "/",
    "/vantage_sync_state",
    "/rpc/start_vantage_sync",
    "/rest/v2/vantage_sync_state",
    "/REST/V1/vantage_sync_state",
    "/rest/vantage_sync_state",
    "/rest/v1.0/vantage_sync_state",
    "/auth/v1/token?grant_type=password",
    "/auth/v1/.well-known/",
    "/auth/v1/.well-known/jwks.json/x",
    "/storage/v1/object/list/x",
    "/graphql/v1",
    "/functions/v2/vantage-sync/health",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_answer_with_a_length_is_read_to_its_length() {
        let raw = b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        let (status, headers, body) = parse_raw_answer(raw).unwrap_or_default();
        assert_eq!(status, 404);
        assert_eq!(
            headers[0],
            ("content-type".to_owned(), "application/json".to_owned())
        );
        assert_eq!(body, "{}");
    }

    #[test]
    fn a_chunked_raw_answer_is_decoded() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[1,\r\n3;x=y\r\n2]\n\r\n0\r\n\r\n";
        let (status, _, body) = parse_raw_answer(raw).unwrap_or_default();
        assert_eq!(status, 200);
        assert_eq!(body, "[1,2]\n");
    }

    #[test]
    fn no_head_is_no_answer() {
        assert!(parse_raw_answer(b"HTTP/1.1 200 OK\r\n").is_none());
        assert!(parse_raw_answer(b"garbage\r\n\r\n").is_none());
    }
}
