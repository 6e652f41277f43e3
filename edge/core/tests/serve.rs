//! `serve`, the course every adapter runs: a refused head never has its body read, the body is
//! read once and never past the limit, and webhook deliveries are handed to the runtime after
//! the answer, only when a successful transition queued them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use http::Method;
use serde_json::json;
use support::{Reply, TestEdge, WRITER, reply_json};
use vantage_edge_core::{BodyError, MAX_BODY_BYTES};

const RUN: &str = support::RUN;

fn start_head(headers: &[(&str, &str)]) -> http::request::Parts {
    let auth = format!("Bearer {WRITER}");
    let mut all = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    all.extend_from_slice(headers);
    support::head(Method::POST, "/functions/v1/vantage-sync/start", &all)
}

/// An upstream whose `start` answers a run, queuing deliveries when `pending`.
fn started(pending: bool) -> TestEdge {
    TestEdge::new(move |request| {
        let uri = request.uri().to_string();
        let run = json!({ "run_id": RUN, "started_at": "2026-11-24T10:00:00+00:00" });
        if uri.contains("start_vantage_sync_run") && pending {
            Reply::Pending(200, run)
        } else if uri.contains("start_vantage_sync_run") {
            reply_json(200, &run)
        } else if uri.contains("claim_vantage_sync_deliveries") {
            reply_json(200, &json!([]))
        } else {
            reply_json(
                500,
                &json!({ "code": "XX000", "message": "unexpected call" }),
            )
        }
    })
}

#[test]
fn a_refused_head_never_has_its_body_read() {
    let auth = format!("Bearer {WRITER}");
    let start = "/functions/v1/vantage-sync/start";
    let cases = [
        (
            support::head(
                Method::POST,
                start,
                &[("content-length", "65537"), ("authorization", &auth)],
            ),
            413,
        ),
        // What a runtime makes of a repeated header: not "no size given" (which would read
        // the whole body before the limit applied).
        (
            support::head(
                Method::POST,
                start,
                &[
                    ("content-length", "2000000, 2000000"),
                    ("authorization", &auth),
                ],
            ),
            400,
        ),
        (
            support::head(Method::POST, "/functions/v1/vantage-sync/nope", &[]),
            404,
        ),
        (support::head(Method::PUT, start, &[]), 405),
        (
            support::head(
                Method::OPTIONS,
                "/functions/v1/vantage-sync/abort",
                &[("origin", support::ORIGIN)],
            ),
            204,
        ),
    ];
    for (head, status) in cases {
        let what = format!("{} {} {:?}", head.method, head.uri, head.headers);
        let edge = started(false);
        // A body that would answer 400 if it were read: the head's answer must come first.
        let answer = edge.serve(head, Err(BodyError::Unreadable));
        assert_eq!(answer.status, status, "{what}");
        assert_eq!(edge.body_reads(), Vec::<usize>::new(), "{what}");
        assert_eq!(edge.calls(), 0, "{what}");
        assert_eq!(edge.logs().len(), 1, "one log line per request");
        assert_eq!(edge.last_log().status, status);
    }
}

#[test]
fn the_body_is_read_once_and_never_past_the_limit() {
    let edge = started(false);
    let body = br#"{"resource":"accounts"}"#;
    let length = body.len().to_string();
    let answer = edge.serve(start_head(&[("content-length", &length)]), Ok(body));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["run_id"], RUN);
    assert_eq!(edge.body_reads(), vec![MAX_BODY_BYTES]);

    // No Content-Length: the limit applies while reading.
    let edge = started(false);
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    let answer = edge.serve(start_head(&[]), Ok(&big));
    assert_eq!(
        (answer.status, answer.code()),
        (413, "payload_too_large".to_owned())
    );
    assert_eq!(edge.calls(), 0, "nothing reaches PostgREST");
    let log = edge.last_log();
    assert_eq!(
        (log.route, log.status, log.error),
        ("start", 413, Some("payload_too_large"))
    );

    // 64 KiB exactly is read (and then refused as no JSON object, not as too large).
    let edge = started(false);
    let answer = edge.serve(start_head(&[]), Ok(&big[..MAX_BODY_BYTES]));
    assert_eq!(answer.status, 400, "{}", answer.body);
}

#[test]
fn a_body_that_cannot_be_read_is_400_with_the_route_logged() {
    let edge = started(false);
    let answer = edge.serve(start_head(&[]), Err(BodyError::Unreadable));
    assert_eq!(
        (answer.status, answer.code()),
        (400, "invalid_request".to_owned())
    );
    assert_eq!(
        answer.json()["error"]["message"],
        "the body could not be read to its end"
    );
    assert_eq!(answer.header("x-request-id"), Some("req-1"));
    assert_eq!(edge.last_log().route, "start");
    assert_eq!(edge.calls(), 0);
}

#[test]
fn deliveries_are_handed_over_after_the_answer_when_a_transition_queued_them() {
    let edge = started(true);
    let answer = edge.post_as_writer("start", &json!({ "resource": "accounts" }));
    assert_eq!(answer.status, 200, "{}", answer.body);
    // Handed to the runtime, not run: the answer did not wait for a receiver.
    assert_eq!(
        edge.deliveries(),
        vec![("req-1".to_owned(), "accounts".to_owned())]
    );
    assert_eq!(edge.calls(), 1, "only the start call so far");
    assert_eq!(edge.logs().len(), 1);
    assert_eq!(edge.last_log().route, "start");

    assert_eq!(edge.run_deliveries(), 1);
    let sent = edge.sent();
    assert!(sent[1].uri.ends_with("/rpc/claim_vantage_sync_deliveries"));
    assert_eq!(sent[1].body["p_resource"], "accounts");
    let logs = edge.logs();
    assert_eq!(logs.len(), 2, "the request's line, then the deliveries'");
    assert_eq!(
        (logs[1].route, logs[1].request_id.as_str(), logs[1].status),
        ("deliveries", "req-1", 200)
    );
}

#[test]
fn no_deliveries_without_the_header_or_after_a_failed_answer() {
    let edge = started(false);
    let answer = edge.post_as_writer("start", &json!({ "resource": "accounts" }));
    assert_eq!(answer.status, 200);
    assert_eq!(edge.deliveries(), Vec::new());

    // The transition queued deliveries, but the answer is an error: none are sent.
    let edge = TestEdge::new(|_| Reply::Pending(200, json!({ "not": "a run" })));
    let answer = edge.post_as_writer("start", &json!({ "resource": "accounts" }));
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert_eq!(edge.deliveries(), Vec::new());
}

#[test]
fn a_sweep_sends_its_deliveries_itself_and_hands_none_over() {
    let edge = TestEdge::new(|request| {
        let uri = request.uri().to_string();
        if uri.contains("sweep_vantage_syncs") {
            Reply::Pending(200, json!([{ "swept": 1, "stale_events": 1 }]))
        } else {
            reply_json(200, &json!([]))
        }
    });
    let answer = edge.post_as_writer("sweep", &json!({}));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["deliveries"]["claimed"], 0);
    assert_eq!(edge.deliveries(), Vec::new());
}
