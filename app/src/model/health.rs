//! The health rules in Rust. The rules exist three times, by design: in the health view, in
//! the SQL functions `vantage_sync_health_rank_of` and `vantage_sync_alerts_of`, and here,
//! where the widget computes each card's health at the answer's database clock (so a row ages
//! past stale, stuck or late without being read again; a database without the view needs them
//! too). One truth table (`tests/fixtures/health_cases.json`) checks all three, so they cannot
//! drift apart unnoticed. As in SQL,
//! a comparison with a missing time is false, and every comparison is strict: a run that has
//! been going for exactly 30 minutes is not yet stuck. A run that reports progress is judged by
//! its last heartbeat instead of its start (migration 20261208090000): stuck only when it has
//! not been heard from for longer than `stuck_after`.

use super::span::{HOUR, MINUTE, Span};
use super::time::Timestamp;

/// The colour of a resource's health: what needs action, attention, or nothing. Ordered the
/// way cards are sorted (red first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Health {
    /// Failed, or stuck: somebody should act.
    Red,
    /// Stale or never run: worth a look.
    Yellow,
    /// Everything else.
    Green,
}

impl Health {
    /// Every health, in sort order.
    pub const ALL: [Self; 3] = [Self::Red, Self::Yellow, Self::Green];

    /// The view's name for it: `red`, `yellow`, `green`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Red => "red",
            Self::Yellow => "yellow",
            Self::Green => "green",
        }
    }

    /// The health of a view name (`red`, `yellow`, `green`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.name() == name)
    }

    /// What the colour means to a person, for filters and summaries (never colour alone).
    pub const fn label(self) -> &'static str {
        match self {
            Self::Red => "Action needed",
            Self::Yellow => "Attention",
            Self::Green => "OK",
        }
    }
}

/// `last_sync_status` of a state row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Created, never started.
    NeverRun,
    /// A run is in progress.
    Running,
    /// The last run completed.
    Success,
    /// The last run failed.
    Failed,
    /// A status this widget does not know yet; the rules treat it as SQL treats any other
    /// text (neither failed, running nor never run).
    Other,
}

impl Status {
    /// The status of a `last_sync_status` value; [`Status::Other`] for one not known here.
    pub fn from_name(name: &str) -> Self {
        match name {
            "never_run" => Self::NeverRun,
            "running" => Self::Running,
            "success" => Self::Success,
            "failed" => Self::Failed,
            _ => Self::Other,
        }
    }
}

/// An alert badge, in the order the view lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alert {
    /// Running with no sign of life (its last heartbeat, or its start without one) for longer
    /// than `stuck_after`.
    Stuck,
    /// No success within `stale_after` (or never run, created longer ago than that).
    Stale,
    /// Three or more failures in a row.
    RepeatedFailures,
    /// The last run took longer than `slow_after`.
    Slow,
    /// Not started within its schedule's `expected_interval`.
    MissedSchedule,
    /// Not started within `expected_interval + late_grace`: the job may have stopped (yellow).
    Late,
    /// The retry policy used up its attempts (view only).
    RetriesExhausted,
}

impl Alert {
    /// The view's name for it (`stuck`, `stale`, `repeated_failures`, `slow`,
    /// `missed_schedule`, `retries_exhausted`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Stuck => "stuck",
            Self::Stale => "stale",
            Self::RepeatedFailures => "repeated_failures",
            Self::Slow => "slow",
            Self::MissedSchedule => "missed_schedule",
            Self::Late => "late",
            Self::RetriesExhausted => "retries_exhausted",
        }
    }

    /// The alert of a view name; `None` for one this widget does not know.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Stuck,
            Self::Stale,
            Self::RepeatedFailures,
            Self::Slow,
            Self::MissedSchedule,
            Self::Late,
            Self::RetriesExhausted,
        ]
        .into_iter()
        .find(|a| a.name() == name)
    }
}

/// A resource's limits. The defaults are those of
/// `vantage_sync_default_schedule()`; a schedule row overrides them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Thresholds {
    /// A resource with no success for longer than this is stale (24 h).
    pub stale_after: Span,
    /// A run not heard from for longer than this (since its last heartbeat, or its start
    /// without one) is stuck (30 min).
    pub stuck_after: Span,
    /// A run that took longer than this is slow (5 min).
    pub slow_after: Span,
    /// How often it should start; `None` when it has no schedule.
    pub expected_interval: Option<Span>,
    /// How long past its due time a scheduled resource may be before it is late (1 h, the
    /// schedules table's default).
    pub late_grace: Span,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            stale_after: 24 * HOUR,
            stuck_after: 30 * MINUTE,
            slow_after: 5 * MINUTE,
            expected_interval: None,
            late_grace: HOUR,
        }
    }
}

/// The facts of a state row the rules look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Facts {
    /// `last_sync_status`.
    pub status: Status,
    /// The last successful sync's watermark.
    pub last_sync_time: Option<Timestamp>,
    /// When the current or last run started.
    pub started_at: Option<Timestamp>,
    /// When the row was created.
    pub created_at: Option<Timestamp>,
    /// How long the last finished run took.
    pub duration: Option<Span>,
    /// Failures in a row (0 on a database without the state machine migration).
    pub consecutive_failures: i64,
    /// When the current run last reported progress; `None` when it never did (or on a
    /// database without the progress migration): it is then judged by `started_at`.
    pub last_heartbeat_at: Option<Timestamp>,
}

/// Whether `t` is known and strictly before `limit` (SQL's `t < limit`, false for NULL).
fn before(t: Option<Timestamp>, limit: Timestamp) -> bool {
    t.is_some_and(|t| t < limit)
}

/// Running, and its last sign of life (its last heartbeat, or its start if it sent none) is
/// more than `stuck_after` ago.
fn is_stuck(f: &Facts, t: &Thresholds, now: Timestamp) -> bool {
    f.status == Status::Running
        && before(
            f.last_heartbeat_at.or(f.started_at),
            now.plus(-t.stuck_after),
        )
}

/// Scheduled, not running, and not started within `expected_interval + late_grace` (since its
/// creation, if it never started).
fn is_late(f: &Facts, t: &Thresholds, now: Timestamp) -> bool {
    t.expected_interval.is_some_and(|every| {
        f.status != Status::Running
            && before(
                f.started_at.or(f.created_at),
                now.plus(-every).plus(-t.late_grace),
            )
    })
}

/// The health of a row at `now` (the SQL function `vantage_sync_health_rank_of`).
pub fn classify_health(f: &Facts, t: &Thresholds, now: Timestamp) -> Health {
    if f.status == Status::Failed || is_stuck(f, t, now) {
        Health::Red
    } else if before(f.last_sync_time, now.plus(-t.stale_after))
        || f.status == Status::NeverRun
        || is_late(f, t, now)
    {
        Health::Yellow
    } else {
        Health::Green
    }
}

/// The alerts of a row at `now`, in the view's order (the SQL function `vantage_sync_alerts_of`).
pub fn alerts_of(f: &Facts, t: &Thresholds, now: Timestamp) -> Vec<Alert> {
    let stale_limit = now.plus(-t.stale_after);
    let checks = [
        (Alert::Stuck, is_stuck(f, t, now)),
        (
            Alert::Stale,
            before(f.last_sync_time, stale_limit)
                || (f.status == Status::NeverRun && before(f.created_at, stale_limit)),
        ),
        (Alert::RepeatedFailures, f.consecutive_failures >= 3),
        (
            Alert::Slow,
            f.duration.is_some_and(|took| took > t.slow_after),
        ),
        (
            Alert::MissedSchedule,
            t.expected_interval.is_some_and(|every| {
                f.status != Status::Running
                    && before(f.started_at.or(f.created_at), now.plus(-every))
            }),
        ),
        (Alert::Late, is_late(f, t, now)),
    ];
    checks
        .into_iter()
        .filter_map(|(alert, on)| on.then_some(alert))
        .collect()
}
