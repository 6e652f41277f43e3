//! Arbitrary requests through the whole edge core, as an adapter drives it: head checks, body,
//! credentials, content type, validation, the handler and its upstream calls (answered here
//! by a scripted PostgREST), and the response. Also the body validators on their own.
//!
//! What must hold for every input: no panic, and no 500: the scripted upstream always answers
//! like a healthy PostgREST, so a 500 would be the core failing on input it should refuse.

#![no_main]

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use libfuzzer_sys::fuzz_target;
use vantage_edge_core::{Config, Edge, FixedClock, Upstream, UpstreamError, sha256_hex};

/// The writer token the configuration accepts (the seeds use it, so the fuzzer gets past
/// authentication from the start).
const WRITER: &str = "fuzz-writer-token-0123456789";
const RUN: &str = "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e";

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
        } else if uri.contains("vantage_sync_health") || uri.contains("claim_vantage_sync") {
            "[]".to_owned()
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
}

fn edge() -> Edge<ScriptedPostgrest, FixedClock> {
    let hash = sha256_hex(WRITER);
    let env = |name: &str| -> Option<String> {
        Some(match name {
            "SUPABASE_URL" => "http://127.0.0.1:1".to_owned(),
            "SUPABASE_SERVICE_ROLE_KEY" => {
                "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2ln".to_owned()
            }
            "SUPABASE_JWKS" => r#"{"keys":[]}"#.to_owned(),
            "SUPABASE_JWT_SECRET" => "fuzz-jwt-secret-0123456789-0123456789".to_owned(),
            "VANTAGE_WRITER_TOKEN_SHA256" => hash.clone(),
            "VANTAGE_CORS_ORIGINS" => "http://127.0.0.1:8080".to_owned(),
            _ => return None,
        })
    };
    match Config::from_env(env) {
        Ok(config) => Edge::new(config, ScriptedPostgrest, FixedClock(1_767_225_600_000.0)),
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
const PATHS: [&str; 8] = [
    "/functions/v1/vantage-sync/start",
    "/functions/v1/vantage-sync/complete",
    "/functions/v1/vantage-sync/fail",
    "/functions/v1/vantage-sync/abort",
    "/functions/v1/vantage-sync/health",
    "/functions/v1/vantage-sync/sweep",
    "/vantage-sync/start/",
    "/functions/v1/vantage-sync/../start",
];
const CONTENT_TYPES: [Option<&str>; 4] = [
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("text/plain"),
    None,
];

/// The request the input describes: four selector bytes (method, path, credential, content
/// type), then the body. A credential byte of 2 takes the authorization header from the body's
/// first line instead.
fn request(data: &[u8]) -> Option<Request<Bytes>> {
    let [m, p, c, t, rest @ ..] = data else {
        return None;
    };
    let (authorization, body) = match c % 4 {
        0 => (Some(format!("Bearer {WRITER}")), rest),
        1 => (None, rest),
        2 => {
            let split = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
            let header = String::from_utf8_lossy(&rest[..split]).into_owned();
            (Some(header), rest.get(split + 1..).unwrap_or_default())
        }
        _ => (
            Some("Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.".to_owned()),
            rest,
        ),
    };
    let mut builder = Request::builder()
        .method(METHODS[usize::from(*m) % METHODS.len()].clone())
        .uri(PATHS[usize::from(*p) % PATHS.len()])
        .header("content-length", body.len());
    if let Some(auth) = authorization {
        builder = builder.header("authorization", auth);
    }
    if let Some(content_type) = CONTENT_TYPES[usize::from(*t) % CONTENT_TYPES.len()] {
        builder = builder.header("content-type", content_type);
    }
    builder.body(Bytes::copy_from_slice(body)).ok()
}

fuzz_target!(|data: &[u8]| {
    // The validators on raw bytes, whatever they are.
    let _ = vantage_edge_core::validation::parse_start(data);
    let _ = vantage_edge_core::validation::parse_complete(data);
    let _ = vantage_edge_core::validation::parse_fail(data);
    let _ = vantage_edge_core::validation::parse_abort(data);

    let Some(request) = request(data) else {
        return;
    };
    let edge = edge();
    let ctx = edge.begin("fuzz");
    let (head, body) = request.into_parts();
    let handled = match edge.check_head(&head, &ctx) {
        Some(early) => early,
        None => futures_executor::block_on(edge.handle(Request::from_parts(head, body), &ctx)),
    };
    let status = handled.response.status();
    assert!(
        status != StatusCode::INTERNAL_SERVER_ERROR,
        "a 500 from a healthy upstream: {:?}",
        handled.log
    );
    // The answer is always JSON the caller can read (or empty).
    let answer = handled.response.body();
    assert!(
        answer.is_empty() || serde_json::from_slice::<serde_json::Value>(answer).is_ok(),
        "an answer that is not JSON: {:?}",
        String::from_utf8_lossy(answer)
    );
});
