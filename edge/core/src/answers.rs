//! What each route answers on success, one type per route; timestamps as the database wrote
//! them. Pure.
//!
//! Answers go out through `serde_json::Value`, whose objects keep their keys sorted: the
//! bytes of an answer stay the same whatever the order of the fields here.

use serde::Serialize;
use serde_json::Value;

use crate::error::EdgeError;
use crate::health_rows::{HealthRow, Summary};
use crate::names::{ResourceName, RunId};
use crate::webhooks::DeliveryReport;

/// `POST start`.
#[derive(Debug, Serialize)]
pub(crate) struct StartAnswer {
    pub run_id: RunId,
    pub resource: ResourceName,
    pub started_at: String,
    /// The start of the last successful run: where the job syncs from (`None`: everything).
    pub sync_watermark: Option<String>,
}

/// `POST complete`: the counts are null when none were reported.
#[derive(Debug, Serialize)]
pub(crate) struct CompleteAnswer {
    pub resource: ResourceName,
    pub run_id: Option<RunId>,
    pub status: &'static str,
    pub records_synced: Option<u32>,
    pub records_created: Option<u32>,
    pub records_updated: Option<u32>,
    pub counts_reported: bool,
}

/// `POST progress`.
#[derive(Debug, Serialize)]
pub(crate) struct ProgressAnswer {
    pub resource: ResourceName,
    pub run_id: RunId,
    pub last_heartbeat_at: String,
    pub records_synced: Option<u64>,
}

/// `POST fail`, with what the retry policy says.
#[derive(Debug, Serialize)]
pub(crate) struct FailAnswer {
    pub resource: ResourceName,
    pub run_id: Option<RunId>,
    pub status: &'static str,
    pub error_count: usize,
    #[serde(flatten)]
    pub retry: RetryState,
}

/// What `fail_vantage_sync_run` says of the next attempt (all null without a retry policy, or
/// when the answer cannot be read: the failure is recorded either way).
#[derive(Debug, Default, serde::Deserialize, Serialize)]
pub(crate) struct RetryState {
    pub attempt: Option<i64>,
    pub max_attempts: Option<i64>,
    pub will_retry: Option<bool>,
    pub next_attempt_at: Option<String>,
}

/// `POST abort`.
#[derive(Debug, Serialize)]
pub(crate) struct AbortAnswer {
    pub resource: ResourceName,
    pub run_id: Option<RunId>,
    pub status: &'static str,
    pub aborted_by: String,
}

/// `GET health`.
#[derive(Debug, Serialize)]
pub(crate) struct HealthAnswer {
    pub resources: Vec<HealthRow>,
    pub summary: Summary,
    /// Present whenever the caller paged: the cursor of the next page, null on the last.
    #[allow(
        clippy::option_option,
        reason = "three answers: no member (not paged), null (the last page), a cursor"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Option<String>>,
}

/// `POST sweep`.
#[derive(Debug, Serialize)]
pub(crate) struct SweepAnswer {
    #[serde(flatten)]
    pub counts: SweepCounts,
    pub deliveries: DeliveryReport,
}

/// What `sweep_vantage_syncs` did.
#[derive(Debug, Default, serde::Deserialize, Serialize)]
pub(crate) struct SweepCounts {
    pub swept: Option<i64>,
    pub stale_events: Option<i64>,
    pub late_events: Option<i64>,
}

/// An answer as the JSON body the edge sends.
pub(crate) fn json(answer: &impl Serialize) -> Result<Value, EdgeError> {
    serde_json::to_value(answer)
        .map_err(|e| EdgeError::internal(format!("an answer did not serialize: {e}")))
}
