//! The handler through its public API, as an adapter drives it, with a scripted upstream that
//! counts every call: what reaches PostgREST, with which key, and what the caller gets back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use vantage_edge_core as edge_core;

use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use support::{
    ADMIN_EMAIL, HS_SECRET, RUN, Reply, SERVICE_KEY, TestEdge, WRITER, hs256_user, reply_json,
};

#[test]
fn no_or_bad_credentials_are_401_before_any_upstream_call() {
    let edge = TestEdge::new(|_| reply_json(200, &json!("unused")));
    let expired = hs256_user(-3600, true);
    let wrong_secret = support::hs256_user_with("not-the-secret-not-the-secret-xx", 3600, true);
    let foreign_es256 = support::foreign_es256_user();
    let bad: [Option<&str>; 10] = [
        None,
        Some("Basic dXNlcjpwYXNz"),
        Some("Bearer"),
        Some("Bearer "),
        Some("Bearer vst_wrong"),
        Some("Bearer a.b.c"),
        Some(&format!("Bearer {expired}")),
        Some(&format!("Bearer {wrong_secret}")),
        Some(&format!("Bearer {foreign_es256}")),
        Some(&format!("bearer {WRITER}x")),
    ];
    let bodies = [
        ("start", json!({"resource":"accounts"})),
        (
            "complete",
            json!({"resource":"accounts","records_synced":1,"records_created":1,"records_updated":0}),
        ),
        (
            "fail",
            json!({"resource":"accounts","errors":[{"code":"X","message":"m"}]}),
        ),
        ("abort", json!({"resource":"accounts","reason":"stuck"})),
        (
            "progress",
            json!({"resource":"accounts","run_id":RUN,"records_synced":5}),
        ),
    ];
    for auth in bad {
        for (route, body) in &bodies {
            let answer = edge.post(route, auth, body);
            assert_eq!(answer.status, 401, "{route} with {auth:?}: {}", answer.body);
            assert_eq!(answer.json()["error"]["code"], "unauthorized");
            assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
        }
        let answer = edge.get("health", auth);
        assert_eq!(answer.status, 401, "health with {auth:?}");
    }
    assert_eq!(
        edge.calls(),
        0,
        "nothing may reach PostgREST without credentials"
    );
}

#[test]
fn user_tokens_cannot_write_and_writer_tokens_cannot_abort() {
    let edge = TestEdge::new(|_| reply_json(200, &json!("unused")));
    let admin = format!("Bearer {}", hs256_user(3600, true));
    let answer = edge.post("start", Some(&admin), &json!({"resource":"accounts"}));
    assert_eq!(answer.status, 401);
    let writer = format!("Bearer {WRITER}");
    let answer = edge.post(
        "abort",
        Some(&writer),
        &json!({"resource":"accounts","reason":"r"}),
    );
    assert_eq!(answer.status, 403);
    let user = format!("Bearer {}", hs256_user(3600, false));
    let answer = edge.post(
        "abort",
        Some(&user),
        &json!({"resource":"accounts","reason":"r"}),
    );
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(
        answer.body.contains("vantage_sync_admin"),
        "{}",
        answer.body
    );
    assert_eq!(edge.calls(), 0);
}

/// Before any success the watermark is null (sync everything); a database without migration
/// 20261202100000 sends no watermark at all, which reads the same.
#[test]
fn start_answers_a_null_watermark_before_any_success() {
    for run in [
        json!({"run_id": RUN, "started_at": "2026-11-24T10:00:00+00:00", "sync_watermark": null}),
        json!({"run_id": RUN, "started_at": "2026-11-24T10:00:00+00:00"}),
    ] {
        let edge = TestEdge::new(move |_| reply_json(200, &run));
        let answer = edge.post_as_writer("start", &json!({"resource":"accounts"}));
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(
            answer.json()["sync_watermark"],
            Value::Null,
            "{}",
            answer.body
        );
    }
}

#[test]
fn start_is_one_call_that_returns_the_run_its_start_time_and_the_watermark() {
    let edge = TestEdge::new(|_| {
        reply_json(
            200,
            &json!({"run_id": RUN, "started_at": "2026-11-24T10:00:00.5+00:00",
                    "sync_watermark": "2026-11-24T09:00:00.25+00:00"}),
        )
    });
    let answer = edge.post_as_writer("start", &json!({"resource":"accounts"}));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"run_id": RUN, "resource": "accounts", "started_at": "2026-11-24T10:00:00.5+00:00",
               "sync_watermark": "2026-11-24T09:00:00.25+00:00"})
    );
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("x-request-id"), Some("req-1"));
    assert!(answer.header("access-control-allow-origin").is_none());
    let sent = edge.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, Method::POST);
    assert_eq!(sent[0].uri, "http://rest.test/rpc/start_vantage_sync_run");
    assert_eq!(sent[0].body, json!({"p_resource": "accounts"}));
    assert_eq!(sent[0].apikey.as_deref(), Some(SERVICE_KEY));
    assert_eq!(
        sent[0].authorization.as_deref(),
        Some(format!("Bearer {SERVICE_KEY}").as_str()),
        "the legacy service_role key goes in both headers"
    );
    let log = edge.last_log();
    assert_eq!(
        (log.route, log.status, log.upstream_calls),
        ("start", 200, 1)
    );
}

#[test]
fn a_start_answer_without_a_run_is_500_internal() {
    let edge = TestEdge::new(|_| reply_json(200, &json!({"run_id": "not-a-uuid"})));
    let answer = edge.post_as_writer("start", &json!({"resource":"accounts"}));
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert_eq!(answer.json()["error"]["code"], "internal");
}

#[test]
fn the_secret_key_goes_in_apikey_only() {
    let edge = TestEdge::with_env(
        &[
            ("SUPABASE_SECRET_KEY", "sb_secret_test"),
            ("SUPABASE_SERVICE_ROLE_KEY", ""),
        ],
        |_| reply_json(200, &json!([])),
    );
    let answer = edge.get("health", Some(&format!("Bearer {WRITER}")));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let sent = edge.sent();
    assert_eq!(sent[0].apikey.as_deref(), Some("sb_secret_test"));
    assert_eq!(sent[0].authorization, None);
}

#[test]
fn a_start_while_running_is_409_with_the_current_run() {
    let edge = TestEdge::new(|_| {
        reply_json(
            409,
            &json!({"code":"PT409","message":"resource \"accounts\" already has a run in progress",
                    "details": json!({"resource":"accounts","status":"running","current_run_id":RUN,
                                      "started_at":"2026-11-24T10:00:00+00:00","completed_at":null}).to_string(),
                    "hint":"Wait for it to finish, or abort it if it is stuck."}),
        )
    });
    let answer = edge.post_as_writer("start", &json!({"resource":"accounts"}));
    assert_eq!(answer.status, 409);
    let body = answer.json();
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(body["error"]["current_run"]["run_id"], RUN);
    assert!(!answer.body.contains("Wait for it"), "hints are not echoed");
    assert_eq!(edge.calls(), 1);
}

#[test]
fn complete_with_a_run_id_is_one_call() {
    let edge = TestEdge::new(|_| Reply::Status(204));
    let body = json!({"resource":"accounts","run_id":RUN,"records_synced":150,"records_created":10,"records_updated":140});
    let answer = edge.post_as_writer("complete", &body);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"resource":"accounts","run_id":RUN,"status":"success","records_synced":150,"records_created":10,"records_updated":140,"counts_reported":true})
    );
    let sent = edge.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body,
        json!({"p_resource":"accounts","p_records_synced":150,"p_records_created":10,"p_records_updated":140,"p_run_id":RUN})
    );
}

#[test]
fn complete_without_counts_sends_nulls_and_says_none_were_reported() {
    let edge = TestEdge::new(|_| Reply::Status(204));
    let answer = edge.post_as_writer("complete", &json!({"resource":"accounts","run_id":RUN}));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"resource":"accounts","run_id":RUN,"status":"success","records_synced":null,
               "records_created":null,"records_updated":null,"counts_reported":false})
    );
    assert_eq!(
        edge.sent()[0].body,
        json!({"p_resource":"accounts","p_records_synced":null,"p_records_created":null,
               "p_records_updated":null,"p_run_id":RUN})
    );
}

#[test]
fn complete_with_some_counts_is_400_before_any_call() {
    let edge = TestEdge::new(|_| Reply::Status(204));
    let answer = edge.post_as_writer(
        "complete",
        &json!({"resource":"accounts","run_id":RUN,"records_synced":5}),
    );
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.json()["error"]["code"], "invalid_request");
    assert!(
        answer.body.contains("give all three counts"),
        "{}",
        answer.body
    );
    assert_eq!(edge.calls(), 0);
}

#[test]
fn progress_is_one_call_answering_the_heartbeat() {
    let edge = TestEdge::new(|_| reply_json(200, &json!("2026-12-08T09:00:00.123456+00:00")));
    let answer = edge.post_as_writer(
        "progress",
        &json!({"resource":"accounts","run_id":RUN,"records_synced":45_200}),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"resource":"accounts","run_id":RUN,
               "last_heartbeat_at":"2026-12-08T09:00:00.123456+00:00","records_synced":45_200})
    );
    let sent = edge.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].uri,
        "http://rest.test/rpc/progress_vantage_sync_run"
    );
    assert_eq!(
        sent[0].body,
        json!({"p_resource":"accounts","p_run_id":RUN,"p_records_synced":45_200})
    );
    let without = edge.post_as_writer("progress", &json!({"resource":"accounts","run_id":RUN}));
    assert_eq!(without.status, 200, "{}", without.body);
    assert_eq!(without.json()["records_synced"], Value::Null);
    assert_eq!(edge.sent()[1].body["p_records_synced"], Value::Null);
}

#[test]
fn progress_of_a_run_that_is_not_current_is_409_with_the_current_run() {
    let other = "9a9a9a9a-4d5a-4b6c-9d7e-8f9a0b1c2d3e";
    let edge = TestEdge::new(move |_| {
        reply_json(
            409,
            &json!({"code":"PT409","message":"cannot report progress of run … SELECT 1",
                    "details": json!({"resource":"accounts","status":"running","current_run_id":other,
                                      "started_at":"2026-11-24T10:00:00+00:00","completed_at":null}).to_string()}),
        )
    });
    let answer = edge.post_as_writer("progress", &json!({"resource":"accounts","run_id":RUN}));
    assert_eq!(answer.status, 409, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(
        body["error"]["message"],
        format!(
            "cannot report progress of run {RUN} of \"accounts\": it is not the current run (that is {other} with status running)"
        )
    );
    assert_eq!(body["error"]["current_run"]["run_id"], other);
    assert!(
        !answer.body.contains("SELECT"),
        "no SQL text: {}",
        answer.body
    );
}

#[test]
fn progress_of_an_unknown_resource_is_404() {
    let edge = TestEdge::new(|_| {
        reply_json(
            404,
            &json!({"code":"PT404","message":"unknown resource \"nobody\": call start_vantage_sync first"}),
        )
    });
    let answer = edge.post_as_writer("progress", &json!({"resource":"nobody","run_id":RUN}));
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert_eq!(answer.json()["error"]["code"], "unknown_resource");
    assert_eq!(answer.json()["error"]["resource"], "nobody");
}

#[test]
fn progress_refuses_a_user_session() {
    let edge = TestEdge::new(|_| reply_json(200, &json!("2026-12-08T09:00:00+00:00")));
    let admin = format!("Bearer {}", hs256_user(3600, true));
    let answer = edge.post(
        "progress",
        Some(&admin),
        &json!({"resource":"accounts","run_id":RUN}),
    );
    assert!(
        answer.status == 401 || answer.status == 403,
        "{}: {}",
        answer.status,
        answer.body
    );
    assert_eq!(edge.calls(), 0);
}

#[test]
fn an_unnamed_complete_pins_the_run_in_progress() {
    let edge = TestEdge::new(|request| {
        if request.method() == Method::GET {
            reply_json(
                200,
                &json!([{"last_sync_status":"running","current_run_id":RUN}]),
            )
        } else {
            Reply::Status(204)
        }
    });
    let body =
        json!({"resource":"accounts","records_synced":1,"records_created":1,"records_updated":0});
    let answer = edge.post_as_writer("complete", &body);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["run_id"], RUN);
    let sent = edge.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0].uri,
        "http://rest.test/vantage_sync_state?select=last_sync_status,current_run_id&resource=eq.accounts"
    );
    assert_eq!(sent[1].body["p_run_id"], RUN);
}

#[test]
fn an_unnamed_fail_of_an_unknown_resource_is_404_without_calling_the_function() {
    let edge = TestEdge::new(|_| reply_json(200, &json!([])));
    let body = json!({"resource":"nobody","errors":[{"code":"X","message":"m","extra":{"k":1}}]});
    let answer = edge.post_as_writer("fail", &body);
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json()["error"]["code"], "unknown_resource");
    assert_eq!(answer.json()["error"]["resource"], "nobody");
    assert_eq!(edge.calls(), 1);
}

#[test]
fn fail_sends_the_errors_as_given() {
    let edge = TestEdge::new(|_| Reply::Status(204));
    let errors = json!([{"code":"API_TIMEOUT","message":"timed out","record_id":"12345"}]);
    let answer = edge.post_as_writer(
        "fail",
        &json!({"resource":"accounts","run_id":RUN,"errors":errors}),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["status"], "failed");
    assert_eq!(answer.json()["error_count"], 1);
    assert_eq!(edge.sent()[0].body["p_errors"], errors);
}

#[test]
fn abort_records_the_admin() {
    let edge = TestEdge::new(|_| reply_json(200, &json!(RUN)));
    let admin = format!("Bearer {}", hs256_user(3600, true));
    let answer = edge.post(
        "abort",
        Some(&admin),
        &json!({"resource":"accounts","reason":"stuck on a lock"}),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"resource":"accounts","run_id":RUN,"status":"failed","aborted_by":ADMIN_EMAIL})
    );
    assert_eq!(
        edge.sent()[0].body,
        json!({"p_resource":"accounts","p_reason":"stuck on a lock","p_aborted_by":ADMIN_EMAIL,"p_run_id":null})
    );
}

#[test]
fn es256_user_tokens_are_verified_with_the_configured_jwks() {
    let edge = TestEdge::new(|_| reply_json(200, &json!([])));
    let token = support::es256_user(3600, true);
    let answer = edge.get("health", Some(&format!("Bearer {token}")));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        edge.calls(),
        1,
        "only the health read: the JWKS is configured"
    );
}

#[test]
fn health_serves_the_view_with_a_summary() {
    let rows = json!([
        {"resource":"a","health":"red"},{"resource":"b","health":"yellow"},
        {"resource":"c","health":"yellow"},{"resource":"d","health":"green"}
    ]);
    let edge = TestEdge::new(move |_| reply_json(200, &rows));
    let answer = edge.get("health", Some(&format!("Bearer {WRITER}")));
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(body["summary"], json!({"red":1,"yellow":2,"green":1}));
    assert_eq!(body["resources"][0]["resource"], "a");
    assert!(edge.sent()[0].uri.contains("&order=sort_key"));
}

#[test]
fn health_reads_past_postgrest_row_cap_page_by_page() {
    // 2,500 resources: PostgREST answers at most 1,000 rows per request.
    let edge = TestEdge::new(|request| {
        let offset: usize = request
            .uri()
            .to_string()
            .split("offset=")
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let rows: Vec<Value> = (offset..2500.min(offset + 1000))
            .map(|n| json!({"resource": format!("r{n:04}"), "health": "green"}))
            .collect();
        reply_json(200, &json!(rows))
    });
    let answer = edge.get("health", Some(&format!("Bearer {WRITER}")));
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(body["resources"].as_array().map(Vec::len), Some(2500));
    assert_eq!(body["summary"]["green"], 2500);
    assert_eq!(body["resources"][2499]["resource"], "r2499");
    assert_eq!(edge.sent().len(), 3, "three pages: 1,000 + 1,000 + 500");
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario against the real stack, step by step: split, its order would be harder to follow"
)]
fn routing_errors_and_body_checks() {
    let edge = TestEdge::new(|_| reply_json(200, &json!("unused")));
    let writer = format!("Bearer {WRITER}");
    let answer = edge.request(
        Method::POST,
        "/functions/v1/vantage-sync/nope",
        Some(&writer),
        None,
        b"{}",
    );
    assert_eq!(
        (answer.status, answer.code()),
        (404, "not_found".to_owned())
    );
    let answer = edge.request(
        Method::GET,
        "/functions/v1/vantage-sync/start",
        Some(&writer),
        None,
        b"",
    );
    assert_eq!(
        (answer.status, answer.code()),
        (405, "method_not_allowed".to_owned())
    );
    assert_eq!(answer.header("allow"), Some("POST"));
    let answer = edge.request(
        Method::DELETE,
        "/vantage-sync/health",
        Some(&writer),
        None,
        b"",
    );
    assert_eq!(answer.header("allow"), Some("GET, OPTIONS"));
    let answer = edge.request(
        Method::POST,
        "/vantage-sync/start",
        Some(&writer),
        Some("text/plain"),
        br#"{"resource":"a"}"#,
    );
    assert_eq!(
        (answer.status, answer.code()),
        (415, "unsupported_media_type".to_owned())
    );
    let answer = edge.request(
        Method::POST,
        "/vantage-sync/start",
        Some(&writer),
        None,
        br#"{"resource":"a"}"#,
    );
    assert_eq!(answer.status, 415, "no Content-Type");
    let answer = edge.request(
        Method::POST,
        "/vantage-sync/start",
        Some(&writer),
        Some("Application/JSON; charset=utf-8"),
        br#"{"resource":"A"}"#,
    );
    assert_eq!(
        (answer.status, answer.code()),
        (400, "invalid_request".to_owned()),
        "media types are case-insensitive"
    );
    let big = vec![b' '; edge_core::MAX_BODY_BYTES + 1];
    let answer = edge.request(
        Method::POST,
        "/vantage-sync/start",
        Some(&writer),
        Some("application/json"),
        &big,
    );
    assert_eq!(
        (answer.status, answer.code()),
        (413, "payload_too_large".to_owned())
    );
    let answer = edge.post_as_writer(
        "complete",
        &json!({"resource":"a","records_synced":1,"records_created":1,"records_updated":1}),
    );
    assert_eq!(answer.status, 422);
    assert_eq!(edge.calls(), 0);
}

#[test]
fn oversized_bodies_are_refused_from_the_head() {
    let edge = TestEdge::new(|_| reply_json(200, &json!("unused")));
    let head = support::head(
        Method::POST,
        "/functions/v1/vantage-sync/fail",
        &[("content-length", "65537")],
    );
    let ctx = edge.edge.begin("r");
    let early = edge
        .edge
        .check_head(&head, &ctx)
        .expect("answered from the head");
    assert_eq!(early.response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let head = support::head(
        Method::POST,
        "/functions/v1/vantage-sync/fail",
        &[("content-length", "65536")],
    );
    assert!(
        edge.edge.check_head(&head, &ctx).is_none(),
        "64 KiB exactly is fine"
    );
    // What a runtime makes of a repeated header must not pass as "no size given".
    for length in ["200000000, 200000000", "lots", "-1"] {
        let head = support::head(
            Method::POST,
            "/functions/v1/vantage-sync/fail",
            &[("content-length", length)],
        );
        assert_eq!(
            edge.edge
                .check_head(&head, &ctx)
                .map(|h| h.response.status()),
            Some(StatusCode::BAD_REQUEST),
            "Content-Length {length:?}"
        );
    }
    let head = support::head(Method::PUT, "/functions/v1/vantage-sync/fail", &[]);
    assert_eq!(
        edge.edge
            .check_head(&head, &ctx)
            .map(|h| h.response.status()),
        Some(StatusCode::METHOD_NOT_ALLOWED)
    );
    let head = support::head(Method::POST, "/functions/v1/vantage-sync/fail", &[]);
    let late = edge.serve(head, Err(edge_core::BodyError::TooLarge));
    assert_eq!(late.status, 413);
    assert_eq!(edge.last_log().route, "fail");
}

#[test]
fn cors_only_on_browser_routes_and_allowed_origins() {
    let edge = TestEdge::new(|_| reply_json(200, &json!([])));
    let allowed = support::ORIGIN;
    for route in ["abort", "health"] {
        let answer = edge.preflight(route, allowed);
        assert_eq!(answer.status, 204, "{route}");
        assert_eq!(answer.header("access-control-allow-origin"), Some(allowed));
        assert!(
            answer
                .header("access-control-allow-headers")
                .unwrap_or("")
                .contains("authorization")
        );
        let answer = edge.preflight(route, "https://evil.example");
        assert_eq!(answer.status, 403, "{route}");
        assert!(answer.header("access-control-allow-origin").is_none());
    }
    for route in ["start", "complete", "fail"] {
        let answer = edge.preflight(route, allowed);
        assert_eq!(answer.status, 405, "{route}");
        assert!(answer.header("access-control-allow-origin").is_none());
    }
    let answer = edge.request_with(
        Method::GET,
        "/vantage-sync/health",
        &[
            ("authorization", &format!("Bearer {WRITER}")),
            ("origin", allowed),
        ],
        b"",
    );
    assert_eq!(answer.header("access-control-allow-origin"), Some(allowed));
    let answer = edge.request_with(
        Method::GET,
        "/vantage-sync/health",
        &[("origin", allowed)],
        b"",
    );
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some(allowed),
        "browsers may read the error"
    );
}

#[test]
fn upstream_failures_are_503_with_retry_after_or_500() {
    let cases: [(Reply, u16, &str); 5] = [
        (
            Reply::Fail(edge_core::UpstreamErrorKind::Timeout),
            503,
            "upstream_unavailable",
        ),
        (
            Reply::Fail(edge_core::UpstreamErrorKind::Unavailable),
            503,
            "upstream_unavailable",
        ),
        (Reply::Status(502), 503, "upstream_unavailable"),
        (
            Reply::Json(
                401,
                json!({"code":"42501","message":"permission denied for function start_vantage_sync"}),
            ),
            500,
            "internal",
        ),
        (
            Reply::Json(
                400,
                json!({"code":"23514","message":"new row for relation \"vantage_sync_state\" violates check constraint \"x\""}),
            ),
            422,
            "invalid_request",
        ),
    ];
    for (reply, status, code) in cases {
        let edge = TestEdge::new(move |_| reply.clone());
        let answer = edge.post_as_writer("start", &json!({"resource":"accounts"}));
        assert_eq!(
            (answer.status, answer.code()),
            (status, code.to_owned()),
            "{}",
            answer.body
        );
        if status == 503 {
            assert_eq!(answer.header("retry-after"), Some("5"));
        }
        for secret in [
            SERVICE_KEY,
            WRITER,
            "permission denied",
            "relation",
            "constraint",
        ] {
            assert!(!answer.body.contains(secret), "{secret} in {}", answer.body);
        }
        let log = edge.last_log().to_json();
        assert!(!log.contains(SERVICE_KEY) && !log.contains(WRITER), "{log}");
        if status >= 500 {
            assert!(edge.last_log().detail.is_some(), "{log}");
        }
    }
}

#[test]
fn a_fetched_jwks_is_cached_and_refetched_at_most_every_30_seconds() {
    let edge = TestEdge::with_env(&[("SUPABASE_JWKS", "")], |request| {
        if request.uri().path().ends_with("/jwks.json") {
            reply_json(200, &support::jwks())
        } else {
            reply_json(200, &json!([]))
        }
    });
    let token = format!("Bearer {}", support::es256_user(3600, true));
    for _ in 0..3 {
        assert_eq!(edge.get("health", Some(&token)).status, 200);
    }
    let jwks_fetches = |e: &TestEdge| {
        e.sent()
            .iter()
            .filter(|s| s.uri.ends_with("/jwks.json"))
            .count()
    };
    assert_eq!(jwks_fetches(&edge), 1, "fetched once, then cached");
    assert_eq!(
        edge.sent()[0].uri,
        "http://supabase.test/auth/v1/.well-known/jwks.json"
    );
    let stranger = format!("Bearer {}", support::foreign_es256_user());
    for _ in 0..5 {
        assert_eq!(edge.get("health", Some(&stranger)).status, 401);
    }
    assert_eq!(
        jwks_fetches(&edge),
        1,
        "an unknown kid within 30 s of a fetch: no refetch"
    );
    edge.advance_ms(31_000.0);
    assert_eq!(edge.get("health", Some(&stranger)).status, 401);
    assert_eq!(edge.get("health", Some(&stranger)).status, 401);
    assert_eq!(
        jwks_fetches(&edge),
        2,
        "one refetch for an unknown kid, then rate-limited"
    );
}

#[test]
fn an_unreachable_jwks_is_503_not_401() {
    let edge = TestEdge::with_env(&[("SUPABASE_JWKS", "")], |_| {
        Reply::Fail(edge_core::UpstreamErrorKind::Unavailable)
    });
    let token = format!("Bearer {}", support::es256_user(3600, true));
    let answer = edge.get("health", Some(&token));
    assert_eq!(
        (answer.status, answer.code()),
        (503, "upstream_unavailable".to_owned())
    );
}

#[test]
fn hs256_tokens_are_refused_without_the_legacy_secret() {
    let edge = TestEdge::with_env(&[("SUPABASE_JWT_SECRET", "")], |_| {
        reply_json(200, &json!([]))
    });
    let answer = edge.get(
        "health",
        Some(&format!("Bearer {}", hs256_user(3600, true))),
    );
    assert_eq!(answer.status, 401);
    assert!(answer.body.contains("legacy JWT secret"), "{}", answer.body);
    let _ = HS_SECRET;
}

#[test]
fn a_broken_configuration_answers_500_and_names_the_variable_in_the_log_only() {
    let error = edge_core::Config::from_env(|_| None).expect_err("nothing is set");
    let handled = edge_core::misconfigured(&error, "POST", "r1");
    assert_eq!(handled.response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = serde_json::from_slice(handled.response.body()).unwrap();
    assert_eq!(body["error"]["code"], "internal");
    assert!(
        handled
            .log
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("SUPABASE_URL")
    );
    let _ = Bytes::new();
}

/// A subscription deleted while its delivery was being sent takes the delivery with it
/// (`record_vantage_sync_delivery` answers PT404): the sweep goes on and answers 200. It used
/// to fail as a whole, with a 404 naming the delivery's resource.
#[test]
fn a_delivery_gone_while_it_was_sent_does_not_fail_the_sweep() {
    let claimed = std::sync::atomic::AtomicBool::new(false);
    let edge = TestEdge::new(move |request| {
        let uri = request.uri().to_string();
        if uri.contains("sweep_vantage_syncs") {
            reply_json(
                200,
                &json!([{ "swept": 0, "stale_events": 0, "late_events": 2 }]),
            )
        } else if uri.contains("claim_vantage_sync_deliveries") {
            let first = !claimed.swap(true, std::sync::atomic::Ordering::SeqCst);
            let due = if first {
                json!([{ "delivery_id": "d1", "url": "https://hooks.example.com/x",
                         "secret": "s", "event": "failed", "resource": "accounts",
                         "payload": { "event": "failed" }, "attempt": 1 }])
            } else {
                json!([])
            };
            reply_json(200, &due)
        } else if uri.contains("hooks.example.com") {
            reply_json(200, &json!({}))
        } else if uri.contains("record_vantage_sync_delivery") {
            reply_json(
                404,
                &json!({"code":"PT404","message":"no webhook delivery d1"}),
            )
        } else {
            reply_json(500, &json!({"code":"XX000","message":"unexpected call"}))
        }
    });
    let answer = edge.post_as_writer("sweep", &json!({}));
    assert_eq!(answer.status, 200, "{}", answer.json());
    assert_eq!(answer.json()["deliveries"]["claimed"], 1);
    assert_eq!(answer.json()["deliveries"]["delivered"], 0);
    assert_eq!(answer.json()["late_events"], 2);
}
