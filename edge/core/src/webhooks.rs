//! Webhook delivery from the database's outbox (migration `20261125040000`): claim the due
//! deliveries, sign each body and POST it to its subscriber, record every outcome.
//!
//! Deliveries run after the ETL call has been answered (started, through the adapter's
//! runtime, when PostgREST's answer carried
//! [`PENDING_HEADER`](crate::postgrest::PENDING_HEADER)) or inside `POST sweep` (a cron): a
//! slow or dead receiver never delays an ETL route. The outbox makes them at-least-once and
//! never twice for one transition; `Vantage-Delivery` lets a receiver drop the rare repeat (a
//! sender that died between sending and recording).
//!
//! A `pagerduty` subscription's deliveries are PagerDuty Events API v2 alerts instead (see
//! [`crate::pagerduty`]): not signed, the routing key in the body.
//!
//! Signature, Stripe-style: `Vantage-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "<t>.<body>" keyed with the subscription's secret>`. A receiver recomputes it over the raw
//! body, compares in constant time and refuses a `t` more than 5 minutes from its clock.

use std::fmt::Write as _;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::header::{CONTENT_TYPE, USER_AGENT};
use http::{Method, Request};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::clock::Clock;
use crate::config::Config;
pub use crate::delivery::{Delivery, Kind};
use crate::delivery::{first_error, what_happened};
use crate::error::EdgeError;
use crate::log::Trace;
use crate::pagerduty;
use crate::postgrest::{Action, Postgrest, Verb, first_row};
use crate::receivers::url_problem;
use crate::upstream::{Upstream, UpstreamErrorKind};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "vantage-signature";
/// The event header (`failed`, `stuck`, `repeated_failures`, `recovered`, `stale`, and for
/// the subscriptions that pick them `completed`, `slow`, `late`).
pub const EVENT_HEADER: &str = "vantage-event";
/// The delivery id header (the same on every retry of one delivery).
pub const DELIVERY_HEADER: &str = "vantage-delivery";
/// How far a receiver should let `t` stray from its clock.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Deliveries claimed per round, and rounds per run: a backlog is worked off by later runs
/// (the sweep's cron), not by one request that never ends.
const CLAIM_LIMIT: u32 = 20;
const MAX_ROUNDS: u32 = 5;

/// What one delivery run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    /// Deliveries claimed.
    pub claimed: u32,
    /// Answered 2xx.
    pub delivered: u32,
    /// Not delivered this time, to be retried.
    pub retrying: u32,
    /// Not delivered, and no retry left.
    pub gave_up: u32,
}

/// `t=<timestamp>,v1=<hex>`: the HMAC-SHA256 of `"<timestamp>.<body>"` keyed with `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // An HMAC takes a key of any length: new_from_slice cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The body sent for `delivery`: the database's payload plus the delivery's id and attempt,
/// the dashboard link and a Slack-compatible `text`.
pub fn body(delivery: &Delivery, dashboard_url: Option<&str>) -> Value {
    let mut body = match &delivery.payload {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    body.insert("delivery_id".into(), json!(delivery.delivery_id));
    body.insert("attempt".into(), json!(delivery.attempt));
    let link = dashboard_url.map(|url| format!("{url}#resource={}", delivery.resource));
    body.insert("dashboard_url".into(), json!(link));
    body.insert("text".into(), json!(slack_text(delivery, link.as_deref())));
    Value::Object(body)
}

/// One line a person reads in Slack: what happened, the first error, where to look.
fn slack_text(delivery: &Delivery, link: Option<&str>) -> String {
    let (emoji, sentence) = what_happened(delivery);
    let mut text = if emoji.is_empty() {
        sentence
    } else {
        format!("{emoji} {sentence}")
    };
    if let Some(error) = first_error(&delivery.payload) {
        let _ = write!(text, ": {}", slack_escaped(&error));
    }
    if let Some(link) = link {
        let _ = write!(text, " <{link}|open the dashboard>");
    }
    text
}

/// `text` with Slack's control characters escaped (`&`, `<`, `>`), so an ETL job's error
/// message cannot ping `<!channel>` or add a link of its own.
fn slack_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Claims due deliveries (of `resource` only, when given: the follow-up to one transition
/// leaves the rest to the sweep), sends them, records each outcome; rounds until none is due
/// (or [`MAX_ROUNDS`]).
pub(crate) async fn deliver_due<U: Upstream, C: Clock>(
    pg: &Postgrest<'_, U>,
    upstream: &U,
    clock: &C,
    config: &Config,
    resource: Option<&str>,
    trace: &mut Trace,
) -> Result<DeliveryReport, EdgeError> {
    let action = Action {
        verb: Verb::DeliverWebhooks,
        resource: "",
        run_id: None,
    };
    let mut report = DeliveryReport::default();
    for _ in 0..MAX_ROUNDS {
        let raw = pg
            .call(
                "claim_vantage_sync_deliveries",
                &json!({ "p_limit": CLAIM_LIMIT, "p_resource": resource }),
                &action,
                trace,
            )
            .await?;
        let claimed: Vec<Delivery> = serde_json::from_slice(&raw)
            .map_err(|_| EdgeError::internal("claim_vantage_sync_deliveries answered no list"))?;
        let count = u32::try_from(claimed.len()).unwrap_or(u32::MAX);
        report.claimed += count;
        let outcomes = futures_util::future::join_all(
            claimed
                .iter()
                .map(|delivery| send_one(delivery, upstream, clock, config)),
        )
        .await;
        for (delivery, outcome) in claimed.iter().zip(outcomes) {
            let status = match record(pg, delivery, &outcome, trace).await {
                Ok(status) => status,
                // Its subscription was deleted while it was being sent, and the delivery with
                // it: nothing is left to record, and the other deliveries go on.
                Err(EdgeError::UnknownResource { .. }) => continue,
                Err(e) => return Err(e),
            };
            match status.as_str() {
                "delivered" => report.delivered += 1,
                "gave_up" => report.gave_up += 1,
                _ => report.retrying += 1,
            }
        }
        if count < CLAIM_LIMIT {
            break;
        }
    }
    Ok(report)
}

/// How one attempt ended.
struct Outcome {
    status: Option<u16>,
    error: Option<String>,
    duration_ms: u64,
}

async fn send_one<U: Upstream, C: Clock>(
    delivery: &Delivery,
    upstream: &U,
    clock: &C,
    config: &Config,
) -> Outcome {
    let started = clock.now_unix_ms();
    let refused = |error: String| Outcome {
        status: None,
        error: Some(error),
        duration_ms: 0,
    };
    if let Some(problem) = url_problem(&delivery.url, config.webhooks_allow_private) {
        return refused(format!("not sent: the URL {problem}"));
    }
    let dashboard_url = config.dashboard_url.as_deref();
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(&delivery.url)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, "vantage-sync-webhooks/1");
    let body = match delivery.kind {
        Kind::Webhook => {
            let body = Bytes::from(body(delivery, dashboard_url).to_string());
            // Whole seconds since the epoch; the clock gives milliseconds as f64.
            #[allow(clippy::cast_possible_truncation)]
            let timestamp = (started / 1000.0).floor() as i64;
            request = request
                .header(EVENT_HEADER, &delivery.event)
                .header(DELIVERY_HEADER, &delivery.delivery_id)
                .header(
                    SIGNATURE_HEADER,
                    signature(&delivery.secret, timestamp, &body),
                );
            body
        }
        Kind::Pagerduty => Bytes::from(pagerduty::event(delivery, dashboard_url).to_string()),
    };
    let request = request.body(body);
    let Ok(request) = request else {
        return refused("not sent: the URL or a header is not valid HTTP".into());
    };
    let answer = upstream.send_to_receiver(request).await;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let duration_ms = (clock.now_unix_ms() - started).max(0.0) as u64;
    match answer {
        Ok(response) => {
            let status = response.status().as_u16();
            let error = (!response.status().is_success()).then(|| match delivery.kind {
                Kind::Webhook => format!("the receiver answered {status}"),
                Kind::Pagerduty => pagerduty::reason(status, response.body(), &delivery.secret),
            });
            Outcome {
                status: Some(status),
                error,
                duration_ms,
            }
        }
        Err(e) if e.kind == UpstreamErrorKind::NotPublic => {
            refused(format!("not sent: {}", e.message))
        }
        Err(e) => Outcome {
            status: None,
            error: Some(format!("no answer: {:?}", e.kind)),
            duration_ms,
        },
    }
}

async fn record<U: Upstream>(
    pg: &Postgrest<'_, U>,
    delivery: &Delivery,
    outcome: &Outcome,
    trace: &mut Trace,
) -> Result<String, EdgeError> {
    let action = Action {
        verb: Verb::RecordDelivery,
        resource: &delivery.resource,
        run_id: None,
    };
    let raw = pg
        .call(
            "record_vantage_sync_delivery",
            &json!({
                "p_delivery_id": delivery.delivery_id,
                "p_response_code": outcome.status,
                "p_error": outcome.error,
                "p_duration_ms": outcome.duration_ms,
            }),
            &action,
            trace,
        )
        .await?;
    Ok(first_row(&raw)
        .and_then(|row| row.get("status").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "pending".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            signature("secret", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }

    #[test]
    fn error_text_cannot_ping_or_link_in_slack() {
        let delivery = Delivery {
            delivery_id: "d1".into(),
            url: "https://example.com".into(),
            secret: "s".into(),
            event: "failed".into(),
            resource: "funds".into(),
            payload: json!({ "errors": [{ "code": "E", "message": "<!channel> <https://x.example|click> & more" }] }),
            attempt: 1,
            kind: Kind::Webhook,
        };
        assert_eq!(
            slack_text(&delivery, None),
            ":red_circle: funds sync failed: E &lt;!channel&gt; &lt;https://x.example|click&gt; &amp; more"
        );
    }

    fn delivery_of(event: &str, payload: Value) -> Delivery {
        Delivery {
            delivery_id: "d1".into(),
            url: "https://example.com".into(),
            secret: "s".into(),
            event: event.into(),
            resource: "funds".into(),
            payload,
            attempt: 1,
            kind: Kind::Webhook,
        }
    }

    #[test]
    fn completed_slow_and_late_read_as_sentences() {
        let cases = [
            (
                delivery_of(
                    "completed",
                    json!({ "records_synced": 150, "duration_ms": 3250 }),
                ),
                ":white_check_mark: funds synced 150 records in 3.2 s",
            ),
            (
                delivery_of(
                    "completed",
                    json!({ "records_synced": null, "counts_reported": false, "duration_ms": 3250 }),
                ),
                ":white_check_mark: funds synced (no record counts reported) in 3.2 s",
            ),
            (
                delivery_of(
                    "slow",
                    json!({ "duration_ms": 432_000, "slow_after": "00:05:00",
                            "errors": [] }),
                ),
                ":snail: funds sync was slow: it took 7 min 12 s (slow after 00:05:00)",
            ),
            (
                delivery_of("slow", json!({ "duration_ms": 7_500_000 })),
                ":snail: funds sync was slow: it took 2 h 5 min",
            ),
            (
                delivery_of(
                    "late",
                    json!({ "next_sync_due_at": "2026-12-02T09:00:00+00:00" }),
                ),
                ":alarm_clock: funds is late: its next sync was due at 2026-12-02T09:00:00+00:00",
            ),
            (
                delivery_of("late", json!({})),
                ":alarm_clock: funds is late",
            ),
        ];
        for (delivery, text) in cases {
            assert_eq!(slack_text(&delivery, None), text);
        }
    }

    #[test]
    fn the_body_carries_the_payload_a_link_and_slack_text() {
        let delivery = Delivery {
            delivery_id: "d1".into(),
            url: "https://example.com".into(),
            secret: "s".into(),
            event: "repeated_failures".into(),
            resource: "funds".into(),
            payload: json!({ "event": "repeated_failures", "resource": "funds", "health": "red",
                             "consecutive_failures": 3,
                             "errors": [{ "code": "E3", "message": "third" }] }),
            attempt: 2,
            kind: Kind::Webhook,
        };
        let body = body(&delivery, Some("https://app.example.com/sync"));
        assert_eq!(body["health"], "red");
        assert_eq!(body["delivery_id"], "d1");
        assert_eq!(body["attempt"], 2);
        assert_eq!(
            body["dashboard_url"],
            "https://app.example.com/sync#resource=funds"
        );
        assert_eq!(
            body["text"],
            ":rotating_light: funds has failed 3 times in a row: E3 third <https://app.example.com/sync#resource=funds|open the dashboard>"
        );
    }
}
