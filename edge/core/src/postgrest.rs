//! Calls to PostgREST with the service key, and what its errors mean for a caller.
//!
//! Requests are built with `http` by hand rather than with `postgrest-rs`: that crate sends
//! through `reqwest` itself, which would tie the core to one runtime (tokio natively; no
//! injected upstream, no Deno `fetch`). What it would add here is a URL and three headers.
//! As postgrest-rs's own docs warn, a 4xx is an answer, not a transport error: every status is
//! checked and mapped below.

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, StatusCode};
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

/// A non-2xx answer from PostgREST.
fn refusal_error(error: &PostgrestError, action: &Action<'_>) -> EdgeError {
    let code = error.code.as_deref().unwrap_or("");
    let status = error.status;
    match code {
        "PT409" => conflict(error.details.as_deref(), action),
        "PT404" => EdgeError::UnknownResource {
            resource: action.resource.to_owned(),
        },
        // The key's role does not exist: 400 before PostgREST 13.0.1, 401 since (#3601).
        "22023" if names_unknown_role(error.message.as_deref()) => key_refused(error, action),
        // Our SQL functions raise 22023 with sentences written for callers.
        "22023" => EdgeError::invalid(error.message.as_deref().map_or_else(
            || "the database refused the values as invalid".into(),
            |m| m.chars().take(300).collect::<String>(),
        )),
        "23514" => EdgeError::unprocessable(
            "the database refused these values: they break a rule of the sync state table",
        ),
        _ if is_missing_from_schema(code, status) => EdgeError::internal(format!(
            "PostgREST knows no such table, view, function or path for {} (HTTP {status}, code {code:?}): are the migrations applied, and is SUPABASE_URL (or SUPABASE_REST_URL) right?",
            action.verb
        )),
        _ if is_fault_of_the_database(code) => EdgeError::internal(format!(
            "the database failed {} with code {code:?} (HTTP {status}), which retrying will not fix",
            action.verb
        )),
        _ if code == "42501"
            || status == StatusCode::UNAUTHORIZED.as_u16()
            || status == StatusCode::FORBIDDEN.as_u16() =>
        {
            key_refused(error, action)
        }
        _ if status >= 500 => EdgeError::UpstreamUnavailable {
            detail: format!(
                "PostgREST answered HTTP {status} (code {code:?}) to {}",
                action.verb
            ),
        },
        // No code at all: not an answer of our SQL (always a SQLSTATE) nor a documented
        // PostgREST error (PGRST…). Seen once as a bare 400 while Postgres restarted under
        // load (the reliability suite): a broken upstream, so retryable, never a 500.
        "" => EdgeError::UpstreamUnavailable {
            detail: format!(
                "PostgREST answered HTTP {status} without an error code to {}",
                action.verb
            ),
        },
        _ => EdgeError::internal(format!(
            "PostgREST answered HTTP {status} (code {code:?}) to {}",
            action.verb
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

/// Whether `message` is PostgreSQL's `role "…" does not exist`, matched as PostgREST 13.0.1+
/// matches it to answer 401 instead of 400.
fn names_unknown_role(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.starts_with("role") && m.ends_with("does not exist"))
}

/// A table, view, function or path PostgREST does not know, in either version's words: a
/// missing relation is `42P01` from PostgreSQL on 12.0.2 and `PGRST205` on 13+ (#3697); an
/// unknown path a bare `{}` 404 on 12.0.2 and `PGRST125` on 13+ (#3906); a function
/// `PGRST202`, or `42883` before 14.2 for a function with one named JSON parameter (#4553).
fn is_missing_from_schema(code: &str, status: u16) -> bool {
    matches!(
        code,
        "42P01" | "PGRST205" | "PGRST125" | "PGRST202" | "42883"
    ) || (code.is_empty() && status == StatusCode::NOT_FOUND.as_u16())
}

/// SQLSTATEs whose HTTP status PostgREST changed after 12.0.2 (cardinality violation
/// `21000`: 400 to 500, 12.0.3 #3205; infinite recursion in a policy `42P17`: 400 to 500,
/// 12.0.3 #3256; program limits `54…`: 413 to 500, 12.2.0 #3255). Each is a fault of the
/// database's code or data that a retry will not fix, so it is matched by code, not by the
/// status (by status, 12.0.2's 4xx read as `internal` and 14's 500 as a passing outage).
fn is_fault_of_the_database(code: &str) -> bool {
    matches!(code, "21000" | "42P17") || (code.len() == 5 && code.starts_with("54"))
}

#[cfg(test)]
mod tests {
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

    /// PostgREST 12.0.2 (tested here) and 14.x (Supabase's platform) answer some failures
    /// differently; each test gives one difference's two answers, as each version sends it,
    /// and checks that the caller gets the same error from both (sources:
    /// `docs/postgrest-versions.md`).
    mod versions {
        use super::*;

        /// A refusal with no `details`.
        fn answer(status: u16, code: &str, message: &str) -> CallError {
            refused(status, code, message, None)
        }

        /// Maps the 12.0.2 and the 14.x answer for `verb`; both must give `code` and
        /// `status`. Returns the 14.x mapping for further checks.
        fn same_error(
            verb: Verb,
            v12: CallError,
            v14: CallError,
            (code, status): (&str, u16),
        ) -> EdgeError {
            let old = map_error(v12, &action(verb, None));
            let new = map_error(v14, &action(verb, None));
            assert_eq!(
                (old.code(), old.status().as_u16()),
                (code, status),
                "12.0.2: {old:?}"
            );
            assert_eq!(
                (new.code(), new.status().as_u16()),
                (code, status),
                "14.x: {new:?}"
            );
            new
        }

        #[test]
        fn a_missing_view_is_42p01_on_12_and_pgrst205_on_14() {
            let mapped = same_error(
                Verb::ReadHealth,
                answer(
                    404,
                    "42P01",
                    "relation \"public.vantage_sync_health\" does not exist",
                ),
                answer(
                    404,
                    "PGRST205",
                    "Could not find the table 'public.vantage_sync_health' in the schema cache",
                ),
                ("internal", 500),
            );
            assert!(
                mapped
                    .log_detail()
                    .is_some_and(|d| d.contains("migrations")),
                "{mapped:?}"
            );
        }

        #[test]
        fn a_missing_function_is_pgrst202_or_42883_before_14_2() {
            same_error(
                Verb::Start,
                answer(
                    404,
                    "42883",
                    "function public.start_vantage_sync_run(json) does not exist",
                ),
                answer(
                    404,
                    "PGRST202",
                    "Could not find the function public.start_vantage_sync_run(p_resource) in the schema cache",
                ),
                ("internal", 500),
            );
        }

        #[test]
        fn a_wrong_path_is_a_bare_404_on_12_and_pgrst125_on_14() {
            let bare = CallError::Refused(PostgrestError {
                status: 404,
                ..PostgrestError::default()
            });
            let mapped = same_error(
                Verb::Start,
                bare,
                answer(404, "PGRST125", "Invalid path specified in request URL"),
                ("internal", 500),
            );
            assert!(
                mapped
                    .log_detail()
                    .is_some_and(|d| d.contains("SUPABASE_URL")),
                "{mapped:?}"
            );
        }

        #[test]
        fn an_expired_service_key_is_pgrst301_on_12_and_pgrst303_on_14() {
            same_error(
                Verb::Complete,
                answer(401, "PGRST301", "JWT expired"),
                answer(401, "PGRST303", "JWT expired"),
                ("internal", 500),
            );
        }

        #[test]
        fn a_key_whose_role_does_not_exist_is_400_on_12_and_401_on_14() {
            let message = "role \"service_rol\" does not exist";
            let mapped = same_error(
                Verb::Complete,
                answer(400, "22023", message),
                answer(401, "22023", message),
                ("internal", 500),
            );
            assert!(
                !mapped.body().to_string().contains("does not exist"),
                "the database's words stay in the log"
            );
            // Our own functions' 22023 is still the caller's 400, worded for them.
            let ours = map_error(
                answer(400, "22023", "resource must be a non-empty name"),
                &action(Verb::Start, None),
            );
            assert_eq!(ours.code(), "invalid_request");
            assert_eq!(ours.to_string(), "resource must be a non-empty name");
        }

        #[test]
        fn a_cardinality_violation_is_400_on_12_and_500_since_12_0_3() {
            let message = "more than one row returned by a subquery used as an expression";
            same_error(
                Verb::Complete,
                answer(400, "21000", message),
                answer(500, "21000", message),
                ("internal", 500),
            );
        }

        #[test]
        fn a_recursive_policy_is_400_on_12_and_500_since_12_0_3() {
            let message = "infinite recursion detected in policy for relation \"x\"";
            same_error(
                Verb::ReadHealth,
                answer(400, "42P17", message),
                answer(500, "42P17", message),
                ("internal", 500),
            );
        }

        #[test]
        fn a_program_limit_is_413_on_12_and_500_since_12_2() {
            same_error(
                Verb::Fail,
                answer(
                    413,
                    "54000",
                    "index row size 9000 exceeds btree version 4 maximum",
                ),
                answer(
                    500,
                    "54000",
                    "index row size 9000 exceeds btree version 4 maximum",
                ),
                ("internal", 500),
            );
        }

        #[test]
        fn a_configuration_limit_is_503_on_12_and_500_since_12_2() {
            same_error(
                Verb::ReadHealth,
                answer(503, "53400", "temporary file size exceeds temp_file_limit"),
                answer(500, "53400", "temporary file size exceeds temp_file_limit"),
                ("upstream_unavailable", 503),
            );
        }
    }
}
