//! Arbitrary requests through the whole edge core, as an adapter drives it: head checks, body,
//! credentials, content type, origin, validation, the handler and its upstream calls (answered
//! here by a scripted PostgREST), and the response. Also the pure parsers on the raw bytes:
//! the body validators, resource names, routes, the bearer header and user JWTs.
//!
//! What must hold for every input, beyond "no panic":
//! - no 5xx: the scripted upstream always answers like a healthy PostgREST, so a 5xx would be
//!   the core failing on input it should refuse;
//! - every answer is JSON (or empty);
//! - no credential, no success: without a token (or with an unsigned one) only a preflight
//!   gets a 2xx;
//! - a 2xx on a route with a body means its validator accepts that body, and a 2xx on
//!   `GET health` that its query parser accepts the query string;
//! - CORS: `Access-Control-Allow-Origin` only ever names the configured origin, and only when
//!   the request came from it;
//! - a body a validator accepts keeps its invariants (valid resource name, canonical run id,
//!   counts that add up, ...) and parses to the same value once written back as JSON;
//! - a health query the parser accepts becomes PostgREST filters in which nothing the caller
//!   sent is left unencoded, and its cursor reads back as the same sort key.
//!
//! Input layout: four selector bytes (method, path, credential, content type and origin), then
//! the lines some selectors ask for (a path, an `Authorization` header, JWT claims), then the
//! body. Each selector is read modulo its choices, so every input is a request.

#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, AUTHORIZATION, CONTENT_TYPE, ORIGIN};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use sha2::Sha256;
use vantage_edge_core::auth::bearer_token;
use vantage_edge_core::auth::user_jwt::{MAX_TOKEN_BYTES, UnverifiedToken};
use vantage_edge_core::health_query::{self, HealthQuery, MAX_LIMIT};
use vantage_edge_core::routes::{self, PREFIXES, Resolved, Route};
use vantage_edge_core::validation::{
    self, AbortBody, CompleteBody, ErrorObject, FailBody, MAX_ERRORS, MAX_REASON_CHARS,
    ProgressBody, RecordCounts,
};
use vantage_edge_core::{Config, Edge, FixedClock, Handled, Upstream, UpstreamError, sha256_hex};

/// The writer token the configuration accepts (the seeds use it, so the fuzzer gets past
/// authentication from the start).
const WRITER: &str = "fuzz-writer-token-0123456789";
/// The project's legacy HS256 secret. The harness signs tokens with it, so that the fuzzer
/// gets past the signature check (which it could never forge) to the claims and to `abort`.
const LEGACY_SECRET: &str = "fuzz-jwt-secret-0123456789-0123456789";
/// The only origin CORS allows.
const ALLOWED_ORIGIN: &str = "http://127.0.0.1:8080";
/// The harness's "now": 2026-01-01T00:00:00Z (a `u32`, so it widens to both the clock's `f64`
/// milliseconds and the claims' `i64` seconds without a cast).
const NOW_SECS: u32 = 1_767_225_600;
/// The run every scripted answer names.
const RUN: &str = "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e";
/// A sync admin's claims, valid until 2100.
const ADMIN_CLAIMS: &str = r#"{"sub":"9d1c7c1e-0000-4000-8000-000000000001","aud":"authenticated","exp":4102444800,"email":"admin@example.com","app_metadata":{"vantage_sync_admin":true}}"#;

/// A healthy PostgREST: each call gets the answer its function or table would give.
struct ScriptedPostgrest;

impl Upstream for ScriptedPostgrest {
    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, UpstreamError> {
        let uri = request.uri().to_string();
        let body = if uri.contains("start_vantage_sync_run") {
            format!(r#"{{"run_id":"{RUN}","started_at":"2026-01-01T00:00:00+00:00"}}"#)
        } else if uri.contains("fail_vantage_sync_run") {
            format!(
                r#"{{"run_id":"{RUN}","attempt":1,"max_attempts":null,"will_retry":false,"next_attempt_at":null}}"#
            )
        } else if uri.contains("vantage_sync_state?") {
            format!(r#"[{{"last_sync_status":"running","current_run_id":"{RUN}"}}]"#)
        } else if uri.contains("sweep_vantage_syncs") {
            r#"[{"swept":0,"stale_events":0,"deliveries_due":0}]"#.to_owned()
        } else if uri.contains("vantage_sync_health")
            || uri.contains("claim_vantage_sync")
            || uri.contains("vantage_sync_metrics")
        {
            "[]".to_owned()
        } else if uri.contains("progress_vantage_sync_run") {
            r#""2026-01-01T00:00:01+00:00""#.to_owned()
        } else if uri.contains("abort_vantage_sync") {
            format!(r#""{RUN}""#)
        } else {
            "null".to_owned()
        };
        Ok(Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Bytes::from(body))
            .unwrap_or_default())
    }

    /// No receiver is subscribed in the fuzzer's world: the claim answers `[]`.
    async fn send_to_receiver(
        &self,
        request: Request<Bytes>,
    ) -> Result<Response<Bytes>, UpstreamError> {
        self.send(request).await
    }
}

/// A fresh edge for each input: the core keeps caches (JWKS), and a crash must replay from
/// its input alone, whatever ran before it.
fn edge() -> Edge<ScriptedPostgrest, FixedClock> {
    let hash = sha256_hex(WRITER);
    let env = |name: &str| -> Option<String> {
        Some(match name {
            "SUPABASE_URL" => "http://127.0.0.1:1".to_owned(),
            "SUPABASE_SERVICE_ROLE_KEY" => {
                "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2ln".to_owned()
            }
            // A static key set: user tokens are checked without a JWKS fetch.
            "SUPABASE_JWKS" => r#"{"keys":[]}"#.to_owned(),
            "SUPABASE_JWT_SECRET" => LEGACY_SECRET.to_owned(),
            "VANTAGE_WRITER_TOKEN_SHA256" => hash.clone(),
            "VANTAGE_CORS_ORIGINS" => ALLOWED_ORIGIN.to_owned(),
            _ => return None,
        })
    };
    match Config::from_env(env) {
        Ok(config) => Edge::new(
            config,
            ScriptedPostgrest,
            FixedClock(f64::from(NOW_SECS) * 1000.0),
        ),
        Err(e) => panic!("the harness's configuration is invalid: {e}"),
    }
}

const METHODS: [Method; 6] = [
    Method::POST,
    Method::GET,
    Method::OPTIONS,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
];
/// Known paths; one more choice takes the path from the input.
const PATHS: [&str; 9] = [
    "/functions/v1/vantage-sync/start",
    "/functions/v1/vantage-sync/complete",
    "/functions/v1/vantage-sync/fail",
    "/functions/v1/vantage-sync/abort",
    "/functions/v1/vantage-sync/health",
    "/functions/v1/vantage-sync/sweep",
    "/vantage-sync/start/",
    "/functions/v1/vantage-sync/../start",
    "/functions/v1/vantage-sync/progress",
];
const CONTENT_TYPES: [Option<&str>; 4] = [
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("text/plain"),
    None,
];
const ORIGINS: [Option<&str>; 4] = [
    None,
    Some(ALLOWED_ORIGIN),
    Some("https://evil.example"),
    Some("null"),
];

/// What the request authenticates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    /// The configured writer token.
    Writer,
    /// No `Authorization` header.
    Nothing,
    /// The header is the input's next line, as it comes.
    HeaderLine,
    /// An unsigned (`alg: none`) token claiming the service role.
    Unsigned,
    /// A sync admin's token signed with the legacy secret.
    Admin,
    /// The input's next line as a token's claims, signed with the legacy secret.
    SignedClaimsLine,
}

const CREDENTIALS: [Credential; 6] = [
    Credential::Writer,
    Credential::Nothing,
    Credential::HeaderLine,
    Credential::Unsigned,
    Credential::Admin,
    Credential::SignedClaimsLine,
];

/// What the checks need to know of a request once it is sent.
struct Sent<'a> {
    method: Method,
    path: String,
    query: Option<String>,
    body: Bytes,
    credential: Credential,
    origin: Option<&'a str>,
}

/// Takes the input's next line (without its `\n`); the whole rest when there is none.
fn take_line<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let split = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let line = &rest[..split];
    *rest = rest.get(split + 1..).unwrap_or_default();
    line
}

/// An HS256 token over `claims` (any bytes), signed with the legacy secret.
fn signed_token(claims: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(LEGACY_SECRET.as_bytes()) else {
        unreachable!("HMAC takes a key of any length");
    };
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Builds the request; `None` when the input's path or header is not valid HTTP (an adapter
/// never sees such a request: hyper refuses it first).
fn request(data: &[u8]) -> Option<(Request<Bytes>, Sent<'_>)> {
    let [m, p, c, t, rest @ ..] = data else {
        return None;
    };
    let mut rest = rest;
    let path = match PATHS.get(usize::from(*p) % (PATHS.len() + 1)) {
        Some(known) => (*known).to_owned(),
        None => String::from_utf8_lossy(take_line(&mut rest)).into_owned(),
    };
    let credential = CREDENTIALS[usize::from(*c) % CREDENTIALS.len()];
    let authorization = match credential {
        Credential::Writer => Some(format!("Bearer {WRITER}")),
        Credential::Nothing => None,
        Credential::HeaderLine => Some(String::from_utf8_lossy(take_line(&mut rest)).into_owned()),
        Credential::Unsigned => {
            Some("Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.".to_owned())
        }
        Credential::Admin => Some(format!("Bearer {}", signed_token(ADMIN_CLAIMS.as_bytes()))),
        Credential::SignedClaimsLine => {
            Some(format!("Bearer {}", signed_token(take_line(&mut rest))))
        }
    };
    let body = rest;
    let origin = ORIGINS[usize::from(*t / 4) % ORIGINS.len()];
    let mut builder = Request::builder()
        .method(METHODS[usize::from(*m & 0x07) % METHODS.len()].clone())
        .uri(path);
    // A client may send no Content-Length (chunked): the body is then measured as read.
    if *m & 0x08 == 0 {
        builder = builder.header("content-length", body.len());
    }
    if let Some(auth) = authorization {
        builder = builder.header(AUTHORIZATION, auth);
    }
    if let Some(content_type) = CONTENT_TYPES[usize::from(*t) % CONTENT_TYPES.len()] {
        builder = builder.header(CONTENT_TYPE, content_type);
    }
    if let Some(origin) = origin {
        builder = builder.header(ORIGIN, origin);
    }
    let body = Bytes::copy_from_slice(body);
    let request = builder.body(body.clone()).ok()?;
    let sent = Sent {
        method: request.method().clone(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().map(str::to_owned),
        body,
        credential,
        origin,
    };
    Some((request, sent))
}

/// Runs the request through the edge as an adapter does: the head first, then the body.
fn handle(request: Request<Bytes>) -> Handled {
    let edge = edge();
    let ctx = edge.begin("fuzz");
    let (head, body) = request.into_parts();
    match edge.check_head(&head, &ctx) {
        Some(early) => early,
        // The scripted upstream never pends, so a plain executor is all `handle` needs.
        None => futures_executor::block_on(edge.handle(Request::from_parts(head, body), &ctx)),
    }
}

/// The properties of the answer to `sent` (see the module's documentation).
fn check_answer(sent: &Sent<'_>, handled: &Handled) {
    let Sent {
        method, path, body, ..
    } = sent;
    let status = handled.response.status();
    assert!(
        !status.is_server_error(),
        "a {status} from a healthy upstream: {:?}",
        handled.log
    );
    let answer = handled.response.body();
    assert!(
        answer.is_empty() || serde_json::from_slice::<Value>(answer).is_ok(),
        "an answer that is not JSON: {:?}",
        String::from_utf8_lossy(answer)
    );

    // Only a call runs the route's handler; a preflight answers from the head alone.
    let called = match routes::resolve(method, path) {
        Ok(Resolved::Call(route)) => Some(route),
        _ => None,
    };
    if matches!(sent.credential, Credential::Nothing | Credential::Unsigned) && called.is_some() {
        assert!(
            !status.is_success(),
            "a {status} without a credential: {method} {path}"
        );
    }
    if status.is_success()
        && let Some(route) = called.filter(|r| r.has_body())
    {
        assert!(
            validator_accepts(route, body),
            "a {status} for a body its validator refuses: {method} {path} {:?}",
            String::from_utf8_lossy(body)
        );
    }
    if status.is_success() && called == Some(Route::Health) {
        assert!(
            HealthQuery::parse(sent.query.as_deref()).is_ok(),
            "a {status} for a health query its parser refuses: {:?}",
            sent.query
        );
    }
    if let Some(allowed) = handled.response.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN) {
        assert!(
            allowed == ALLOWED_ORIGIN && sent.origin == Some(ALLOWED_ORIGIN),
            "CORS allowed {allowed:?} for a request from {:?}",
            sent.origin
        );
    }
}

/// Whether `route`'s body validator accepts `body`.
fn validator_accepts(route: Route, body: &[u8]) -> bool {
    match route {
        Route::Start => validation::parse_start(body).is_ok(),
        Route::Complete => validation::parse_complete(body).is_ok(),
        Route::Fail => validation::parse_fail(body).is_ok(),
        Route::Abort => validation::parse_abort(body).is_ok(),
        Route::Progress => validation::parse_progress(body).is_ok(),
        Route::Health | Route::Sweep | Route::Metrics => true,
    }
}

/// A run id as the validators hand it on: a lower-case hyphenated UUID.
fn is_canonical_run_id(run_id: Option<&str>) -> bool {
    run_id.is_none_or(|id| {
        uuid::Uuid::try_parse(id).is_ok_and(|parsed| parsed.hyphenated().to_string() == id)
    })
}

/// A parsed body written back as JSON, the fields in the order an ETL job sends them.
fn written_back(fields: &[(&str, Value)]) -> Vec<u8> {
    let object: serde_json::Map<String, Value> = fields
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    serde_json::to_vec(&object).unwrap_or_default()
}

/// Every body validator on the raw bytes; what one accepts must keep its invariants and read
/// back the same from its own JSON.
fn check_validators(data: &[u8]) {
    if let Ok(start) = validation::parse_start(data) {
        assert!(validation::is_valid_resource(&start.resource));
        let again = validation::parse_start(&written_back(&[("resource", json!(start.resource))]));
        assert_eq!(again.ok(), Some(start));
    }
    if let Ok(complete) = validation::parse_complete(data) {
        check_complete(&complete);
    }
    if let Ok(fail) = validation::parse_fail(data) {
        check_fail(&fail);
    }
    if let Ok(abort) = validation::parse_abort(data) {
        check_abort(&abort);
    }
    if let Ok(progress) = validation::parse_progress(data) {
        check_progress(&progress);
    }
}

fn check_progress(progress: &ProgressBody) {
    assert!(validation::is_valid_resource(&progress.resource));
    assert!(is_canonical_run_id(Some(&progress.run_id)));
    assert!(
        progress
            .records_synced
            .is_none_or(|n| n <= validation::MAX_COUNT_SO_FAR)
    );
    let again = validation::parse_progress(&written_back(&[
        ("resource", json!(progress.resource)),
        ("run_id", json!(progress.run_id)),
        ("records_synced", json!(progress.records_synced)),
    ]));
    assert_eq!(again.ok().as_ref(), Some(progress));
}

fn check_complete(complete: &CompleteBody) {
    assert!(validation::is_valid_resource(&complete.resource));
    assert!(is_canonical_run_id(complete.run_id.as_deref()));
    if let Some(counts) = complete.counts {
        assert!(
            u64::from(counts.records_created) + u64::from(counts.records_updated)
                <= u64::from(counts.records_synced)
        );
    }
    let count = |read: fn(&RecordCounts) -> u32| json!(complete.counts.as_ref().map(read));
    let again = validation::parse_complete(&written_back(&[
        ("resource", json!(complete.resource)),
        ("run_id", json!(complete.run_id)),
        ("records_synced", count(|c| c.records_synced)),
        ("records_created", count(|c| c.records_created)),
        ("records_updated", count(|c| c.records_updated)),
    ]));
    assert_eq!(again.ok().as_ref(), Some(complete));
}

fn check_fail(fail: &FailBody) {
    assert!(validation::is_valid_resource(&fail.resource));
    assert!(is_canonical_run_id(fail.run_id.as_deref()));
    assert!((1..=MAX_ERRORS).contains(&fail.errors.len()));
    let again = validation::parse_fail(&written_back(&[
        ("resource", json!(fail.resource)),
        ("run_id", json!(fail.run_id)),
        ("errors", json!(fail.errors)),
    ]));
    let Ok(again) = again else {
        panic!("a fail body accepted once is refused when written back: {fail:?}");
    };
    assert_eq!(again.resource, fail.resource);
    assert_eq!(again.run_id, fail.run_id);
    // Compared by the fields the edge reads: an extra field's float may move by one ulp
    // through serde_json's default (fast) float parsing, which is not the validator's doing.
    let texts = |errors: &[ErrorObject]| -> Vec<(String, String)> {
        errors
            .iter()
            .map(|e| (e.code.to_string(), e.message.to_string()))
            .collect()
    };
    assert_eq!(texts(&again.errors), texts(&fail.errors));
}

fn check_abort(abort: &AbortBody) {
    assert!(validation::is_valid_resource(&abort.resource));
    assert!(is_canonical_run_id(abort.run_id.as_deref()));
    let chars = abort.reason.chars().count();
    assert!((1..=MAX_REASON_CHARS).contains(&chars) && !abort.reason.trim().is_empty());
    let again = validation::parse_abort(&written_back(&[
        ("resource", json!(abort.resource)),
        ("reason", json!(abort.reason)),
        ("run_id", json!(abort.run_id)),
    ]));
    assert_eq!(again.ok().as_ref(), Some(abort));
}

/// `GET health`'s query parser on `text` as a query string: what it accepts is within its
/// limits, reaches PostgREST only percent-encoded, and its cursor reads back the same.
fn check_health_query(text: &str) {
    let Ok(query) = HealthQuery::parse(Some(text)) else {
        return;
    };
    assert!(query.limit.is_none_or(|n| (1..=MAX_LIMIT).contains(&n)));
    assert!(query.health.len() <= 3);
    assert!(
        query
            .resource
            .as_deref()
            .is_none_or(validation::is_valid_resource)
    );
    let filters = query.filters();
    assert!(
        filters
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%&=(),".contains(&b)),
        "a filter with a raw byte: {filters:?}"
    );
    if let Some(key) = &query.after {
        let cursor = health_query::cursor_after(key);
        let again = HealthQuery::parse(Some(&format!("cursor={cursor}")));
        assert_eq!(again.ok().and_then(|q| q.after).as_ref(), Some(key));
    }
}

/// The other pure parsers on the raw bytes: resource names, routes, the bearer header, user
/// JWTs (as sent, and signed by the harness so the claims checks are reached).
fn check_parsers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if validation::is_valid_resource(&text) {
        assert!(text.len() <= validation::MAX_RESOURCE_CHARS && text.is_ascii());
    }
    for method in &METHODS {
        if let Ok(Resolved::Call(route) | Resolved::Preflight(route)) =
            routes::resolve(method, &text)
        {
            assert!(PREFIXES.iter().any(|prefix| text.starts_with(prefix)));
            assert_eq!(routes::route_at(&text), Some(route));
        }
    }
    check_health_query(&text);
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value);
        if let Ok(token) = bearer_token(&headers) {
            assert!(!token.is_empty() && token.trim() == token);
        }
    }
    if let Ok(token) = UnverifiedToken::decode(&text)
        && let Ok(verified) = token.verify_with_secret(LEGACY_SECRET.as_bytes())
    {
        let _ = verified.claims(i64::from(NOW_SECS));
    }
    // A token the harness signs always verifies, whatever its claims say.
    let signed = signed_token(data);
    if signed.len() <= MAX_TOKEN_BYTES {
        let verified = UnverifiedToken::decode(&signed)
            .and_then(|token| token.verify_with_secret(LEGACY_SECRET.as_bytes()));
        match verified {
            Ok(verified) => {
                let _ = verified.claims(i64::from(NOW_SECS));
            }
            Err(e) => panic!("a token signed with the legacy secret is refused: {e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check_validators(data);
    check_parsers(data);
    if let Some((request, sent)) = request(data) {
        check_answer(&sent, &handle(request));
    }
});
