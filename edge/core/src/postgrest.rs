//! Calls to PostgREST with the service key, and what its errors mean for a caller.
//!
//! Requests are built with `http` by hand rather than with `postgrest-rs`: that crate sends
//! through `reqwest` itself, which would tie the core to one runtime (tokio natively; no
//! injected upstream, no Deno `fetch`). What it would add here is a URL and three headers.
//! As postgrest-rs's own docs warn, a 4xx is an answer, not a transport error: every status is
//! checked and mapped below.

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use http::{Method, Request};
use postgrest_dialect::{Meaning, meaning};
use serde::Deserialize;
use serde_json::Value;

pub use crate::action::{Action, Verb};
use crate::config::ServiceKey;
use crate::conflict::conflict;
use crate::error::EdgeError;
use crate::log::Trace;
use crate::upstream::{Upstream, UpstreamError, UpstreamErrorKind};

/// The answer header of PostgREST that says the transition queued webhook deliveries (set by
/// the SQL functions; the `webhooks` module sends the deliveries).
pub const PENDING_HEADER: &str = "x-vantage-webhooks";

/// PostgREST as the service role.
pub(crate) struct Postgrest<'a, U> {
    rest_url: &'a str,
    key: &'a ServiceKey,
    upstream: &'a U,
}

/// PostgREST's error body: `{"code","message","details","hint"}` (hint is never used).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PostgrestError {
    /// The HTTP status it came with.
    #[serde(skip)]
    pub status: u16,
    /// SQLSTATE (`PT409`, `23514`, ...) or PostgREST's own (`PGRST301`, ...).
    #[serde(default)]
    pub code: Option<String>,
    /// The error message (for our own SQL functions: written for callers).
    #[serde(default)]
    pub message: Option<String>,
    /// DETAIL; our functions put JSON here for 409s.
    #[serde(default)]
    pub details: Option<String>,
}

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// No answer.
    Transport(UpstreamError),
    /// A non-2xx answer.
    Refused(PostgrestError),
}

impl<'a, U: Upstream> Postgrest<'a, U> {
    pub fn new(rest_url: &'a str, key: &'a ServiceKey, upstream: &'a U) -> Self {
        Self {
            rest_url,
            key,
            upstream,
        }
    }

    /// `POST /rpc/<function>` with named arguments; the body of a 2xx answer.
    pub async fn rpc(
        &self,
        function: &str,
        args: &Value,
        trace: &mut Trace,
    ) -> Result<Bytes, CallError> {
        let body = Bytes::from(args.to_string());
        self.send(Method::POST, &format!("/rpc/{function}"), body, trace)
            .await
    }

    /// [`Postgrest::rpc`] with its errors worded for the caller of `action`.
    pub async fn call(
        &self,
        function: &str,
        args: &Value,
        action: &Action<'_>,
        trace: &mut Trace,
    ) -> Result<Bytes, EdgeError> {
        self.rpc(function, args, trace)
            .await
            .map_err(|e| map_error(e, action))
    }

    /// `GET <path_and_query>`, e.g. `/vantage_sync_health?select=...`; the body of a 2xx.
    pub async fn get(&self, path_and_query: &str, trace: &mut Trace) -> Result<Bytes, CallError> {
        self.send(Method::GET, path_and_query, Bytes::new(), trace)
            .await
    }

    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Bytes,
        trace: &mut Trace,
    ) -> Result<Bytes, CallError> {
        let request = self.request(method, path_and_query, body)?;
        trace.upstream_calls += 1;
        let response = self
            .upstream
            .send(request)
            .await
            .map_err(CallError::Transport)?;
        let status = response.status();
        if status.is_success() {
            if response.headers().contains_key(PENDING_HEADER) {
                trace.webhooks_pending = true;
            }
            return Ok(response.into_body());
        }
        let mut error: PostgrestError = serde_json::from_slice(response.body()).unwrap_or_default();
        error.status = status.as_u16();
        Err(CallError::Refused(error))
    }

    fn request(
        &self,
        method: Method,
        path_and_query: &str,
        body: Bytes,
    ) -> Result<Request<Bytes>, CallError> {
        let broken = |what: &str| {
            CallError::Transport(UpstreamError::new(
                UpstreamErrorKind::Other,
                format!("cannot build the request: {what}"),
            ))
        };
        let header = |value: &str| {
            let mut value = HeaderValue::from_str(value).map_err(|_| broken("key"))?;
            value.set_sensitive(true);
            Ok::<_, CallError>(value)
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path_and_query}", self.rest_url))
            .header(ACCEPT, "application/json");
        builder = match self.key {
            ServiceKey::Secret(key) => builder.header("apikey", header(key)?),
            ServiceKey::LegacyServiceRole(key) => builder
                .header("apikey", header(key)?)
                .header(AUTHORIZATION, header(&format!("Bearer {key}"))?),
        };
        if !body.is_empty() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        builder.body(body).map_err(|_| broken("URL"))
    }
}

/// The first row of a PostgREST answer that is a JSON array.
pub(crate) fn first_row(raw: &[u8]) -> Option<Value> {
    match serde_json::from_slice::<Value>(raw).ok()? {
        Value::Array(mut rows) if !rows.is_empty() => Some(rows.swap_remove(0)),
        _ => None,
    }
}

/// The caller's error for a failed call.
///
/// PostgREST 12.0.2 (tested here) and 14.x (Supabase's platform) answer some failures with
/// other codes or statuses; each such pair maps to one caller error (the differences, with
/// their sources: `docs/postgrest-versions.md`).
pub fn map_error(error: CallError, action: &Action<'_>) -> EdgeError {
    match error {
        CallError::Transport(e) => transport_error(&e, action),
        CallError::Refused(error) => refusal_error(&error, action),
    }
}

/// No answer from PostgREST.
fn transport_error(e: &UpstreamError, action: &Action<'_>) -> EdgeError {
    let what = match e.kind {
        UpstreamErrorKind::Timeout => "timed out",
        UpstreamErrorKind::Unavailable => "is unreachable",
        UpstreamErrorKind::TooLarge => {
            return EdgeError::internal(format!(
                "PostgREST's answer to {} was too large: {}",
                action.verb, e.message
            ));
        }
        // PostgREST is the deployment's own: only receivers are checked.
        UpstreamErrorKind::NotPublic | UpstreamErrorKind::Other => "failed",
    };
    EdgeError::UpstreamUnavailable {
        detail: format!("PostgREST {what} ({}): {}", action.verb, e.message),
    }
}

/// A non-2xx answer from PostgREST, by what it means in either version's words
/// (`postgrest_dialect`); an answer with a code of our own SQL is worded by that code.
fn refusal_error(error: &PostgrestError, action: &Action<'_>) -> EdgeError {
    let code = error.code.as_deref().unwrap_or("");
    let status = error.status;
    let verb = action.verb;
    match meaning(status, code, error.message.as_deref()) {
        Meaning::TokenRefused | Meaning::PermissionDenied => key_refused(error, action),
        Meaning::MissingFromSchema => EdgeError::internal(format!(
            "PostgREST knows no such table, view, function or path for {verb} (HTTP {status}, code {code:?}): are the migrations applied, and is SUPABASE_URL (or SUPABASE_REST_URL) right?"
        )),
        Meaning::FaultOfTheDatabase => EdgeError::internal(format!(
            "the database failed {verb} with code {code:?} (HTTP {status}), which retrying will not fix"
        )),
        Meaning::Outage => EdgeError::UpstreamUnavailable {
            detail: format!("PostgREST answered HTTP {status} (code {code:?}) to {verb}"),
        },
        // Seen once as a bare 400 while Postgres restarted under load (the reliability
        // suite): a broken upstream, so retryable, never a 500.
        Meaning::Codeless => EdgeError::UpstreamUnavailable {
            detail: format!("PostgREST answered HTTP {status} without an error code to {verb}"),
        },
        Meaning::Answered => answered(error, action),
    }
}

/// An answer with a code of our own SQL functions (or one nobody expected).
fn answered(error: &PostgrestError, action: &Action<'_>) -> EdgeError {
    match error.code.as_deref().unwrap_or("") {
        "PT409" => conflict(error.details.as_deref(), action),
        "PT404" => EdgeError::UnknownResource {
            resource: action.resource.to_owned(),
        },
        // Our SQL functions raise 22023 with sentences written for callers.
        "22023" => EdgeError::invalid(error.message.as_deref().map_or_else(
            || "the database refused the values as invalid".into(),
            |m| m.chars().take(300).collect::<String>(),
        )),
        "23514" => EdgeError::unprocessable(
            "the database refused these values: they break a rule of the sync state table",
        ),
        code => EdgeError::internal(format!(
            "PostgREST answered HTTP {} (code {code:?}) to {}",
            error.status, action.verb
        )),
    }
}

/// PostgREST refused the service key (or the role it names): a misconfiguration.
fn key_refused(error: &PostgrestError, action: &Action<'_>) -> EdgeError {
    let code = error.code.as_deref().unwrap_or("");
    EdgeError::internal(format!(
        "PostgREST refused the service key for {} (HTTP {}, code {code:?}): check SUPABASE_SECRET_KEY(S) / SUPABASE_SERVICE_ROLE_KEY",
        action.verb, error.status
    ))
}

#[cfg(test)]
mod tests {
    use http::StatusCode;
    use serde_json::json;

    use super::*;
    use crate::names::RunId;

    const RUN: &str = "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e";
    const OTHER: &str = "9a9a9a9a-4d5a-4b6c-9d7e-8f9a0b1c2d3e";

    fn refused(status: u16, code: &str, message: &str, details: Option<Value>) -> CallError {
        CallError::Refused(PostgrestError {
            status,
            code: Some(code.into()),
            message: Some(message.into()),
            details: details.map(|d| d.to_string()),
        })
    }

    fn action(verb: Verb, run_id: Option<&RunId>) -> Action<'_> {
        Action {
            verb,
            resource: "accounts",
            run_id,
        }
    }

    fn run_id(text: &str) -> RunId {
        RunId::try_from(text.to_owned()).expect("a UUID")
    }

    fn run_detail(status: &str) -> Value {
        json!({"resource":"accounts","status":status,"current_run_id":RUN,
               "started_at":"2026-11-24T10:00:00+00:00","completed_at":null})
    }

    #[test]
    fn a_start_conflict_names_the_current_run() {
        let error = map_error(
            refused(
                409,
                "PT409",
                "resource \"accounts\" already has ...",
                Some(run_detail("running")),
            ),
            &action(Verb::Start, None),
        );
        assert_eq!(error.status().as_u16(), 409);
        let body = error.body();
        assert_eq!(body["error"]["current_run"]["run_id"], RUN);
        assert_eq!(body["error"]["current_run"]["status"], "running");
        assert_eq!(
            body["error"]["message"],
            format!(
                "\"accounts\" already has a run in progress: run {RUN}, started at 2026-11-24T10:00:00+00:00"
            )
        );
    }

    #[test]
    fn a_retried_complete_names_the_finished_run() {
        let (run, other) = (run_id(RUN), run_id(OTHER));
        let mut detail = run_detail("success");
        detail["completed_at"] = json!("2026-11-24T10:01:00+00:00");
        let error = map_error(
            refused(409, "PT409", "cannot complete run", Some(detail)),
            &action(Verb::Complete, Some(&run)),
        );
        assert_eq!(
            error.to_string(),
            format!(
                "cannot complete run {RUN} of \"accounts\": it already finished with status success at 2026-11-24T10:01:00+00:00"
            )
        );
        let error = map_error(
            refused(409, "PT409", "x", Some(run_detail("running"))),
            &action(Verb::Fail, Some(&other)),
        );
        assert_eq!(
            error.to_string(),
            format!(
                "cannot fail run {OTHER} of \"accounts\": it is not the current run (that is {RUN} with status running)"
            )
        );
        let error = map_error(
            refused(409, "PT409", "x", Some(run_detail("success"))),
            &action(Verb::Abort, None),
        );
        assert_eq!(
            error.to_string(),
            "cannot abort \"accounts\": it is not running (status success)"
        );
    }

    #[test]
    fn a_codeless_answer_is_a_broken_upstream_not_a_500() {
        let bare = CallError::Refused(PostgrestError {
            status: 400,
            ..PostgrestError::default()
        });
        let error = map_error(bare, &action(Verb::Fail, None));
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            error.log_detail(),
            Some("PostgREST answered HTTP 400 without an error code to fail")
        );
    }

    #[test]
    fn a_start_refused_by_the_retry_policy_says_when() {
        let detail = json!({"resource":"accounts","status":"failed",
                            "next_attempt_at":"2026-11-25T14:32:00+00:00","attempt":2,"max_attempts":5});
        let error = map_error(
            refused(409, "PT409", "may not start before", Some(detail)),
            &action(Verb::Start, None),
        );
        assert_eq!(error.status(), StatusCode::CONFLICT);
        assert_eq!(
            error.to_string(),
            "\"accounts\" may not start before 2026-11-25T14:32:00+00:00: attempt 1 of 5 failed and its retry policy waits (clear next_attempt_at to start now)"
        );
        let body = error.body();
        assert_eq!(
            body["error"]["retry"]["next_attempt_at"],
            "2026-11-25T14:32:00+00:00"
        );
        assert_eq!(body["error"]["retry"]["attempt"], 2);
    }

    #[test]
    fn a_dependency_conflict_names_the_dependency() {
        let detail = json!({"resource":"accounts","dependency":"funds",
                            "dependency_last_sync_time":null,"last_sync_time":null});
        let error = map_error(
            refused(409, "PT409", "x", Some(detail)),
            &action(Verb::Start, None),
        );
        assert_eq!(error.body()["error"]["dependency"]["resource"], "funds");
        assert!(
            error.to_string().contains("sync \"funds\" first"),
            "{error}"
        );
    }

    #[test]
    fn a_conflict_without_details_is_still_a_conflict() {
        let error = map_error(
            refused(409, "PT409", "SELECT secret FROM x", None),
            &action(Verb::Start, None),
        );
        assert_eq!(error.code(), "conflict");
        assert!(!error.to_string().contains("SELECT"), "{error}");
    }

    #[test]
    #[allow(
        clippy::too_many_lines,
        reason = "one table of cases and the loop that checks them, read top to bottom"
    )]
    fn sqlstates_and_statuses_map_to_stable_codes() {
        let cases = [
            (
                refused(404, "PT404", "unknown resource", None),
                "unknown_resource",
                404,
            ),
            (
                refused(
                    400,
                    "22023",
                    "record counts must be whole numbers >= 0",
                    None,
                ),
                "invalid_request",
                400,
            ),
            (
                refused(
                    400,
                    "23514",
                    "new row for relation \"vantage_sync_state\" violates check constraint \"c\"",
                    None,
                ),
                "invalid_request",
                422,
            ),
            (
                refused(
                    401,
                    "42501",
                    "permission denied for function start_vantage_sync",
                    None,
                ),
                "internal",
                500,
            ),
            (
                refused(403, "42501", "permission denied", None),
                "internal",
                500,
            ),
            (refused(401, "PGRST301", "JWSError", None), "internal", 500),
            (
                refused(400, "21000", "more than one row", None),
                "internal",
                500,
            ),
            (
                refused(404, "PGRST202", "Could not find the function", None),
                "internal",
                500,
            ),
            (
                refused(503, "PGRST001", "Database client error", None),
                "upstream_unavailable",
                503,
            ),
            (
                refused(500, "XX000", "internal", None),
                "upstream_unavailable",
                503,
            ),
            (
                CallError::Refused(PostgrestError {
                    status: 502,
                    ..PostgrestError::default()
                }),
                "upstream_unavailable",
                503,
            ),
            (
                CallError::Transport(UpstreamError::new(UpstreamErrorKind::Timeout, "10 s")),
                "upstream_unavailable",
                503,
            ),
            (
                CallError::Transport(UpstreamError::new(
                    UpstreamErrorKind::Unavailable,
                    "refused",
                )),
                "upstream_unavailable",
                503,
            ),
            (
                CallError::Transport(UpstreamError::new(UpstreamErrorKind::TooLarge, "big")),
                "internal",
                500,
            ),
        ];
        for (error, code, status) in cases {
            let what = format!("{error:?}");
            let mapped = map_error(error, &action(Verb::Complete, None));
            assert_eq!(
                (mapped.code(), mapped.status().as_u16()),
                (code, status),
                "{what}"
            );
        }
    }

    #[test]
    fn no_sql_text_reaches_the_caller() {
        let sql = "new row for relation \"vantage_sync_state\" violates check constraint \"running_incomplete\"";
        for code in ["23514", "42501", "XX000", "PGRST202"] {
            let mapped = map_error(
                refused(400, code, sql, Some(json!({"hint":"x"}))),
                &action(Verb::Complete, None),
            );
            let body = mapped.body().to_string();
            assert!(
                !body.contains("relation") && !body.contains("constraint \""),
                "{code}: {body}"
            );
        }
    }

    /// What each meaning of the PostgREST dialect says to the operator's log and to the
    /// caller (the dialect's own tests feed both versions' answers to each rule:
    /// `postgrest-dialect/src/meaning.rs`).
    #[test]
    fn each_meaning_is_worded_for_the_log_and_kept_from_the_caller() {
        let log_of = |error: CallError| {
            let mapped = map_error(error, &action(Verb::ReadHealth, None));
            assert_eq!(mapped.code(), "internal", "{mapped:?}");
            mapped.log_detail().unwrap_or_default().to_owned()
        };
        let missing = log_of(refused(404, "PGRST205", "Could not find the table", None));
        assert!(missing.contains("migrations"), "{missing}");
        let bare_404 = CallError::Refused(PostgrestError {
            status: 404,
            ..PostgrestError::default()
        });
        assert!(log_of(bare_404).contains("SUPABASE_URL"));
        let fault = log_of(refused(500, "21000", "more than one row", None));
        assert!(fault.contains("retrying will not fix"), "{fault}");
        let role = "role \"service_rol\" does not exist";
        let unknown_role = map_error(
            refused(401, "22023", role, None),
            &action(Verb::Start, None),
        );
        assert!(
            unknown_role
                .log_detail()
                .is_some_and(|d| d.contains("service key")),
            "{unknown_role:?}"
        );
        assert!(
            !unknown_role.body().to_string().contains("does not exist"),
            "the database's words stay in the log"
        );
        // Our own functions' 22023 is the caller's 400, worded for them.
        let ours = map_error(
            refused(400, "22023", "resource must be a non-empty name", None),
            &action(Verb::Start, None),
        );
        assert_eq!(ours.code(), "invalid_request");
        assert_eq!(ours.to_string(), "resource must be a non-empty name");
    }
}
