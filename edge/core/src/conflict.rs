//! The 409s: a transition the state machine refused (`PT409`), worded from the DETAIL our SQL
//! functions attach as JSON, never from SQL text.

use serde::Deserialize;
use serde_json::json;

use crate::action::{Action, Verb};
use crate::error::EdgeError;
use crate::names::RunId;

/// The DETAIL of a `PT409`, one shape per reason (tried in this order: a DETAIL that names a
/// dependency is about the dependency, whatever else it carries).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Detail {
    /// A dependency has not synced successfully since the resource last did.
    Dependency {
        dependency: String,
        dependency_last_sync_time: Option<String>,
    },
    /// The retry policy waits before the next attempt.
    Retry {
        next_attempt_at: String,
        attempt: Option<i64>,
        max_attempts: Option<i64>,
    },
    /// The resource's current run, which the transition does not fit.
    Run {
        status: String,
        current_run_id: Option<RunId>,
        started_at: Option<String>,
        completed_at: Option<String>,
    },
}

/// The caller's 409 for a refused `action`, from the DETAIL (JSON text) PostgREST passed on.
pub(crate) fn conflict(details: Option<&str>, action: &Action<'_>) -> EdgeError {
    let resource = action.resource;
    match details.and_then(|d| serde_json::from_str::<Detail>(d).ok()) {
        Some(Detail::Dependency {
            dependency,
            dependency_last_sync_time,
        }) => EdgeError::Conflict {
            message: format!(
                "\"{resource}\" depends on \"{dependency}\", which has not synced successfully since \"{resource}\" last did; sync \"{dependency}\" first"
            ),
            current_run: None,
            reason: Some((
                "dependency",
                json!({ "resource": dependency, "last_sync_time": dependency_last_sync_time }),
            )),
        },
        Some(Detail::Retry {
            next_attempt_at,
            attempt,
            max_attempts,
        }) => {
            let (attempt, max) = (attempt.unwrap_or(0), max_attempts.unwrap_or(0));
            EdgeError::Conflict {
                message: format!(
                    "\"{resource}\" may not start before {next_attempt_at}: attempt {} of {max} failed and its retry policy waits (clear next_attempt_at to start now)",
                    attempt - 1
                ),
                current_run: None,
                reason: Some((
                    "retry",
                    json!({ "next_attempt_at": next_attempt_at, "attempt": attempt, "max_attempts": max }),
                )),
            }
        }
        Some(Detail::Run {
            status,
            current_run_id,
            started_at,
            completed_at,
        }) => EdgeError::Conflict {
            message: run_conflict(
                action,
                &status,
                current_run_id.as_ref(),
                started_at.as_deref(),
                completed_at.as_deref(),
            ),
            current_run: Some(json!({
                "run_id": current_run_id,
                "status": status,
                "started_at": started_at,
                "completed_at": completed_at,
            })),
            reason: None,
        },
        None => EdgeError::Conflict {
            message: format!(
                "cannot {} \"{resource}\" now: it conflicts with the sync's current state",
                action.verb
            ),
            current_run: None,
            reason: None,
        },
    }
}

/// Why `action` does not fit the current run (of `status`).
fn run_conflict(
    action: &Action<'_>,
    status: &str,
    current: Option<&RunId>,
    started_at: Option<&str>,
    completed_at: Option<&str>,
) -> String {
    let resource = action.resource;
    let current_or = |none: &str| current.map_or_else(|| none.to_owned(), ToString::to_string);
    match (action.verb, action.run_id) {
        (Verb::Start, _) => format!(
            "\"{resource}\" already has a run in progress: run {}, started at {}",
            current_or("?"),
            started_at.unwrap_or("an unknown time")
        ),
        (verb, Some(requested)) if Some(requested) != current => format!(
            "cannot {verb} run {requested} of \"{resource}\": it is not the current run (that is {} with status {status})",
            current_or("none")
        ),
        (verb, Some(requested)) => format!(
            "cannot {verb} run {requested} of \"{resource}\": it already finished with status {status} at {}",
            completed_at.unwrap_or("an unknown time")
        ),
        (verb, None) => {
            format!("cannot {verb} \"{resource}\": it is not running (status {status})")
        }
    }
}
