//! One claimed delivery of the webhook outbox, and what it says in words: the data both kinds
//! of receiver are sent from (`webhooks` signs and POSTs it, `pagerduty` turns it into an
//! Events API v2 alert).

use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::Value;

/// One claimed delivery, as `claim_vantage_sync_deliveries` returns it. Its `Debug` leaves the
/// secret out.
#[derive(Clone, Deserialize)]
pub struct Delivery {
    /// Its id (sent as `Vantage-Delivery`).
    pub delivery_id: String,
    /// The subscriber.
    pub url: String,
    /// The subscription's signing secret, or PagerDuty's routing key. Never logged.
    pub secret: String,
    /// The event.
    pub event: String,
    /// The resource.
    pub resource: String,
    /// What the database recorded at the transition.
    pub payload: Value,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// What the subscriber is (a database older than `20261202150000` says nothing: webhook).
    #[serde(default)]
    pub kind: Kind,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("delivery_id", &self.delivery_id)
            .field("url", &self.url)
            .field("secret", &"[hidden]")
            .field("event", &self.event)
            .field("resource", &self.resource)
            .field("attempt", &self.attempt)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// What a subscription's receiver is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Any endpoint: a signed POST of the payload (`webhooks`).
    #[default]
    Webhook,
    /// PagerDuty's Events API v2 (`pagerduty`).
    Pagerduty,
}

/// What happened, as a sentence about the resource, and the Slack emoji that goes before it.
pub fn what_happened(delivery: &Delivery) -> (&'static str, String) {
    let resource = &delivery.resource;
    let payload = &delivery.payload;
    let failures = payload
        .get("consecutive_failures")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    match delivery.event.as_str() {
        "failed" => (":red_circle:", format!("{resource} sync failed")),
        "stuck" => (
            ":hourglass:",
            format!("{resource} sync was stuck and has been failed"),
        ),
        "repeated_failures" => (
            ":rotating_light:",
            format!("{resource} has failed {failures} times in a row"),
        ),
        "recovered" => (
            ":large_green_circle:",
            format!("{resource} synced again after failing"),
        ),
        "stale" => (
            ":warning:",
            format!("{resource} has not synced successfully for too long"),
        ),
        "completed" => {
            // null: the job completed without counts (migration 20261208090000); no 0 is made up.
            let mut said = match payload.get("records_synced").and_then(Value::as_u64) {
                Some(records) => format!("{resource} synced {records} records"),
                None => format!("{resource} synced (no record counts reported)"),
            };
            if let Some(took) = took(payload) {
                let _ = write!(said, " in {took}");
            }
            (":white_check_mark:", said)
        }
        "slow" => {
            let mut said = format!("{resource} sync was slow");
            if let Some(took) = took(payload) {
                let _ = write!(said, ": it took {took}");
            }
            if let Some(limit) = payload.get("slow_after").and_then(Value::as_str) {
                let _ = write!(said, " (slow after {limit})");
            }
            (":snail:", said)
        }
        "late" => {
            let mut said = format!("{resource} is late");
            if let Some(due) = payload.get("next_sync_due_at").and_then(Value::as_str) {
                let _ = write!(said, ": its next sync was due at {due}");
            }
            (":alarm_clock:", said)
        }
        other => ("", format!("{resource}: {other}")),
    }
}

/// The run's first error as `CODE message`, at most 200 characters; `None` without one.
pub fn first_error(payload: &Value) -> Option<String> {
    let error = payload.get("errors").and_then(|errors| errors.get(0))?;
    let field = |name: &str| error.get(name).and_then(Value::as_str).unwrap_or("");
    let said = format!("{} {}", field("code"), field("message"));
    let said = said.trim();
    (!said.is_empty()).then(|| said.chars().take(200).collect())
}

/// How long the run took, from the payload's `duration_ms`: `3.2 s`, `7 min 12 s`, `2 h 5 min`.
fn took(payload: &Value) -> Option<String> {
    let ms = payload.get("duration_ms").and_then(Value::as_u64)?;
    let seconds = ms / 1000;
    Some(if seconds < 60 {
        format!("{}.{} s", seconds, ms % 1000 / 100)
    } else if seconds < 3600 {
        format!("{} min {} s", seconds / 60, seconds % 60)
    } else {
        format!("{} h {} min", seconds / 3600, seconds % 3600 / 60)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn debug_hides_the_secret() {
        let delivery = Delivery {
            delivery_id: "d1".into(),
            url: "https://example.com".into(),
            secret: "the-signing-secret".into(),
            event: "failed".into(),
            resource: "funds".into(),
            payload: json!({}),
            attempt: 1,
            kind: Kind::Webhook,
        };
        let shown = format!("{delivery:?}");
        assert!(
            shown.contains("[hidden]") && !shown.contains("the-signing-secret"),
            "{shown}"
        );
    }
}
