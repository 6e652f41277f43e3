//! Rows from the browser's parsed JSON (`Response.json()`), read field by field.
//!
//! Why not serde here: serde-wasm-bindgen and serde's error messages (which format floats)
//! cost the bundle about 45 KB of wasm before compression; reading a dozen known fields with
//! `Reflect` costs a fraction of that. The model keeps its serde `Deserialize` for native
//! callers and tests; in the bundle it is never instantiated, so it ships nothing.

use js_sys::{Array, JSON, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::model::{
    Counts, Digest, Health, RunSummary, Span, Status, SyncError, SyncRow, Timestamp,
};

/// The rows of a PostgREST answer (a JSON array of objects); `None` if it is not one, or if a
/// row lacks its resource or status or has a timestamp that does not parse.
pub fn rows(value: &JsValue) -> Option<Vec<SyncRow>> {
    value.dyn_ref::<Array>()?.iter().map(|v| row(&v)).collect()
}

/// An answer of `vantage_sync_health_changes`: the database's clock, its digest, the exact
/// counts (asked for with no `p_since`) and the rows that changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changes {
    /// `now()` of the answer's snapshot.
    pub now: Timestamp,
    /// What the reader may read, summed up.
    pub digest: Digest,
    /// The counts per health and of late resources, when asked for.
    pub counts: Option<Counts>,
    /// The rows updated at or after the moment asked for.
    pub rows: Vec<SyncRow>,
}

/// An answer of `vantage_sync_health_changes`; `None` if it is not one.
pub fn changes(value: &JsValue) -> Option<Changes> {
    let count = |value: &JsValue, key| usize::try_from(int(value, key)?).ok();
    let counts = get(value, "counts");
    let counts = if counts.is_object() {
        Some(Counts {
            red: count(&counts, "red")?,
            yellow: count(&counts, "yellow")?,
            green: count(&counts, "green")?,
            late: count(&counts, "late")?,
        })
    } else {
        None
    };
    Some(Changes {
        now: time(value, "now").ok()??,
        digest: Digest {
            total: count(value, "total")?,
            checksum: int(value, "checksum")?,
            schedules: string_field(value, "schedules")?,
        },
        counts,
        rows: rows(&get(value, "rows"))?,
    })
}

/// The runs of a `vantage_sync_runs` answer; `None` if it is not an array of runs.
pub fn runs(value: &JsValue) -> Option<Vec<RunSummary>> {
    value
        .dyn_ref::<Array>()?
        .iter()
        .map(|run| {
            Some(RunSummary {
                status: Status::from_name(&string_field(&run, "status")?),
                started_at: time(&run, "started_at").ok()??,
                duration: int(&run, "duration_ms").map(Span::from_millis),
                records_synced: int(&run, "records_synced"),
                error_count: get(&run, "errors")
                    .dyn_ref::<Array>()
                    .map_or(0, |errors| errors.length() as usize),
            })
        })
        .collect()
}

/// A string field of a JSON object (`code` of an error body).
pub fn string_field(value: &JsValue, key: &str) -> Option<String> {
    get(value, key).as_string()
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn int(value: &JsValue, key: &str) -> Option<i64> {
    // Counts and milliseconds are whole numbers far inside 2^53, where f64 is exact.
    #[allow(clippy::cast_possible_truncation)]
    get(value, key)
        .as_f64()
        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
        .map(|f| f as i64)
}

/// A timestamp field: `Ok(None)` when null or absent, `Err` when present but unreadable.
fn time(value: &JsValue, key: &str) -> Result<Option<Timestamp>, ()> {
    let field = get(value, key);
    if field.is_null() || field.is_undefined() {
        return Ok(None);
    }
    field
        .as_string()
        .and_then(|text| Timestamp::parse(&text))
        .map(Some)
        .ok_or(())
}

fn row(value: &JsValue) -> Option<SyncRow> {
    let strings = |key| -> Option<Vec<String>> {
        let field = get(value, key);
        let array = field.dyn_ref::<Array>()?;
        Some(array.iter().filter_map(|v| v.as_string()).collect())
    };
    let errors = get(value, "errors")
        .dyn_ref::<Array>()
        .map(|array| array.iter().map(|e| error(&e)).collect());
    Some(SyncRow {
        resource: string_field(value, "resource")?,
        status: Status::from_name(&string_field(value, "last_sync_status")?),
        last_sync_time: time(value, "last_sync_time").ok()?,
        started_at: time(value, "started_at").ok()?,
        completed_at: time(value, "completed_at").ok()?,
        created_at: time(value, "created_at").ok()?,
        updated_at: time(value, "updated_at").ok()?,
        duration_ms: int(value, "duration_ms"),
        records_synced: int(value, "records_synced"),
        errors,
        consecutive_failures: int(value, "consecutive_failures"),
        health: string_field(value, "health").and_then(|h| Health::from_name(&h)),
        alerts: strings("alerts"),
        stale_after: string_field(value, "stale_after"),
        stuck_after: string_field(value, "stuck_after"),
        slow_after: string_field(value, "slow_after"),
        expected_interval: string_field(value, "expected_interval"),
        next_attempt: int(value, "next_attempt"),
        retry_max_attempts: int(value, "retry_max_attempts"),
        next_attempt_at: time(value, "next_attempt_at").ok()?,
        retries_exhausted: get(value, "retries_exhausted").as_bool(),
        sync_watermark: time(value, "sync_watermark").ok()?,
        late_grace: string_field(value, "late_grace"),
        last_heartbeat_at: time(value, "last_heartbeat_at").ok()?,
        records_so_far: int(value, "records_so_far"),
        counts_reported: get(value, "counts_reported").as_bool(),
    })
}

/// One entry of `errors`: `code` and `message` of an object, every other field as JSON text;
/// anything that is not an object becomes the message (the spec's table only checks that
/// `errors` is an array).
fn error(value: &JsValue) -> SyncError {
    if let Some(text) = value.as_string() {
        return SyncError {
            message: Some(text),
            ..SyncError::default()
        };
    }
    if !value.is_object() || Array::is_array(value) {
        return SyncError {
            message: Some(text(value)),
            ..SyncError::default()
        };
    }
    let mut error = SyncError::default();
    for key in Object::keys(value.unchecked_ref::<Object>()).iter() {
        let Some(name) = key.as_string() else {
            continue;
        };
        let field = text(&get(value, &name));
        match name.as_str() {
            "code" => error.code = Some(field),
            "message" => error.message = Some(field),
            _ => error.details.push((name, field)),
        }
    }
    error
}

/// A JSON value as text: strings as they are, anything else as the browser writes it in JSON.
fn text(value: &JsValue) -> String {
    value.as_string().unwrap_or_else(|| {
        JSON::stringify(value)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default()
    })
}
