//! A blocking PostgREST client that sends requests the way supabase-js does.

use std::fmt;
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
    fn as_str(self) -> &'static str {
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
    /// A client for the stack's PostgREST.
    pub fn new(stack: &Stack) -> Result<Self> {
        Self::with_base_url(stack.postgrest_url())
    }

    /// A client for the PostgREST at `base_url` (its root, like Supabase's `/rest/v1`).
    pub fn with_base_url(base_url: &str) -> Result<Self> {
        let http = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            // Everything is local: a proxy from the environment must not get in between.
            .no_proxy()
            .build()
            .map_err(|source| Error::Http {
                what: "building the client".to_owned(),
                source,
            })?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Sends `request` with `credential`'s headers and reads the whole answer.
    pub fn send(&self, request: &Request, credential: &Credential) -> Result<Response> {
        let what = format!("{request} as {}", credential.kind());
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
