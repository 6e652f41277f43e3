//! The router end to end, with an upstream nothing listens on: what the server answers before
//! (or instead of) reaching PostgREST, through the core's `serve`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::Value;
use tower::ServiceExt;
use vantage_edge_core::{Config, Edge, sha256_hex};
use vantage_edge_server::{ReqwestUpstream, SystemClock, app};

const WRITER: &str = "vst_server_test";

/// The router with an upstream on a port nothing listens on (these tests never reach it).
fn router() -> Router {
    let env = [
        ("SUPABASE_URL", "http://127.0.0.1:9".to_owned()),
        ("SUPABASE_SERVICE_ROLE_KEY", "a.b.c".to_owned()),
        ("VANTAGE_WRITER_TOKEN_SHA256", sha256_hex(WRITER)),
    ];
    let config =
        Config::from_env(|name| env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()));
    let Ok(config) = config else {
        panic!("test config: {config:?}");
    };
    let upstream = ReqwestUpstream::new(Duration::from_secs(1), false);
    let Ok(upstream) = upstream else {
        panic!("client: {upstream:?}");
    };
    app(Arc::new(Edge::new(config, upstream, SystemClock)))
}

async fn send(request: http::Request<Body>) -> (StatusCode, http::HeaderMap, Value) {
    let Ok(response) = router().oneshot(request).await;
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, parts.headers, json)
}

fn post(path: &str, auth: Option<&str>, body: impl Into<Body>) -> http::Request<Body> {
    let mut builder = http::Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(auth) = auth {
        builder = builder.header("authorization", auth);
    }
    builder.body(body.into()).unwrap_or_default()
}

#[tokio::test]
async fn routing_is_the_cores() {
    let (status, headers, body) = send(post("/nope", None, "{}")).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::NOT_FOUND, &Value::from("not_found"))
    );
    assert!(headers.contains_key("x-request-id"));
    let get = http::Request::get("/functions/v1/vantage-sync/start")
        .body(Body::empty())
        .unwrap_or_default();
    let (status, headers, _) = send(get).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "POST");
}

#[tokio::test]
async fn no_token_is_401() {
    let (status, _, body) = send(post(
        "/functions/v1/vantage-sync/start",
        None,
        r#"{"resource":"a"}"#,
    ))
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn a_streamed_body_over_64_kib_is_413() {
    // No Content-Length: the limit applies while reading.
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        (0..70).map(|_| Ok(Bytes::from(vec![b' '; 1024]))).collect();
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let auth = format!("Bearer {WRITER}");
    let (status, _, body) = send(post("/functions/v1/vantage-sync/start", Some(&auth), body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn an_unreachable_upstream_is_503() {
    let auth = format!("Bearer {WRITER}");
    let (status, headers, body) = send(post(
        "/functions/v1/vantage-sync/start",
        Some(&auth),
        r#"{"resource":"a"}"#,
    ))
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "5");
    assert_eq!(body["error"]["code"], "upstream_unavailable");
}

#[tokio::test]
async fn a_head_that_is_refused_is_answered_without_its_body() {
    let auth = format!("Bearer {WRITER}");
    for (length, status) in [
        ("70000", StatusCode::PAYLOAD_TOO_LARGE),
        // What a runtime makes of a repeated header: not "no size given".
        ("2000000, 2000000", StatusCode::BAD_REQUEST),
    ] {
        let mut request = post("/functions/v1/vantage-sync/start", Some(&auth), "{}");
        request
            .headers_mut()
            .insert("content-length", http::HeaderValue::from_static(length));
        let (answered, _, _) = send(request).await;
        assert_eq!(answered, status, "Content-Length {length:?}");
    }
}
