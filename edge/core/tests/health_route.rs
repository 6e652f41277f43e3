//! `GET health`'s parameters through the handler, against a scripted health view that answers
//! PostgREST's filters (`health=in.`, `resource=eq.`, `sort_key=gt.`, `order`, `limit`,
//! `offset`) over a fixed set of rows: filters go to PostgREST, not applied after reading;
//! pages walk every row once, in order; every bad value is refused before any call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use bytes::Bytes;
use http::Request;
use serde_json::{Value, json};
use support::{Reply, TestEdge, WRITER, reply_json};

/// The view's rows as `(health, resource)`, in no particular order.
fn dataset() -> Vec<(&'static str, String)> {
    let healths = [
        "green", "red", "yellow", "green", "yellow", "green", "green",
    ];
    (0..47)
        .map(|n| (healths[n % healths.len()], format!("resource_{n:02}")))
        .collect()
}

fn rank(health: &str) -> u8 {
    match health {
        "red" => 1,
        "yellow" => 2,
        _ => 3,
    }
}

/// The view's `sort_key`, as the migration builds it.
fn sort_key(health: &str, resource: &str) -> String {
    format!("{}:{resource}", rank(health))
}

/// A health view over `rows` as PostgREST reads it, capped at 1,000 rows per answer.
fn health_view(rows: Vec<(&'static str, String)>) -> impl Fn(&Request<Bytes>) -> Reply {
    move |request| {
        let query = request.uri().query().unwrap_or_default().to_owned();
        let mut selected: Vec<(String, &str, &str)> = rows
            .iter()
            .map(|(health, resource)| (sort_key(health, resource), *health, resource.as_str()))
            .collect();
        selected.sort();
        let mut limit = 1000;
        let mut offset = 0;
        let mut with_key = false;
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match (name.as_ref(), value.as_ref()) {
                ("select", columns) => with_key = columns.split(',').any(|c| c == "sort_key"),
                ("order", order) => assert_eq!(order, "sort_key"),
                ("health", wanted) => {
                    let list = wanted
                        .strip_prefix("in.(")
                        .unwrap()
                        .strip_suffix(')')
                        .unwrap();
                    let list: Vec<&str> = list.split(',').collect();
                    selected.retain(|(_, health, _)| list.contains(health));
                }
                ("resource", wanted) => {
                    let name = wanted.strip_prefix("eq.").unwrap();
                    selected.retain(|(_, _, resource)| *resource == name);
                }
                ("sort_key", after) => {
                    let key = after.strip_prefix("gt.").unwrap();
                    selected.retain(|(row_key, _, _)| row_key.as_str() > key);
                }
                ("limit", n) => limit = n.parse::<usize>().unwrap().min(1000),
                ("offset", n) => offset = n.parse().unwrap(),
                (other, _) => panic!("PostgREST got an unexpected parameter {other}"),
            }
        }
        let page: Vec<Value> = selected
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(key, health, resource)| {
                let mut row = json!({ "resource": resource, "health": health });
                if with_key {
                    row["sort_key"] = json!(key);
                }
                row
            })
            .collect();
        reply_json(200, &json!(page))
    }
}

fn writer() -> String {
    format!("Bearer {WRITER}")
}

fn resources(answer: &Value) -> Vec<String> {
    answer["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["resource"].as_str().unwrap().to_owned())
        .collect()
}

/// Every resource of `rows` that `keep` keeps, in the view's order.
fn expected(rows: &[(&'static str, String)], keep: impl Fn(&str) -> bool) -> Vec<String> {
    let mut keys: Vec<(String, String)> = rows
        .iter()
        .filter(|(health, _)| keep(health))
        .map(|(health, resource)| (sort_key(health, resource), resource.clone()))
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, resource)| resource).collect()
}

#[test]
fn without_parameters_the_answer_is_every_row_as_before() {
    let edge = TestEdge::new(health_view(dataset()));
    let answer = edge.get("health", Some(&writer()));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(resources(&body), expected(&dataset(), |_| true));
    assert_eq!(
        body["summary"],
        json!({"red": 7, "yellow": 14, "green": 26})
    );
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["resources", "summary"],
        "no new member for old callers"
    );
    let sent = edge.sent();
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].uri.contains("sort_key,") && !sent[0].uri.contains(",sort_key"));
}

#[test]
fn filters_are_postgrests_not_applied_after_reading() {
    let edge = TestEdge::new(health_view(dataset()));
    let answer = edge.get("health?health=yellow,red", Some(&writer()));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(
        resources(&body),
        expected(&dataset(), |h| h == "red" || h == "yellow")
    );
    assert_eq!(body["summary"], json!({"red": 7, "yellow": 14, "green": 0}));
    assert!(body.get("next_cursor").is_none(), "not paged: {body}");
    assert!(edge.sent()[0].uri.contains("&health=in.(red,yellow)"));

    let one = edge.get("health?resource=resource_05", Some(&writer()));
    assert_eq!(resources(&one.json()), ["resource_05"]);
    assert!(edge.sent()[1].uri.contains("&resource=eq.resource_05"));
    let none = edge.get("health?resource=nothing_here&health=red", Some(&writer()));
    assert_eq!(none.status, 200);
    assert_eq!(none.json()["resources"], json!([]));
}

#[test]
fn cursors_walk_every_row_exactly_once_in_order() {
    for (filter, keep) in [
        ("", (|_: &str| true) as fn(&str) -> bool),
        ("&health=green", |h: &str| h == "green"),
    ] {
        for limit in [1, 4, 7, 47, 1000] {
            let edge = TestEdge::new(health_view(dataset()));
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            let mut pages = 0;
            loop {
                let after = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
                let answer = edge.get(
                    &format!("health?limit={limit}{filter}{after}"),
                    Some(&writer()),
                );
                assert_eq!(answer.status, 200, "{}", answer.body);
                let body = answer.json();
                let page = resources(&body);
                assert!(page.len() <= limit, "{limit}: {} rows", page.len());
                for row in body["resources"].as_array().unwrap() {
                    assert!(row.get("sort_key").is_none(), "{row}");
                }
                seen.extend(page);
                pages += 1;
                match &body["next_cursor"] {
                    Value::String(next) => cursor = Some(next.clone()),
                    Value::Null => break,
                    other => panic!("next_cursor is {other}"),
                }
                assert!(pages < 100, "no end");
            }
            let all = expected(&dataset(), keep);
            assert_eq!(seen, all, "limit {limit}{filter}");
            // One more row than asked is read, so a last full page needs no empty page after.
            assert_eq!(
                pages,
                all.len().div_ceil(limit).max(1),
                "limit {limit}{filter}"
            );
            assert_eq!(edge.calls(), pages);
        }
    }
}

#[test]
fn a_full_page_at_postgrests_cap_still_hands_back_a_cursor() {
    let rows: Vec<(&'static str, String)> =
        (0..1500).map(|n| ("green", format!("r{n:04}"))).collect();
    let edge = TestEdge::new(health_view(rows));
    let first = edge.get("health?limit=1000", Some(&writer())).json();
    assert_eq!(resources(&first).len(), 1000);
    let next = first["next_cursor"].as_str().unwrap().to_owned();
    let second = edge
        .get(&format!("health?limit=1000&cursor={next}"), Some(&writer()))
        .json();
    assert_eq!(resources(&second).len(), 500);
    assert_eq!(resources(&second)[0], "r1000");
    assert_eq!(second["next_cursor"], Value::Null);
    // A cursor without a limit: every row after it, page by page.
    let rest = edge
        .get(&format!("health?cursor={next}"), Some(&writer()))
        .json();
    assert_eq!(resources(&rest).len(), 500);
    assert_eq!(rest["next_cursor"], Value::Null);
}

#[test]
fn bad_parameters_are_400_before_any_upstream_call() {
    let edge = TestEdge::new(health_view(dataset()));
    for (query, words) in [
        (
            "health=blue",
            "\"health\" must be a comma-separated list of red, yellow and green",
        ),
        ("health=red&health=green", "\"health\" is given twice"),
        (
            "resource=Not%20a%20name",
            "\"resource\" must be a resource's name",
        ),
        (
            "limit=0",
            "\"limit\" must be a whole number from 1 to 1000 (got \"0\")",
        ),
        ("limit=5000", "(got \"5000\")"),
        ("limit=abc", "(got \"abc\")"),
        (
            "cursor=not-a-cursor",
            "\"cursor\" is not one this function handed out",
        ),
        (
            "select=*",
            "unknown parameter \"select\"; GET health takes health, resource, limit, cursor",
        ),
    ] {
        let answer = edge.get(&format!("health?{query}"), Some(&writer()));
        assert_eq!(
            (answer.status, answer.code()),
            (400, "invalid_request".to_owned()),
            "{query}: {}",
            answer.body
        );
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains(words),
            "{query}: {message:?} lacks {words:?}"
        );
        // Credentials still come first.
        let anonymous = edge.get(&format!("health?{query}"), None);
        assert_eq!(anonymous.status, 401, "{query}");
    }
    assert_eq!(edge.calls(), 0, "nothing reached PostgREST");
}
