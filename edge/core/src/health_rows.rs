//! The health view's rows as `GET health` serves them: the columns read, their types, and the
//! count per colour. Pure.

use serde::{Deserialize, Serialize};

use crate::names::{ResourceName, RunId};

/// The health view's columns the function serves, in this order.
pub const HEALTH_COLUMNS: [&str; 20] = [
    "resource",
    "health",
    "alerts",
    "last_sync_status",
    "last_sync_time",
    "started_at",
    "running_seconds",
    "duration_ms",
    "records_synced",
    "error_count",
    "consecutive_failures",
    "current_run_id",
    "next_attempt",
    "retry_max_attempts",
    "next_attempt_at",
    "retries_exhausted",
    "retry_status",
    "sync_watermark",
    "last_heartbeat_at",
    "records_so_far",
];

/// The view's column that orders it (and makes a page's cursor); read only to page.
pub(crate) const SORT_KEY: &str = "sort_key";

/// A resource's health, as the view names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Failing, stuck or long stale.
    Red,
    /// Late, slow or a little stale.
    Yellow,
    /// Fine.
    Green,
}

/// One row of the health view, with the columns of [`HEALTH_COLUMNS`] (timestamps as the
/// database wrote them). A column the view does not send is null.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct HealthRow {
    /// The resource.
    pub resource: ResourceName,
    /// Its health.
    pub health: Health,
    /// The alerts that hold (`stale`, `stuck`, ...).
    #[serde(default)]
    pub alerts: Vec<String>,
    /// `running`, `success` or `failed`.
    pub last_sync_status: Option<String>,
    /// When the last successful sync completed.
    pub last_sync_time: Option<String>,
    /// When the current or last run started.
    pub started_at: Option<String>,
    /// Seconds the current run has been running.
    pub running_seconds: Option<i64>,
    /// The last run's duration.
    pub duration_ms: Option<i64>,
    /// The last run's records synced.
    pub records_synced: Option<i64>,
    /// The last failure's error count.
    pub error_count: Option<i64>,
    /// Failures in a row.
    pub consecutive_failures: Option<i64>,
    /// The current or last run.
    pub current_run_id: Option<RunId>,
    /// The number of the next attempt.
    pub next_attempt: Option<i64>,
    /// The retry policy's attempts.
    pub retry_max_attempts: Option<i64>,
    /// When the retry policy allows the next attempt.
    pub next_attempt_at: Option<String>,
    /// Whether the retry policy gave up.
    pub retries_exhausted: Option<bool>,
    /// The retry policy's state in words.
    pub retry_status: Option<String>,
    /// The start of the last successful run.
    pub sync_watermark: Option<String>,
    /// The running run's last heartbeat.
    pub last_heartbeat_at: Option<String>,
    /// The running run's records so far.
    pub records_so_far: Option<i64>,
    /// The view's order (see [`SORT_KEY`]); never served.
    #[serde(default, skip_serializing)]
    pub sort_key: Option<String>,
}

/// How many rows are of each colour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Red rows.
    pub red: u32,
    /// Yellow rows.
    pub yellow: u32,
    /// Green rows.
    pub green: u32,
}

impl Summary {
    /// The count per colour of `rows`.
    pub fn of(rows: &[HealthRow]) -> Self {
        let mut summary = Self::default();
        for row in rows {
            *match row.health {
                Health::Red => &mut summary.red,
                Health::Yellow => &mut summary.yellow,
                Health::Green => &mut summary.green,
            } += 1;
        }
        summary
    }
}

/// The `select` of a health read: the columns served, and the sort key when paging.
pub(crate) fn select(paged: bool) -> String {
    let mut columns = HEALTH_COLUMNS.join(",");
    if paged {
        columns.push(',');
        columns.push_str(SORT_KEY);
    }
    columns
}
