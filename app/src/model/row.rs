//! A row as PostgREST returns it, from the `vantage_sync_health` view or, on a database with
//! only the spec's migration, from the `vantage_sync_state` table.
//!
//! Columns the table lacks (health, alerts, thresholds, `consecutive_failures`) are optional;
//! the card fills them in with the model's rules.

use super::health::Status;
use super::time::Timestamp;

/// One resource's sync state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncRow {
    /// The resource's name (`accounts`).
    pub resource: String,
    /// `last_sync_status`.
    pub status: Status,
    /// The last successful sync's watermark.
    pub last_sync_time: Option<Timestamp>,
    /// When the current or last run started.
    pub started_at: Option<Timestamp>,
    /// When the last run finished.
    pub completed_at: Option<Timestamp>,
    /// When the row was created.
    pub created_at: Option<Timestamp>,
    /// When the row last changed (the state table's trigger): what a refresh reads from, and
    /// what the digest of the rows sums.
    pub updated_at: Option<Timestamp>,
    /// How long the last finished run took.
    pub duration_ms: Option<i64>,
    /// Records the last successful run synced.
    pub records_synced: Option<i64>,
    /// The last failure's errors (empty after a success).
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
    /// The start of the last successful run: the point an incremental sync reads from
    /// (watermark migration).
    pub sync_watermark: Option<Timestamp>,
    /// The schedule's grace before an overdue resource is late, as interval text (view only).
    pub late_grace: Option<String>,
    /// When the current (or last) run last reported progress (progress migration).
    pub last_heartbeat_at: Option<Timestamp>,
    /// Records the current (or last) run said it had synced so far (progress migration).
    pub records_so_far: Option<i64>,
    /// `false` when the last success completed without record counts: its `records_synced`
    /// is then a 0 that means nothing (progress migration).
    pub counts_reported: Option<bool>,
}

impl SyncRow {
    /// A row of `resource` with `status` and every other column absent (NULL or not sent), as
    /// the decoder starts a row before it reads the rest.
    pub fn new(resource: String, status: Status) -> Self {
        Self {
            resource,
            status,
            last_sync_time: None,
            started_at: None,
            completed_at: None,
            created_at: None,
            updated_at: None,
            duration_ms: None,
            records_synced: None,
            errors: None,
            consecutive_failures: None,
            health: None,
            alerts: None,
            stale_after: None,
            stuck_after: None,
            slow_after: None,
            expected_interval: None,
            next_attempt: None,
            retry_max_attempts: None,
            next_attempt_at: None,
            retries_exhausted: None,
            sync_watermark: None,
            late_grace: None,
            last_heartbeat_at: None,
            records_so_far: None,
            counts_reported: None,
        }
    }
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
