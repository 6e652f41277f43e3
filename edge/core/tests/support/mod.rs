//! A scripted upstream that records every call, a settable clock, and tokens, for driving the
//! handler the way an adapter does: through `serve`, with a body reader and a runtime that
//! keep what they are given (body reads, log lines, deliveries) for the tests to look at.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss
)]

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method, Request, Response};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use serde_json::{Value, json};
use vantage_edge_core::postgrest::PENDING_HEADER;
use vantage_edge_core::{
    BodyError, BodyReader, Clock, Config, Deliveries, Edge, LogLine, Runtime, Upstream,
    UpstreamError, UpstreamErrorKind, serve, sha256_hex,
};

/// The writer token the test configuration accepts.
pub const WRITER: &str = "vst_test_writer_token_0123456789abcdef";
/// The legacy service-role key the test configuration holds.
pub const SERVICE_KEY: &str = "test.service-role.key";
/// The legacy HS256 secret.
pub const HS_SECRET: &str = "test-legacy-secret-test-legacy-secret";
/// The allowed browser origin.
pub const ORIGIN: &str = "https://admin.example.com";
/// The admin's e-mail in user tokens.
pub const ADMIN_EMAIL: &str = "ops@example.com";
/// A run id.
pub const RUN: &str = "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e";
/// The clock's start, in seconds.
pub const NOW: i64 = 1_800_000_000;

/// What the scripted upstream answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A status and a JSON body.
    Json(u16, Value),
    /// A status and a JSON body, with the header that says webhook deliveries are queued.
    Pending(u16, Value),
    /// A status, no body.
    Status(u16),
    /// No answer.
    Fail(UpstreamErrorKind),
}

/// A JSON reply.
pub fn reply_json(status: u16, body: &Value) -> Reply {
    Reply::Json(status, body.clone())
}

/// One request the upstream received.
#[derive(Debug, Clone)]
pub struct Sent {
    pub method: Method,
    pub uri: String,
    pub apikey: Option<String>,
    pub authorization: Option<String>,
    pub body: Value,
}

type Responder = Box<dyn Fn(&Request<Bytes>) -> Reply + Send + Sync>;

/// The upstream: answers with the responder, records what it got.
pub struct Scripted {
    responder: Responder,
    sent: Mutex<Vec<Sent>>,
}

impl Upstream for Scripted {
    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Bytes>, UpstreamError>> {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        self.sent.lock().unwrap().push(Sent {
            method: request.method().clone(),
            uri: request.uri().to_string(),
            apikey: header("apikey"),
            authorization: header("authorization"),
            body: serde_json::from_slice(request.body()).unwrap_or(Value::Null),
        });
        let reply = (self.responder)(&request);
        async move {
            let (status, body, pending) = match reply {
                Reply::Json(status, body) => (status, Bytes::from(body.to_string()), false),
                Reply::Pending(status, body) => (status, Bytes::from(body.to_string()), true),
                Reply::Status(status) => (status, Bytes::new(), false),
                Reply::Fail(kind) => return Err(UpstreamError::new(kind, "scripted failure")),
            };
            let mut response = Response::new(body);
            *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
            if pending {
                response
                    .headers_mut()
                    .insert(PENDING_HEADER, http::HeaderValue::from_static("pending"));
            }
            Ok(response)
        }
    }

    /// Receivers are scripted like PostgREST: the tests tell them apart by URL.
    fn send_to_receiver(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Bytes>, UpstreamError>> {
        self.send(request)
    }
}

/// A clock tests can move.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<f64>>);

impl Clock for TestClock {
    fn now_unix_ms(&self) -> f64 {
        *self.0.lock().unwrap()
    }
}

/// What the handler answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// The edge of the tests.
pub type Core = Edge<Scripted, TestClock>;

/// The handler with the scripted upstream.
pub struct TestEdge {
    pub edge: Arc<Core>,
    clock: TestClock,
    runtime: TestRuntime,
    body_reads: Mutex<Vec<usize>>,
}

/// Work handed over after an answer, as the tests' runtime gets it.
pub type Work = Deliveries<Arc<Core>, TestRuntime>;

/// The runtime of the tests: keeps log lines, and deliveries until the test runs them.
#[derive(Clone, Default)]
pub struct TestRuntime {
    logs: Arc<Mutex<Vec<LogLine>>>,
    spawned: Arc<Mutex<Vec<Work>>>,
}

impl Runtime<Arc<Core>> for TestRuntime {
    fn request_id(&self) -> String {
        "req-1".to_owned()
    }

    fn log(&self, line: &LogLine) {
        // Every log line must serialise.
        assert!(line.to_json().starts_with('{'));
        self.logs.lock().unwrap().push(line.clone());
    }

    fn spawn(&self, work: Work) {
        self.spawned.lock().unwrap().push(work);
    }
}

/// A body as an adapter's reader hands it over: its bytes, or a failure to read them. It keeps
/// to the limit like every adapter's reader, and records that it was read (with which limit).
pub struct TestBody<'a> {
    content: Result<&'a [u8], BodyError>,
    reads: &'a Mutex<Vec<usize>>,
}

impl BodyReader for TestBody<'_> {
    async fn read(self, _headers: &HeaderMap, limit: usize) -> Result<Bytes, BodyError> {
        self.reads.lock().unwrap().push(limit);
        let bytes = self.content?;
        if bytes.len() > limit {
            return Err(BodyError::TooLarge);
        }
        Ok(Bytes::copy_from_slice(bytes))
    }
}

fn es256_key() -> &'static (Vec<u8>, Value) {
    static KEY: OnceLock<(Vec<u8>, Value)> = OnceLock::new();
    KEY.get_or_init(|| {
        let secret = p256::SecretKey::random(&mut rand_core::OsRng);
        let mut jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap();
        jwk["kid"] = json!("test-kid");
        jwk["alg"] = json!("ES256");
        (secret.to_pkcs8_der().unwrap().as_bytes().to_vec(), jwk)
    })
}

/// The JWKS of the test project: its ES256 key and, like the local stack's, the legacy secret
/// as an `oct` key (which must not be taken from here).
pub fn jwks() -> Value {
    json!({ "keys": [es256_key().1, { "kty": "oct", "alg": "HS256", "k": "c2VjcmV0" }] })
}

fn user_claims(expires_in: i64, admin: bool) -> Value {
    json!({
        "aud": "authenticated", "sub": "5a1e0000-0000-4000-8000-00000000d3e0", "role": "authenticated",
        "email": ADMIN_EMAIL, "iat": NOW - 60, "exp": NOW + expires_in,
        "app_metadata": { "provider": "email", "vantage_sync_admin": admin },
    })
}

/// A user token signed with the project's ES256 key.
pub fn es256_user(expires_in: i64, admin: bool) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("test-kid".into());
    jsonwebtoken::encode(
        &header,
        &user_claims(expires_in, admin),
        &EncodingKey::from_ec_der(&es256_key().0),
    )
    .unwrap()
}

/// An admin token signed with an ES256 key the project does not have.
pub fn foreign_es256_user() -> String {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("other-kid".into());
    jsonwebtoken::encode(
        &header,
        &user_claims(3600, true),
        &EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes()),
    )
    .unwrap()
}

/// A user token signed HS256 with the legacy secret.
pub fn hs256_user(expires_in: i64, admin: bool) -> String {
    hs256_user_with(HS_SECRET, expires_in, admin)
}

/// A user token signed HS256 with `secret`.
pub fn hs256_user_with(secret: &str, expires_in: i64, admin: bool) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &user_claims(expires_in, admin),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// A request head.
pub fn head(method: Method, path: &str, headers: &[(&str, &str)]) -> Parts {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap().into_parts().0
}

/// Polls a future to completion; the scripted upstream never makes it wait.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

impl TestEdge {
    /// The test configuration, answering with `responder`.
    pub fn new(responder: impl Fn(&Request<Bytes>) -> Reply + Send + Sync + 'static) -> Self {
        Self::with_env(&[], responder)
    }

    /// The test configuration with `overrides` (an empty value unsets a variable).
    pub fn with_env(
        overrides: &[(&str, &str)],
        responder: impl Fn(&Request<Bytes>) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let mut env: Vec<(String, String)> = vec![
            ("SUPABASE_URL".into(), "http://supabase.test".into()),
            ("SUPABASE_REST_URL".into(), "http://rest.test".into()),
            ("SUPABASE_SERVICE_ROLE_KEY".into(), SERVICE_KEY.into()),
            ("VANTAGE_WRITER_TOKEN_SHA256".into(), sha256_hex(WRITER)),
            ("SUPABASE_JWKS".into(), jwks().to_string()),
            ("SUPABASE_JWT_SECRET".into(), HS_SECRET.into()),
            ("VANTAGE_CORS_ORIGINS".into(), ORIGIN.into()),
        ];
        for (name, value) in overrides {
            env.retain(|(n, _)| n != name);
            env.push(((*name).into(), (*value).into()));
        }
        let config =
            Config::from_env(|name| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()))
                .unwrap();
        let clock = TestClock(Arc::new(Mutex::new(NOW as f64 * 1000.0)));
        let upstream = Scripted {
            responder: Box::new(responder),
            sent: Mutex::new(Vec::new()),
        };
        Self {
            edge: Arc::new(Edge::new(config, upstream, clock.clone())),
            clock,
            runtime: TestRuntime::default(),
            body_reads: Mutex::new(Vec::new()),
        }
    }

    /// Moves the clock on.
    pub fn advance_ms(&self, ms: f64) {
        *self.clock.0.lock().unwrap() += ms;
    }

    /// Everything the upstream received.
    pub fn sent(&self) -> Vec<Sent> {
        self.edge.upstream().sent.lock().unwrap().clone()
    }

    /// How many upstream calls.
    pub fn calls(&self) -> usize {
        self.edge.upstream().sent.lock().unwrap().len()
    }

    /// The last log line.
    pub fn last_log(&self) -> LogLine {
        self.logs().last().cloned().unwrap()
    }

    /// Every log line, in order.
    pub fn logs(&self) -> Vec<LogLine> {
        self.runtime.logs.lock().unwrap().clone()
    }

    /// The limit of each body read the core asked for, in order.
    pub fn body_reads(&self) -> Vec<usize> {
        self.body_reads.lock().unwrap().clone()
    }

    /// The request id and resource of each delivery run handed over and not run yet.
    pub fn deliveries(&self) -> Vec<(String, String)> {
        let spawned = self.runtime.spawned.lock().unwrap();
        spawned
            .iter()
            .map(|work| (work.request_id().to_owned(), work.resource().to_owned()))
            .collect()
    }

    /// Runs the deliveries handed over, as an adapter does after answering; how many.
    pub fn run_deliveries(&self) -> usize {
        let spawned = std::mem::take(&mut *self.runtime.spawned.lock().unwrap());
        let count = spawned.len();
        for work in spawned {
            block_on(work.run());
        }
        count
    }

    /// Serves a request whose body reads as `body`, the way an adapter does.
    pub fn serve(&self, head: Parts, body: Result<&[u8], BodyError>) -> Answer {
        let body = TestBody {
            content: body,
            reads: &self.body_reads,
        };
        let response = block_on(serve(&self.edge, head, body, &self.runtime));
        let (parts, body) = response.into_parts();
        Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    /// Sends a request with these headers, the way an adapter does.
    pub fn request_with(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        self.serve(head(method, path, headers), Ok(body))
    }

    /// Sends a request with an optional `Authorization` and `Content-Type`.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Answer {
        let mut headers = Vec::new();
        if let Some(auth) = authorization {
            headers.push(("authorization", auth));
        }
        if let Some(ct) = content_type {
            headers.push(("content-type", ct));
        }
        self.request_with(method, path, &headers, body)
    }

    /// `POST /functions/v1/vantage-sync/<route>` with a JSON body.
    pub fn post(&self, route: &str, authorization: Option<&str>, body: &Value) -> Answer {
        self.request(
            Method::POST,
            &format!("/functions/v1/vantage-sync/{route}"),
            authorization,
            Some("application/json"),
            body.to_string().as_bytes(),
        )
    }

    /// `POST` with the writer token.
    pub fn post_as_writer(&self, route: &str, body: &Value) -> Answer {
        self.post(route, Some(&format!("Bearer {WRITER}")), body)
    }

    /// `GET /functions/v1/vantage-sync/<route>`.
    pub fn get(&self, route: &str, authorization: Option<&str>) -> Answer {
        self.request(
            Method::GET,
            &format!("/functions/v1/vantage-sync/{route}"),
            authorization,
            None,
            b"",
        )
    }

    /// A CORS preflight of `route` from `origin`.
    pub fn preflight(&self, route: &str, origin: &str) -> Answer {
        self.request_with(
            Method::OPTIONS,
            &format!("/functions/v1/vantage-sync/{route}"),
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "authorization, content-type",
                ),
            ],
            b"",
        )
    }
}
