//! `GET metrics` through the public API with a scripted PostgREST: who may scrape, the pages
//! read, the two text formats, and the edge's own request counters.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use http::Method;
use serde_json::{Value, json};
use support::{Reply, TestEdge, WRITER, hs256_user, reply_json};
use vantage_edge_core::sha256_hex;

const METRICS_TOKEN: &str = "vmt_test_metrics_token_0123456789abcdef";
const OPENMETRICS: &str =
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";

fn row(resource: &str) -> Value {
    json!({
        "resource": resource, "health": "red", "health_value": 2,
        "last_success_age_seconds": 90.5, "last_duration_seconds": 3.2,
        "consecutive_failures": 4, "running_seconds": 0, "watermark_seconds": 1_800_000_000.25,
    })
}

/// An edge that accepts `METRICS_TOKEN` on `metrics`, and whose PostgREST holds `total` rows.
fn edge_with_rows(total: usize) -> TestEdge {
    TestEdge::with_env(
        &[("VANTAGE_METRICS_TOKEN_SHA256", &sha256_hex(METRICS_TOKEN))],
        move |request| {
            let query = request.uri().query().unwrap_or_default().to_owned();
            let offset: usize = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("offset="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let rows: Vec<Value> = (offset..total.min(offset + 1000))
                .map(|n| row(&format!("r{n:05}")))
                .collect();
            reply_json(200, &Value::Array(rows))
        },
    )
}

fn scrape(edge: &TestEdge, auth: Option<&str>, accept: Option<&str>) -> support::Answer {
    let mut headers = Vec::new();
    if let Some(auth) = auth {
        headers.push(("authorization", auth));
    }
    if let Some(accept) = accept {
        headers.push(("accept", accept));
    }
    edge.request_with(
        Method::GET,
        "/functions/v1/vantage-sync/metrics",
        &headers,
        b"",
    )
}

#[test]
fn writer_and_metrics_tokens_scrape_everything_else_is_401_before_any_upstream_call() {
    let edge = edge_with_rows(1);
    let user = format!("Bearer {}", hs256_user(3600, true));
    let wrong = format!("Bearer {METRICS_TOKEN}x");
    for auth in [
        None,
        Some("Bearer "),
        Some(wrong.as_str()),
        Some(user.as_str()),
    ] {
        let answer = scrape(&edge, auth, None);
        assert_eq!(answer.status, 401, "{auth:?}: {}", answer.body);
        assert_eq!(answer.code(), "unauthorized");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
        let line = edge.last_log().to_json();
        assert!(
            !line.contains(METRICS_TOKEN) && !line.contains("Bearer"),
            "{line}"
        );
    }
    assert_eq!(edge.calls(), 0);
    for auth in [
        format!("Bearer {WRITER}"),
        format!("Bearer {METRICS_TOKEN}"),
    ] {
        let answer = scrape(&edge, Some(&auth), None);
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    assert_eq!(edge.calls(), 2);
    assert!(
        edge.sent().iter().all(|sent| sent.uri
            == "http://rest.test/vantage_sync_metrics_by_resource?order=resource&limit=1000&offset=0"),
        "{:?}",
        edge.sent()
    );
}

#[test]
fn a_metrics_token_is_refused_on_every_other_route() {
    let edge = edge_with_rows(1);
    let auth = format!("Bearer {METRICS_TOKEN}");
    for route in ["start", "complete", "fail", "sweep", "abort"] {
        let answer = edge.post(route, Some(&auth), &json!({"resource":"accounts"}));
        assert_eq!(answer.status, 401, "{route}: {}", answer.body);
    }
    assert_eq!(edge.get("health", Some(&auth)).status, 401);
    assert_eq!(edge.calls(), 0);
}

#[test]
fn without_metrics_tokens_configured_only_writer_tokens_scrape() {
    let edge = TestEdge::new(|_| reply_json(200, &json!([])));
    let answer = scrape(&edge, Some(&format!("Bearer {METRICS_TOKEN}")), None);
    assert_eq!(answer.status, 401);
    let answer = scrape(&edge, Some(&format!("Bearer {WRITER}")), None);
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
}

#[test]
fn every_page_is_read_and_prometheus_gets_openmetrics() {
    let edge = edge_with_rows(1002);
    let answer = scrape(
        &edge,
        Some(&format!("Bearer {METRICS_TOKEN}")),
        Some(OPENMETRICS),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let offsets: Vec<String> = edge.sent().iter().map(|s| s.uri.clone()).collect();
    assert_eq!(offsets.len(), 2, "{offsets:?}");
    assert!(
        offsets[1].ends_with("&limit=1000&offset=1000"),
        "{offsets:?}"
    );
    let health = answer
        .body
        .lines()
        .filter(|l| l.starts_with("vantage_sync_health{"))
        .count();
    assert_eq!(health, 1002);
    assert!(
        answer
            .body
            .contains("vantage_sync_health{resource=\"r01001\",health=\"red\"} 2\n")
    );
    assert!(
        answer.body.contains(
            "vantage_sync_watermark_timestamp_seconds{resource=\"r00000\"} 1800000000.25\n"
        )
    );
    assert!(answer.body.ends_with("# EOF\n"));
    assert_eq!(edge.last_log().route, "metrics");
    assert_eq!(edge.last_log().upstream_calls, 2);
}

#[test]
fn the_edge_counts_its_answers_by_route_and_status() {
    let edge = edge_with_rows(0);
    let writer = format!("Bearer {WRITER}");
    edge.get("nowhere", None);
    edge.get("nowhere", None);
    edge.post("start", None, &json!({"resource":"accounts"}));
    scrape(&edge, Some(&writer), None);
    let answer = scrape(&edge, Some(&writer), None);
    let counts: Vec<&str> = answer
        .body
        .lines()
        .filter(|l| l.starts_with("vantage_sync_edge_requests_total"))
        .collect();
    assert_eq!(
        counts,
        [
            "vantage_sync_edge_requests_total{route=\"metrics\",status=\"200\"} 1",
            "vantage_sync_edge_requests_total{route=\"start\",status=\"401\"} 1",
            "vantage_sync_edge_requests_total{route=\"unknown\",status=\"404\"} 2",
        ]
    );
}

#[test]
fn a_database_that_cannot_be_read_fails_the_scrape() {
    let edge = TestEdge::new(|_| Reply::Fail(vantage_edge_core::UpstreamErrorKind::Timeout));
    let answer = scrape(&edge, Some(&format!("Bearer {WRITER}")), None);
    assert_eq!(answer.status, 503);
    assert_eq!(answer.code(), "upstream_unavailable");
}
