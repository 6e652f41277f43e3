//! The handler: one request in, one response and one log line out.
//!
//! Order of checks, cheapest and least revealing first: route and method (404/405, or a CORS
//! preflight), body size (413), credentials (401/403: nothing reaches PostgREST before this),
//! content type (415), body or query parameters (400/422), then the SQL function.

use bytes::Bytes;
use http::header::{ACCEPT, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::request::Parts;
use http::{HeaderMap, Request, Response, StatusCode};

use crate::auth::{Authenticator, Caller};
use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::cors::{self, Preflight};
use crate::error::{EdgeError, json_response};
use crate::handlers;
use crate::health_query::HealthQuery;
use crate::log::{LogLine, Trace};
use crate::openmetrics::Format;
use crate::postgrest::Postgrest;
use crate::request_counts::RequestCounts;
use crate::routes::{Resolved, Route, resolve};
use crate::upstream::Upstream;
use crate::validation::{self, MAX_BODY_BYTES};
use crate::webhooks;

/// The request-id response header.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Every request header the edge reads (credentials, body framing, CORS). An adapter whose
/// runtime charges for each header it copies (the wasm build: each one crosses from
/// JavaScript) hands over these and no others; keep the list in step with the reads.
pub const REQUEST_HEADERS_READ: [&str; 5] = [
    "accept",
    "authorization",
    "content-length",
    "content-type",
    "origin",
];

/// The edge function, generic over how it reaches PostgREST and reads the time.
#[derive(Debug)]
pub struct Edge<U, C> {
    config: Config,
    auth: Authenticator,
    upstream: U,
    clock: C,
    requests: RequestCounts,
}

/// A request's id and arrival time, taken before its body is read.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestContext {
    request_id: String,
    started_ms: f64,
}

impl RequestContext {
    /// The request's id.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
}

/// The answer to one request and its log line.
#[derive(Debug)]
pub struct Handled {
    /// The response to send.
    pub response: Response<Bytes>,
    /// The line to log.
    pub log: LogLine,
    /// The resource whose transition queued webhook deliveries, if one did: after sending the
    /// response, `serve` has the adapter run [`Edge::deliver_webhooks`] for it (in the
    /// background: never before the answer).
    pub deliveries_pending: Option<String>,
}

impl<U: Upstream, C: Clock> Edge<U, C> {
    /// The function with this configuration, upstream client and clock.
    pub fn new(config: Config, upstream: U, clock: C) -> Self {
        Self {
            auth: config.authenticator(),
            config,
            upstream,
            clock,
            requests: RequestCounts::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The upstream client.
    pub fn upstream(&self) -> &U {
        &self.upstream
    }

    /// Counts an answered request by its log line's route and status (`GET metrics` serves the
    /// counts). `serve` calls it once per request, with the line it logs.
    pub fn count(&self, line: &LogLine) {
        self.requests.record(line.route, line.status);
    }

    /// Starts a request: its id (from the adapter: random, or the platform's) and the time.
    pub fn begin(&self, request_id: impl Into<String>) -> RequestContext {
        RequestContext {
            request_id: request_id.into(),
            started_ms: self.clock.now_unix_ms(),
        }
    }

    /// Everything that can be answered from the request head alone (404, 405, preflights,
    /// 413 by `Content-Length`, 400 for a `Content-Length` that is not one number), so that a
    /// body that would be refused is never read. `None`: read the body (at most
    /// [`MAX_BODY_BYTES`]) and call [`Edge::handle`]. Adapters call `serve`, which runs these
    /// steps; call them one by one only to drive the edge step by step (a fuzz harness).
    pub fn check_head(&self, head: &Parts, ctx: &RequestContext) -> Option<Handled> {
        let (route, error) = match resolve(&head.method, head.uri.path()) {
            Err(e) => (None, e),
            Ok(Resolved::Preflight(route)) => return Some(self.preflight(route, head, ctx)),
            Ok(Resolved::Call(route)) => match check_size(&head.headers, 0) {
                Ok(()) => return None,
                Err(e) => (Some(route), e),
            },
        };
        Some(self.respond(route, head, Err(error), Trace::default(), ctx))
    }

    /// The answer to a request whose body was not read to its end: `error` says why (413 for
    /// a body that turned out larger than [`MAX_BODY_BYTES`] while being read, 400 for one
    /// the client stopped sending).
    pub(crate) fn body_refused(
        &self,
        head: &Parts,
        ctx: &RequestContext,
        error: EdgeError,
    ) -> Handled {
        let route = resolve(&head.method, head.uri.path())
            .ok()
            .map(resolved_route);
        self.respond(route, head, Err(error), Trace::default(), ctx)
    }

    /// Answers a request whose body has been read.
    pub async fn handle(&self, request: Request<Bytes>, ctx: &RequestContext) -> Handled {
        let (head, body) = request.into_parts();
        let mut trace = Trace::default();
        let (route, result) = match resolve(&head.method, head.uri.path()) {
            Err(e) => (None, Err(e)),
            Ok(Resolved::Preflight(route)) => return self.preflight(route, &head, ctx),
            Ok(Resolved::Call(route)) => (
                Some(route),
                self.call(route, &head, &body, &mut trace).await,
            ),
        };
        self.respond(route, &head, result, trace, ctx)
    }

    async fn call(
        &self,
        route: Route,
        head: &Parts,
        body: &[u8],
        trace: &mut Trace,
    ) -> Result<Response<Bytes>, EdgeError> {
        check_size(&head.headers, body.len())?;
        let caller = self
            .auth
            .authenticate(
                &head.headers,
                route.accepts(),
                &self.upstream,
                &self.clock,
                trace,
            )
            .await?;
        if let Caller::User(user) = &caller
            && route == Route::Abort
            && !user.is_sync_admin
        {
            return Err(EdgeError::Forbidden(
                "only sync admins may abort runs (app_metadata.vantage_sync_admin must be true)"
                    .into(),
            ));
        }
        if route.has_body() {
            check_content_type(&head.headers)?;
        }
        let pg = Postgrest::new(
            &self.config.rest_url,
            &self.config.service_key,
            &self.upstream,
        );
        let answer = match (route, &caller) {
            (Route::Start, _) => handlers::start(&pg, validation::parse_start(body)?, trace).await,
            (Route::Complete, _) => {
                handlers::complete(&pg, validation::parse_complete(body)?, trace).await
            }
            (Route::Fail, _) => handlers::fail(&pg, validation::parse_fail(body)?, trace).await,
            (Route::Progress, _) => {
                handlers::progress(&pg, validation::parse_progress(body)?, trace).await
            }
            (Route::Abort, Caller::User(user)) => {
                handlers::abort(&pg, validation::parse_abort(body)?, user, trace).await
            }
            (Route::Abort, _) => Err(EdgeError::Forbidden(
                "writer tokens cannot abort runs; sign in as a sync admin".into(),
            )),
            (Route::Health, _) => {
                let query = HealthQuery::parse(head.uri.query())?;
                handlers::health(&pg, &query, trace).await
            }
            (Route::Sweep, _) => {
                handlers::sweep(&pg, &self.upstream, &self.clock, &self.config, trace).await
            }
            (Route::Metrics, _) => {
                let accept = head.headers.get(ACCEPT).and_then(|v| v.to_str().ok());
                return handlers::metrics(&pg, &self.requests, Format::negotiate(accept), trace)
                    .await;
            }
        }?;
        Ok(json_response(StatusCode::OK, &answer))
    }

    fn preflight(&self, route: Route, head: &Parts, ctx: &RequestContext) -> Handled {
        match cors::preflight(&self.config.cors_origins, &head.headers, &route.method()) {
            Preflight::Allowed(headers) => {
                let mut response = empty(StatusCode::NO_CONTENT);
                response.headers_mut().extend(headers);
                self.finish(Some(route), head, response, None, Trace::default(), ctx)
            }
            Preflight::NotCors => {
                let mut response = empty(StatusCode::NO_CONTENT);
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static(route.allow()));
                self.finish(Some(route), head, response, None, Trace::default(), ctx)
            }
            Preflight::Refused => {
                let error = EdgeError::Forbidden(
                    "this origin may not call the function from a browser (see VANTAGE_CORS_ORIGINS)"
                        .into(),
                );
                self.respond(Some(route), head, Err(error), Trace::default(), ctx)
            }
        }
    }

    fn respond(
        &self,
        route: Option<Route>,
        head: &Parts,
        result: Result<Response<Bytes>, EdgeError>,
        trace: Trace,
        ctx: &RequestContext,
    ) -> Handled {
        let (response, error) = match result {
            Ok(response) => (response, None),
            Err(error) => (error.response(), Some(error)),
        };
        let mut response = response;
        if route.is_some_and(Route::is_browser_route) {
            cors::decorate(
                &self.config.cors_origins,
                &head.headers,
                response.headers_mut(),
            );
        }
        self.finish(route, head, response, error.as_ref(), trace, ctx)
    }

    fn finish(
        &self,
        route: Option<Route>,
        head: &Parts,
        mut response: Response<Bytes>,
        error: Option<&EdgeError>,
        trace: Trace,
        ctx: &RequestContext,
    ) -> Handled {
        if let Ok(id) = HeaderValue::from_str(&ctx.request_id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, id);
        }
        let latency_ms =
            ((self.clock.now_unix_ms() - ctx.started_ms).max(0.0) * 10.0).round() / 10.0;
        let deliveries_pending = if trace.webhooks_pending && response.status().is_success() {
            trace.resource.clone()
        } else {
            None
        };
        let detail = error
            .and_then(EdgeError::log_detail)
            .map(str::to_owned)
            .or(trace.note);
        let log = LogLine {
            request_id: ctx.request_id.clone(),
            method: head.method.as_str().chars().take(16).collect(),
            route: route.map_or("unknown", Route::name),
            status: response.status().as_u16(),
            latency_ms,
            upstream_calls: trace.upstream_calls,
            error: error.map(EdgeError::code),
            detail,
        };
        Handled {
            response,
            log,
            deliveries_pending,
        }
    }

    /// Sends the webhook deliveries of `resource` that are due (claimed from the database's
    /// outbox, each outcome recorded there); its log line has route `deliveries`. Run after
    /// answering a request whose [`Handled::deliveries_pending`] names a resource (see
    /// `serve::Deliveries`).
    pub async fn deliver_webhooks(&self, request_id: &str, resource: &str) -> LogLine {
        let started_ms = self.clock.now_unix_ms();
        let pg = Postgrest::new(
            &self.config.rest_url,
            &self.config.service_key,
            &self.upstream,
        );
        let mut trace = Trace::default();
        let result = webhooks::deliver_due(
            &pg,
            &self.upstream,
            &self.clock,
            &self.config,
            Some(resource),
            &mut trace,
        )
        .await;
        let latency_ms = ((self.clock.now_unix_ms() - started_ms).max(0.0) * 10.0).round() / 10.0;
        let (status, error, detail) = match &result {
            Ok(report) => (
                200,
                None,
                Some(format!(
                    "claimed {}, delivered {}, retrying {}, gave up {}",
                    report.claimed, report.delivered, report.retrying, report.gave_up
                )),
            ),
            Err(e) => (
                e.status().as_u16(),
                Some(e.code()),
                e.log_detail().map(str::to_owned),
            ),
        };
        LogLine {
            request_id: request_id.to_owned(),
            method: "POST".to_owned(),
            route: "deliveries",
            status,
            latency_ms,
            upstream_calls: trace.upstream_calls,
            error,
            detail,
        }
    }
}

/// The answer of a function whose configuration is broken: 500 `internal` for every request,
/// the variable named in the log line only. For adapters that cannot refuse to start (Deno).
pub fn misconfigured(error: &ConfigError, method: &str, request_id: &str) -> Handled {
    let edge_error = EdgeError::internal(format!("configuration: {error}"));
    let mut response = edge_error.response();
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    let log = LogLine {
        request_id: request_id.to_owned(),
        method: method.chars().take(16).collect(),
        route: "unknown",
        status: response.status().as_u16(),
        latency_ms: 0.0,
        upstream_calls: 0,
        error: Some(edge_error.code()),
        detail: edge_error.log_detail().map(str::to_owned),
    };
    Handled {
        response,
        log,
        deliveries_pending: None,
    }
}

fn resolved_route(resolved: Resolved) -> Route {
    match resolved {
        Resolved::Call(route) | Resolved::Preflight(route) => route,
    }
}

/// 413 when `Content-Length` or the body read so far is over the limit; 400 when
/// `Content-Length` is not one number. (A list such as `2000000, 2000000` is what a runtime
/// makes of a repeated header: it must not pass as "no size given", or an adapter would read
/// the whole body before the limit applies.)
fn check_size(headers: &HeaderMap, body_len: usize) -> Result<(), EdgeError> {
    let declared = match headers.get(CONTENT_LENGTH) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| EdgeError::InvalidRequest {
                    message: "Content-Length must be one whole number".into(),
                    semantic: false,
                })?,
        ),
    };
    let limit = MAX_BODY_BYTES as u64;
    if declared.is_some_and(|n| n > limit) || body_len > MAX_BODY_BYTES {
        return Err(EdgeError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    Ok(())
}

/// 415 unless `Content-Type` is `application/json` (parameters such as charset are fine).
fn check_content_type(headers: &HeaderMap) -> Result<(), EdgeError> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(EdgeError::UnsupportedMediaType)
    }
}

fn empty(status: StatusCode) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}
