//! PagerDuty's Events API v2, as the receiver plays it: the checks of an alert event from
//! PagerDuty's public "Send an Alert Event" page
//! (<https://developer.pagerduty.com/docs/events-api-v2/trigger-events/>, source
//! `PagerDuty/developer-docs` `docs/events-API-v2/02-Trigger-Events.md`) and the answers of its
//! overview page (`01-Overview.md`: 202 accepted, 400 invalid, 429 and 5xx to retry).
//!
//! Required: `routing_key` (the 32-character Integration Key), `event_action` (`trigger`,
//! `acknowledge`, `resolve`); `dedup_key` at most 255 characters (required here for acknowledge
//! and resolve: without it they would reach no alert). A trigger needs `payload` with `summary`
//! (at most 1024 characters), `source` and `severity` (`critical`, `error`, `warning`, `info`);
//! `timestamp` (ISO 8601), `component`, `group`, `class` are strings and `custom_details` an
//! object when present; `links` items have an `href`, `images` items a `src`.

use serde_json::{Value, json};

/// What is wrong with `body` as an alert event; empty when PagerDuty would take it.
pub fn problems(body: &[u8]) -> Vec<String> {
    let Ok(Value::Object(event)) = serde_json::from_slice::<Value>(body) else {
        return vec!["the body is not a JSON object".to_owned()];
    };
    let mut problems = Vec::new();
    let text = |name: &str| event.get(name).and_then(Value::as_str);
    match text("routing_key") {
        None => problems.push("'routing_key' is missing or not a string".to_owned()),
        Some(key) if key.chars().count() != 32 => problems
            .push("Length of 'routing_key' is incorrect (should be 32 characters)".to_owned()),
        Some(_) => {}
    }
    let action = text("event_action");
    if !matches!(action, Some("trigger" | "acknowledge" | "resolve")) {
        problems.push(
            "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)".to_owned(),
        );
    }
    match event.get("dedup_key") {
        None if action.is_some_and(|a| a != "trigger") => {
            problems.push("'dedup_key' is required for acknowledge and resolve".to_owned());
        }
        None => {}
        Some(Value::String(key)) if key.chars().count() <= 255 => {}
        Some(_) => {
            problems.push("'dedup_key' must be a string of at most 255 characters".to_owned());
        }
    }
    if action == Some("trigger") {
        match event.get("payload") {
            Some(Value::Object(payload)) => payload_problems(payload, &mut problems),
            _ => problems.push("'payload' is missing or not an object".to_owned()),
        }
    }
    for (list, required) in [("links", "href"), ("images", "src")] {
        match event.get(list) {
            None => {}
            Some(Value::Array(items))
                if items
                    .iter()
                    .all(|item| item.get(required).is_some_and(Value::is_string)) => {}
            Some(_) => problems.push(format!(
                "'{list}' must be a list of objects with a string '{required}'"
            )),
        }
    }
    problems
}

fn payload_problems(payload: &serde_json::Map<String, Value>, problems: &mut Vec<String>) {
    let text = |name: &str| payload.get(name).and_then(Value::as_str);
    match text("summary") {
        Some(summary) if !summary.is_empty() && summary.chars().count() <= 1024 => {}
        _ => problems.push("'payload.summary' must be 1 to 1024 characters".to_owned()),
    }
    if text("source").is_none_or(str::is_empty) {
        problems.push("'payload.source' is missing".to_owned());
    }
    if !matches!(
        text("severity"),
        Some("critical" | "error" | "warning" | "info")
    ) {
        problems.push(
            "'payload.severity' is invalid (must be one of: critical, error, warning, info)"
                .to_owned(),
        );
    }
    for name in ["timestamp", "component", "group", "class"] {
        if payload.get(name).is_some_and(|v| !v.is_string()) {
            problems.push(format!("'payload.{name}' must be a string"));
        }
    }
    if text("timestamp").is_some_and(|t| !looks_like_iso_8601(t)) {
        problems.push("'payload.timestamp' is not an ISO 8601 time".to_owned());
    }
    if payload
        .get("custom_details")
        .is_some_and(|v| !v.is_object())
    {
        problems.push("'payload.custom_details' must be an object".to_owned());
    }
}

/// `2026-12-02T09:00:00…`: a date, `T`, a time (what PostgreSQL's JSON and PagerDuty's
/// examples both write).
fn looks_like_iso_8601(time: &str) -> bool {
    let b = time.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
}

/// PagerDuty's answer to an event it took: `202` and this body.
pub fn accepted(body: &[u8]) -> Value {
    let dedup_key = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|event| event.get("dedup_key").cloned())
        .unwrap_or(Value::Null);
    json!({ "status": "success", "message": "Event processed", "dedup_key": dedup_key })
}

/// PagerDuty's answer to an invalid event: `400` and this body.
pub fn invalid(problems: &[String]) -> Value {
    json!({ "status": "invalid event", "message": "Event object is invalid", "errors": problems })
}

/// PagerDuty's answer when it asks for a retry (429, 5xx).
pub fn try_later(status: u16) -> Value {
    let message = if status == 429 {
        "Too many requests"
    } else {
        "Internal server error"
    };
    json!({ "status": "unavailable", "message": message })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";

    fn check(event: &Value, expected: &[&str]) {
        let got = problems(event.to_string().as_bytes());
        assert_eq!(got, expected, "{event}");
    }

    #[test]
    fn pagerdutys_own_examples_pass() {
        check(
            &json!({ "routing_key": KEY, "dedup_key": "d", "event_action": "trigger",
                     "payload": { "summary": "Example alert on host1.example.com",
                                  "timestamp": "2015-07-17T08:42:58.315+0000",
                                  "source": "monitoringtool:cloudvendor:central-region-dc-01",
                                  "severity": "info", "component": "postgres",
                                  "group": "prod-datapipe", "class": "deploy",
                                  "custom_details": { "ping time": "1500ms" } },
                     "links": [{ "href": "https://example.com/", "text": "Link text" }],
                     "client": "Sample Monitoring Service",
                     "client_url": "https://monitoring.example.com" }),
            &[],
        );
        check(
            &json!({ "routing_key": KEY, "dedup_key": "d", "event_action": "resolve" }),
            &[],
        );
    }

    #[test]
    fn what_pagerduty_refuses_is_named() {
        check(
            &json!({ "routing_key": "short", "event_action": "trigger",
                     "payload": { "summary": "x", "source": "s", "severity": "urgent" } }),
            &[
                "Length of 'routing_key' is incorrect (should be 32 characters)",
                "'payload.severity' is invalid (must be one of: critical, error, warning, info)",
            ],
        );
        check(
            &json!({ "routing_key": KEY, "event_action": "open", "dedup_key": "k".repeat(256) }),
            &[
                "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)",
                "'dedup_key' must be a string of at most 255 characters",
            ],
        );
        check(
            &json!({ "routing_key": KEY, "event_action": "trigger" }),
            &["'payload' is missing or not an object"],
        );
        check(
            &json!({ "routing_key": KEY, "event_action": "resolve" }),
            &["'dedup_key' is required for acknowledge and resolve"],
        );
        check(
            &json!({ "routing_key": KEY, "event_action": "trigger",
                     "payload": { "summary": "s".repeat(1025), "source": "s", "severity": "info",
                                  "timestamp": "yesterday", "custom_details": "text" } }),
            &[
                "'payload.summary' must be 1 to 1024 characters",
                "'payload.timestamp' is not an ISO 8601 time",
                "'payload.custom_details' must be an object",
            ],
        );
    }
}
