//! PagerDuty's Events API v2 (migration `20261202150000`): the alert event sent for a delivery
//! of a `pagerduty` subscription, and the reason read from PagerDuty's answer when it is not a
//! 2xx. The schema is PagerDuty's "Send an Alert Event" page
//! (<https://developer.pagerduty.com/docs/events-api-v2/trigger-events/>): `routing_key` (the
//! 32-character Integration Key), `event_action` (`trigger`, `acknowledge`, `resolve`),
//! `dedup_key` (at most 255 characters), and for a trigger a `payload` with `summary` (at most
//! 1024 characters), `source` and `severity` (`critical`, `error`, `warning`, `info`).
//!
//! Every event of a resource has `dedup_key` = the resource, so the triggers of one episode go
//! to one incident and the resolve (the `recovered` delivery) closes it. The routing key is sent
//! in the body only: it never goes into a reason, a log line or an error.

use serde_json::{Map, Value, json};

use crate::delivery::{Delivery, first_error, what_happened};

/// PagerDuty's limit on `payload.summary`, in characters.
pub const MAX_SUMMARY_CHARS: usize = 1024;
/// The longest reason kept from PagerDuty's answer (the database keeps 500 characters).
const MAX_REASON_CHARS: usize = 400;

/// The event sent for `delivery`: a `resolve` for `recovered`, a `trigger` for anything else
/// (the database queues only `failed`, `stuck`, `repeated_failures`, `stale` and `late` besides).
pub fn event(delivery: &Delivery, dashboard_url: Option<&str>) -> Value {
    if delivery.event == "recovered" {
        return json!({
            "routing_key": delivery.secret,
            "event_action": "resolve",
            "dedup_key": delivery.resource,
        });
    }
    let (_, sentence) = what_happened(delivery);
    let summary = match first_error(&delivery.payload) {
        Some(error) => format!("{sentence}: {error}"),
        None => sentence,
    };
    let severity = match delivery.event.as_str() {
        "stale" | "late" => "warning",
        _ => "critical",
    };
    let mut payload = Map::new();
    payload.insert(
        "summary".into(),
        json!(summary.chars().take(MAX_SUMMARY_CHARS).collect::<String>()),
    );
    payload.insert(
        "source".into(),
        json!(format!("vantage-sync/{}", delivery.resource)),
    );
    payload.insert("severity".into(), json!(severity));
    if let Some(at) = delivery.payload.get("occurred_at").and_then(Value::as_str) {
        payload.insert("timestamp".into(), json!(at));
    }
    payload.insert("component".into(), json!(delivery.resource));
    payload.insert("group".into(), json!("vantage-sync"));
    payload.insert("class".into(), json!(delivery.event));
    payload.insert("custom_details".into(), delivery.payload.clone());
    let mut event = json!({
        "routing_key": delivery.secret,
        "event_action": "trigger",
        "dedup_key": delivery.resource,
        "payload": payload,
        "client": "Vantage sync status",
    });
    if let Some(url) = dashboard_url {
        let link = format!("{url}#resource={}", delivery.resource);
        event["client_url"] = json!(link);
        event["links"] = json!([{ "href": link, "text": "Open the sync dashboard" }]);
    }
    event
}

/// Why PagerDuty did not take the event, for the delivery's attempt: its status, and its
/// `message` and `errors` when the answer is its JSON (`{"status":"invalid event","message":
/// "Event object is invalid","errors":["…"]}`), at most [`MAX_REASON_CHARS`] characters, with
/// `routing_key` blanked out should PagerDuty ever quote it.
pub fn reason(status: u16, body: &[u8], routing_key: &str) -> String {
    let mut reason = format!("PagerDuty answered {status}");
    let answer: Value = serde_json::from_slice(body).unwrap_or_default();
    if let Some(message) = answer.get("message").and_then(Value::as_str) {
        reason.push_str(": ");
        reason.push_str(message);
    }
    let errors: Vec<&str> = answer
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| errors.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !errors.is_empty() {
        reason.push_str(" (");
        reason.push_str(&errors.join("; "));
        reason.push(')');
    }
    if !routing_key.is_empty() {
        reason = reason.replace(routing_key, "[routing key]");
    }
    // Control characters would make the reason hard to read where it is shown.
    reason
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::Kind;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";

    fn delivery(event: &str, payload: Value) -> Delivery {
        Delivery {
            delivery_id: "d1".into(),
            url: "https://events.pagerduty.com/v2/enqueue".into(),
            secret: KEY.into(),
            event: event.into(),
            resource: "funds".into(),
            payload,
            attempt: 1,
            kind: Kind::Pagerduty,
        }
    }

    #[test]
    fn a_failure_triggers_a_critical_alert_keyed_by_the_resource() {
        let payload = json!({ "event": "failed", "occurred_at": "2026-12-02T09:00:00+00:00",
                              "errors": [{ "code": "E1", "message": "the source said no" }] });
        let event = event(
            &delivery("failed", payload.clone()),
            Some("https://app.example.com/sync"),
        );
        assert_eq!(event["routing_key"], KEY);
        assert_eq!(event["event_action"], "trigger");
        assert_eq!(event["dedup_key"], "funds");
        assert_eq!(
            event["payload"]["summary"],
            "funds sync failed: E1 the source said no"
        );
        assert_eq!(event["payload"]["severity"], "critical");
        assert_eq!(event["payload"]["source"], "vantage-sync/funds");
        assert_eq!(event["payload"]["timestamp"], "2026-12-02T09:00:00+00:00");
        assert_eq!(event["payload"]["class"], "failed");
        assert_eq!(event["payload"]["custom_details"], payload);
        assert_eq!(
            event["links"][0]["href"],
            "https://app.example.com/sync#resource=funds"
        );
    }

    #[test]
    fn stale_and_late_are_warnings_and_recovered_resolves() {
        for event_name in ["stale", "late"] {
            let sent = event(&delivery(event_name, json!({})), None);
            assert_eq!(sent["payload"]["severity"], "warning", "{event_name}");
            assert!(sent.get("links").is_none());
        }
        assert_eq!(
            event(&delivery("recovered", json!({ "health": "green" })), None),
            json!({ "routing_key": KEY, "event_action": "resolve", "dedup_key": "funds" })
        );
    }

    #[test]
    fn the_summary_fits_pagerdutys_limit() {
        let long = "x".repeat(5000);
        let sent = event(
            &delivery(
                "failed",
                json!({ "errors": [{ "code": "E", "message": long }] }),
            ),
            None,
        );
        let summary = sent["payload"]["summary"].as_str().unwrap_or_default();
        assert!(summary.chars().count() <= MAX_SUMMARY_CHARS);
    }

    #[test]
    fn the_reason_is_pagerdutys_message_without_the_routing_key() {
        let body = format!(
            r#"{{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)","unknown key {KEY}"]}}"#
        );
        assert_eq!(
            reason(400, body.as_bytes(), KEY),
            "PagerDuty answered 400: Event object is invalid (Length of 'routing_key' is incorrect (should be 32 characters); unknown key [routing key])"
        );
        assert_eq!(
            reason(503, b"<html>down</html>", KEY),
            "PagerDuty answered 503"
        );
        let flood = format!(r#"{{"message":"{}"}}"#, "m".repeat(2000));
        assert_eq!(reason(429, flood.as_bytes(), KEY).chars().count(), 400);
    }
}
