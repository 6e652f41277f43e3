//! The native server of the vantage-sync edge function: the runtime-free core
//! (`vantage-edge-core`) behind axum, with reqwest towards PostgREST. For self-hosting and for
//! the local stack (`cargo xtask up`); Supabase runs the same core under Deno.
//!
//! This crate only adapts: it reads the body (at most 64 KiB, refusing larger ones before
//! reading them), enforces the upstream timeout, makes request ids, and prints the core's log
//! line as one JSON line on stdout.

pub mod receivers;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use vantage_edge_core::{Clock, Edge, MAX_BODY_BYTES, Upstream, UpstreamError, UpstreamErrorKind};

/// The address the server listens on unless `VANTAGE_EDGE_ADDR` says otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:54321";

/// The largest upstream answer read (the health view of 10,000 resources is about 4 MB).
pub const MAX_UPSTREAM_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// The edge function as this server runs it.
pub type NativeEdge = Edge<ReqwestUpstream, SystemClock>;

/// The router: every path goes to the core, which does its own routing (so that the paths,
/// 404s and 405s are the same on every runtime).
pub fn app(edge: Arc<NativeEdge>) -> Router {
    Router::new().fallback(handle).with_state(edge)
}

async fn handle(State(edge): State<Arc<NativeEdge>>, request: Request) -> Response {
    let ctx = edge.begin(uuid::Uuid::new_v4().to_string());
    let (head, body) = request.into_parts();
    let handled = match edge.check_head(&head, &ctx) {
        Some(early) => early,
        None => match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => {
                let request = http::Request::from_parts(head, collected.to_bytes());
                edge.handle(request, &ctx).await
            }
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                edge.payload_too_large(&head, &ctx)
            }
            Err(_) => edge.unreadable_body(&head, &ctx),
        },
    };
    // One line per request; a closed stdout must not take the server down.
    let _ = writeln!(std::io::stdout().lock(), "{}", handled.log.to_json());
    if let Some(resource) = handled.deliveries_pending {
        // After the answer, never before it: a slow receiver must not slow the ETL job.
        let request_id = handled.log.request_id.clone();
        tokio::spawn(async move {
            let line = edge.deliver_webhooks(&request_id, &resource).await;
            let _ = writeln!(std::io::stdout().lock(), "{}", line.to_json());
        });
    }
    handled.response.map(Body::from)
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_ms(&self) -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

/// PostgREST and Supabase Auth through reqwest, with a timeout on every call; webhook
/// receivers through a client of their own (see [`receivers`]).
#[derive(Debug, Clone)]
pub struct ReqwestUpstream {
    client: reqwest::Client,
    receivers: reqwest::Client,
}

impl ReqwestUpstream {
    /// Clients whose every call (connect, send, read the whole answer) ends after `timeout`;
    /// webhook receivers at private addresses only if `allow_private_receivers`.
    pub fn new(timeout: Duration, allow_private_receivers: bool) -> Result<Self, reqwest::Error> {
        // No redirects: reqwest keeps the `apikey` header (the service key) across them.
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let receivers = receivers::client(timeout, allow_private_receivers)?;
        Ok(Self { client, receivers })
    }
}

impl Upstream for ReqwestUpstream {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, UpstreamError> {
        call(&self.client, request).await
    }

    async fn send_to_receiver(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, UpstreamError> {
        call(&self.receivers, request).await
    }
}

/// Sends `request` with `client` and reads the whole answer (at most
/// [`MAX_UPSTREAM_RESPONSE_BYTES`]).
async fn call(
    client: &reqwest::Client,
    request: http::Request<Bytes>,
) -> Result<http::Response<Bytes>, UpstreamError> {
    let (parts, body) = request.into_parts();
    let mut response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(|e| transport_error(&e))?;
    if response
        .content_length()
        .is_some_and(|n| n > MAX_UPSTREAM_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut answer = http::Response::builder().status(response.status());
    if let Some(headers) = answer.headers_mut() {
        headers.extend(response.headers().clone());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e))? {
        if bytes.len() + chunk.len() > MAX_UPSTREAM_RESPONSE_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    answer
        .body(Bytes::from(bytes))
        .map_err(|e| UpstreamError::new(UpstreamErrorKind::Other, e.to_string()))
}

fn too_large() -> UpstreamError {
    UpstreamError::new(
        UpstreamErrorKind::TooLarge,
        format!("the answer is larger than {MAX_UPSTREAM_RESPONSE_BYTES} bytes"),
    )
}

/// reqwest's errors name the URL (no secrets in it) and the cause, never headers.
fn transport_error(error: &reqwest::Error) -> UpstreamError {
    let kind = if error.is_timeout() {
        UpstreamErrorKind::Timeout
    } else if error.is_connect() || error.is_request() || error.is_body() {
        UpstreamErrorKind::Unavailable
    } else {
        UpstreamErrorKind::Other
    };
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<receivers::NotPublic>() {
            return UpstreamError::new(UpstreamErrorKind::NotPublic, refused.to_string());
        }
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    UpstreamError::new(kind, message)
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;
    use http::{Method, StatusCode};
    use serde_json::Value;
    use tower::ServiceExt;
    use vantage_edge_core::{Config, sha256_hex};

    use super::*;

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
        let (status, _, body) =
            send(post("/functions/v1/vantage-sync/start", Some(&auth), body)).await;
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
}
