//! A row as PostgREST returns it, from the `vantage_sync_health` view or, on a database with
//! only the spec's migration, from the `vantage_sync_state` table.
//!
//! Columns the table lacks (health, alerts, thresholds, `consecutive_failures`) are optional;
//! the card fills them in with the model's rules.

use std::fmt::{self, Write as _};

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::health::Status;
use super::time::Timestamp;

/// One resource's sync state.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SyncRow {
    /// The resource's name (`accounts`).
    pub resource: String,
    /// `last_sync_status`.
    #[serde(rename = "last_sync_status")]
    pub status: Status,
    /// The last successful sync's watermark.
    pub last_sync_time: Option<Timestamp>,
    /// When the current or last run started.
    pub started_at: Option<Timestamp>,
    /// When the last run finished.
    pub completed_at: Option<Timestamp>,
    /// When the row was created.
    pub created_at: Option<Timestamp>,
    /// How long the last finished run took.
    pub duration_ms: Option<i64>,
    /// Records the last successful run synced.
    pub records_synced: Option<i64>,
    /// The last failure's errors (empty after a success).
    #[serde(default)]
    pub errors: Option<Vec<SyncError>>,
    /// Failures in a row (state machine migration).
    pub consecutive_failures: Option<i64>,
    /// `red`, `yellow`, `green` (view only).
    pub health: Option<super::health::Health>,
    /// Alert names (view only).
    pub alerts: Option<Vec<String>>,
    /// Effective thresholds as PostgreSQL interval text (view only).
    pub stale_after: Option<String>,
    /// See `stale_after`.
    pub stuck_after: Option<String>,
    /// See `stale_after`.
    pub slow_after: Option<String>,
    /// See `stale_after`; `None` without a schedule.
    pub expected_interval: Option<String>,
    /// The attempt the next start will be (view only, retry policy migration).
    pub next_attempt: Option<i64>,
    /// The retry policy's limit of attempts; `None` without a policy (view only).
    pub retry_max_attempts: Option<i64>,
    /// When the retry policy allows the next attempt after a failure.
    pub next_attempt_at: Option<Timestamp>,
    /// Whether the retry policy gave up (view only).
    pub retries_exhausted: Option<bool>,
}

/// One entry of a failed run's `errors`: its code and message, and any other fields as text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SyncError {
    /// `code`, such as `API_TIMEOUT`.
    pub code: Option<String>,
    /// `message`, as the ETL job wrote it.
    pub message: Option<String>,
    /// Every other field, in the order received, its value as compact text.
    pub details: Vec<(String, String)>,
}

impl<'de> Deserialize<'de> for SyncError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ErrorVisitor;
        impl<'de> Visitor<'de> for ErrorVisitor {
            type Value = SyncError;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an error object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SyncError, A::Error> {
                let mut error = SyncError::default();
                while let Some(key) = map.next_key::<String>()? {
                    let JsonText(value) = map.next_value()?;
                    match key.as_str() {
                        "code" => error.code = Some(value),
                        "message" => error.message = Some(value),
                        _ => error.details.push((key, value)),
                    }
                }
                Ok(error)
            }
            // The spec's table only checks that `errors` is an array: keep anything else as
            // the message rather than failing the whole list.
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SyncError, E> {
                Ok(SyncError {
                    message: Some(v.to_owned()),
                    ..SyncError::default()
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<SyncError, A::Error> {
                let text = JsonTextVisitor.visit_seq(seq)?;
                Ok(SyncError {
                    message: Some(text.0),
                    ..SyncError::default()
                })
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<SyncError, E> {
                self.visit_str(if v { "true" } else { "false" })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SyncError, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SyncError, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<SyncError, E> {
                self.visit_str(&number_text(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<SyncError, E> {
                Ok(SyncError::default())
            }
        }
        deserializer.deserialize_any(ErrorVisitor)
    }
}

/// Any JSON value as compact, JSON-like text, for showing (never interpreting) error fields.
struct JsonText(String);

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonTextVisitor)
    }
}

struct JsonTextVisitor;

impl<'de> Visitor<'de> for JsonTextVisitor {
    type Value = JsonText;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<JsonText, E> {
        Ok(JsonText(if v { "true" } else { "false" }.to_owned()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonText, E> {
        Ok(JsonText(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonText, E> {
        Ok(JsonText(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonText, E> {
        Ok(JsonText(number_text(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonText, E> {
        Ok(JsonText(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<JsonText, E> {
        Ok(JsonText(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<JsonText, E> {
        Ok(JsonText("null".to_owned()))
    }
    fn visit_none<E: de::Error>(self) -> Result<JsonText, E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<JsonText, D::Error> {
        JsonText::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonText, A::Error> {
        let mut out = String::from("[");
        while let Some(JsonText(item)) = seq.next_element()? {
            if out.len() > 1 {
                out.push_str(", ");
            }
            out.push_str(&item);
        }
        out.push(']');
        Ok(JsonText(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonText, A::Error> {
        let mut out = String::from("{");
        while let Some(key) = map.next_key::<String>()? {
            let JsonText(value) = map.next_value()?;
            if out.len() > 1 {
                out.push_str(", ");
            }
            let _ = write!(out, "{key}: {value}");
        }
        out.push('}');
        Ok(JsonText(out))
    }
}

/// A JSON number as text without Rust's float formatter (which costs kilobytes of wasm):
/// whole numbers exactly, others to six decimals with trailing zeros dropped.
fn number_text(v: f64) -> String {
    if !v.is_finite() {
        return "null".to_owned();
    }
    // JSON numbers from error payloads are counts, codes and timings: far inside i64, and six
    // decimals are more than a person reads.
    #[allow(clippy::cast_possible_truncation)]
    let scaled = (v * 1e6).round() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let abs = scaled.unsigned_abs();
    let (whole, fraction) = (abs / 1_000_000, abs % 1_000_000);
    if fraction == 0 {
        format!("{sign}{whole}")
    } else {
        let digits = format!("{fraction:06}");
        format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_written() {
        assert_eq!(number_text(3.0), "3");
        assert_eq!(number_text(-2.5), "-2.5");
        assert_eq!(number_text(0.125), "0.125");
        assert_eq!(number_text(f64::NAN), "null");
    }

    #[test]
    fn a_view_row_and_its_errors_deserialize() {
        let row: SyncRow = serde_json::from_str(
            r#"{"resource":"accounts","last_sync_status":"failed","health":"red",
                "alerts":["repeated_failures"],"last_sync_time":"2025-11-05T09:00:00+00:00",
                "started_at":"2025-11-05T11:54:00.5+00:00","completed_at":null,
                "created_at":"2025-10-06T12:00:00+00:00","duration_ms":60000,"records_synced":0,
                "errors":[{"code":"API_TIMEOUT","message":"timed out","retry":{"after":30,"ok":false}},
                          "plain text", 42],
                "consecutive_failures":3,"stale_after":"1 day","stuck_after":"00:30:00",
                "slow_after":"00:05:00","expected_interval":null,"health_rank":1,"sort_key":"1:accounts"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(row.status, Status::Failed);
        assert_eq!(row.alerts, Some(vec!["repeated_failures".to_owned()]));
        let errors = row.errors.unwrap_or_default();
        assert_eq!(errors.len(), 3);
        assert_eq!(errors[0].code.as_deref(), Some("API_TIMEOUT"));
        assert_eq!(
            errors[0].details,
            vec![("retry".to_owned(), "{after: 30, ok: false}".to_owned())]
        );
        assert_eq!(errors[1].message.as_deref(), Some("plain text"));
        assert_eq!(errors[2].message.as_deref(), Some("42"));
    }

    #[test]
    fn a_spec_only_table_row_deserializes() {
        let row: SyncRow = serde_json::from_str(
            r#"{"resource":"investments","last_sync_status":"never_run","last_sync_time":null,
                "records_synced":0,"records_created":0,"records_updated":0,"errors":[],
                "started_at":null,"completed_at":null,"duration_ms":null,
                "created_at":"2025-11-05T11:00:00+00:00","updated_at":"2025-11-05T11:00:00+00:00"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(row.status, Status::NeverRun);
        assert_eq!(row.health, None);
        assert_eq!(row.consecutive_failures, None);
    }
}
