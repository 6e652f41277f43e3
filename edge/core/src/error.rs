//! The one error type of the edge function: a stable `code`, an HTTP status and a plain
//! message for the caller, and the HTTP answer that carries them; internal details go to the
//! log line only.

use bytes::Bytes;
use http::header::{
    ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE,
};
use http::{Response, StatusCode};
use serde_json::{Map, Value, json};

/// Seconds a caller should wait before retrying after `upstream_unavailable`.
pub const RETRY_AFTER_SECS: u32 = 5;

/// Everything a request can fail with. `Display` is the message the caller sees.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EdgeError {
    /// No credentials, or credentials that do not verify.
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials that may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The body or a parameter is wrong; `semantic` errors (well-formed but inconsistent
    /// values) answer 422, the others 400.
    #[error("{message}")]
    InvalidRequest {
        /// Which field, and why.
        message: String,
        /// 422 instead of 400.
        semantic: bool,
    },
    /// The body is larger than the limit.
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not declared as JSON.
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    /// `complete`, `fail`, `progress` or `abort` of a resource that never started.
    #[error("unknown resource \"{resource}\": it has never started a sync; call start first")]
    UnknownResource {
        /// The resource named in the request.
        resource: String,
    },
    /// No route at this path. The routes come from the `routes` module (which words them from
    /// its list of routes), so that this module does not depend on it: it depends on this one.
    #[error("no such route; the routes under {prefix} are {routes}")]
    NotFound {
        /// The path the routes are under.
        prefix: &'static str,
        /// Every route by method, in words.
        routes: String,
    },
    /// The route exists, the method does not.
    #[error("method not allowed here; use {allow}")]
    MethodNotAllowed {
        /// The methods the route accepts, for the `Allow` header.
        allow: &'static str,
    },
    /// The state machine refused the transition.
    #[error("{message}")]
    Conflict {
        /// What conflicts, in a sentence.
        message: String,
        /// The resource's current run (`run_id`, `status`, `started_at`, `completed_at`).
        current_run: Option<Value>,
        /// Why a start was refused, as a named object for the caller: `dependency` (which
        /// one, and when it last synced) or `retry` (when the retry policy allows the next
        /// attempt, and which attempt it is).
        reason: Option<(&'static str, Value)>,
    },
    /// PostgREST (or Supabase Auth) did not answer, timed out, or answered 5xx.
    #[error("the database is unavailable right now; retry in a few seconds")]
    UpstreamUnavailable {
        /// For the log line.
        detail: String,
    },
    /// A bug or a misconfiguration (e.g. PostgREST refused our key).
    #[error("internal error; the function's log has the details")]
    Internal {
        /// For the log line.
        detail: String,
    },
}

impl EdgeError {
    /// A 400 `invalid_request`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            message: message.into(),
            semantic: false,
        }
    }

    /// A 422 `invalid_request`: the values are well-formed but do not fit together.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            message: message.into(),
            semantic: true,
        }
    }

    /// An `internal` error with a detail for the log.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::Internal {
            detail: detail.into(),
        }
    }

    /// The stable code callers match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::InvalidRequest { .. } => "invalid_request",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::UnknownResource { .. } => "unknown_resource",
            Self::NotFound { .. } => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Conflict { .. } => "conflict",
            Self::UpstreamUnavailable { .. } => "upstream_unavailable",
            Self::Internal { .. } => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::InvalidRequest {
                semantic: false, ..
            } => StatusCode::BAD_REQUEST,
            Self::InvalidRequest { semantic: true, .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::UnknownResource { .. } | Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::UpstreamUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the log line should say beyond the code: internal details, never sent to callers.
    pub fn log_detail(&self) -> Option<&str> {
        match self {
            Self::UpstreamUnavailable { detail } | Self::Internal { detail } => Some(detail),
            _ => None,
        }
    }

    /// The JSON body: `{"error":{"code","message", ...}}`.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code()));
        error.insert("message".into(), json!(self.to_string()));
        match self {
            Self::UnknownResource { resource } => {
                error.insert("resource".into(), json!(resource));
            }
            Self::Conflict {
                current_run,
                reason,
                ..
            } => {
                if let Some(run) = current_run {
                    error.insert("current_run".into(), run.clone());
                }
                if let Some((name, value)) = reason {
                    error.insert((*name).into(), value.clone());
                }
            }
            Self::UpstreamUnavailable { .. } => {
                error.insert("retry_after_seconds".into(), json!(RETRY_AFTER_SECS));
            }
            _ => {}
        }
        json!({ "error": error })
    }

    /// The answer to send: [`EdgeError::body`] with the status, and the headers the status
    /// calls for (`Allow` on 405, `Retry-After` on 503, `WWW-Authenticate` on 401).
    pub fn response(&self) -> Response<Bytes> {
        let mut response = json_response(self.status(), &self.body());
        let headers = response.headers_mut();
        match self {
            Self::MethodNotAllowed { allow } => {
                headers.insert(ALLOW, HeaderValue::from_static(allow));
            }
            Self::UpstreamUnavailable { .. } => {
                headers.insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            }
            Self::Unauthorized(_) => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

/// A JSON answer that no cache keeps: the shape of every answer with a body, errors or not
/// (here, beside the errors, so that the success path and the error path share it).
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_found() -> EdgeError {
        EdgeError::NotFound {
            prefix: "/vantage-sync/",
            routes: "POST start".into(),
        }
    }

    #[test]
    fn every_error_has_its_code_and_status() {
        let cases: [(EdgeError, &str, u16); 12] = [
            (EdgeError::Unauthorized("x".into()), "unauthorized", 401),
            (EdgeError::Forbidden("x".into()), "forbidden", 403),
            (EdgeError::invalid("x"), "invalid_request", 400),
            (EdgeError::unprocessable("x"), "invalid_request", 422),
            (
                EdgeError::PayloadTooLarge { limit: 1 },
                "payload_too_large",
                413,
            ),
            (
                EdgeError::UnsupportedMediaType,
                "unsupported_media_type",
                415,
            ),
            (
                EdgeError::UnknownResource {
                    resource: "a".into(),
                },
                "unknown_resource",
                404,
            ),
            (not_found(), "not_found", 404),
            (
                EdgeError::MethodNotAllowed { allow: "POST" },
                "method_not_allowed",
                405,
            ),
            (
                EdgeError::Conflict {
                    message: "x".into(),
                    current_run: None,
                    reason: None,
                },
                "conflict",
                409,
            ),
            (
                EdgeError::UpstreamUnavailable { detail: "d".into() },
                "upstream_unavailable",
                503,
            ),
            (EdgeError::internal("d"), "internal", 500),
        ];
        for (error, code, status) in cases {
            assert_eq!(error.code(), code, "{error:?}");
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert_eq!(error.body()["error"]["code"], code);
            let response = error.response();
            assert_eq!(response.status().as_u16(), status, "{error:?}");
            assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
            assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        }
    }

    #[test]
    fn the_answer_carries_the_headers_its_status_calls_for() {
        let header = |error: &EdgeError, name| {
            error
                .response()
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap_or("?").to_owned())
        };
        let not_allowed = EdgeError::MethodNotAllowed {
            allow: "GET, OPTIONS",
        };
        assert_eq!(header(&not_allowed, ALLOW).as_deref(), Some("GET, OPTIONS"));
        let unavailable = EdgeError::UpstreamUnavailable { detail: "d".into() };
        assert_eq!(header(&unavailable, RETRY_AFTER).as_deref(), Some("5"));
        let unauthorized = EdgeError::Unauthorized("x".into());
        assert_eq!(
            header(&unauthorized, WWW_AUTHENTICATE).as_deref(),
            Some("Bearer")
        );
        assert_eq!(header(&not_found(), ALLOW), None);
    }

    #[test]
    fn internal_details_stay_out_of_the_body() {
        let error = EdgeError::internal("PostgREST said 42501 for key sb_secret_abc");
        let body = error.body().to_string();
        assert!(
            !body.contains("42501") && !body.contains("sb_secret"),
            "{body}"
        );
        assert_eq!(
            error.log_detail(),
            Some("PostgREST said 42501 for key sb_secret_abc")
        );
    }

    #[test]
    fn a_conflict_carries_the_current_run() {
        let error = EdgeError::Conflict {
            message: "busy".into(),
            current_run: Some(json!({ "run_id": "r" })),
            reason: None,
        };
        assert_eq!(error.body()["error"]["current_run"]["run_id"], "r");
        assert!(error.body()["error"].get("dependency").is_none());
    }
}
