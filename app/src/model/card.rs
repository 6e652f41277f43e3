//! A health card: what the model knows about one resource, computed from its row at a given
//! `now` (health, alerts, the retry policy's next step, the state word and icon). Its wording
//! is in `card_text.rs`, the filters, counts and order of a list of cards in `listing.rs`.

use super::health::{Alert, Facts, Health, Status, Thresholds, alerts_of, classify_health};
use super::row::{SyncError, SyncRow};
use super::span::Span;
use super::time::{Timestamp, parse_interval};

/// What a card says a resource is doing: the health word and its icon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Green and not running.
    Healthy,
    /// Yellow: no success within the allowed age.
    Stale,
    /// Red because the last run failed.
    Failing,
    /// Red because a run has gone on too long.
    Stuck,
    /// A run in progress, not (yet) stuck.
    Running,
    /// Yellow because it never ran.
    NeverSynced,
    /// Yellow because it did not start when its schedule said (past the grace): the cause is
    /// named before its consequence, so a late resource that is also stale or never ran shows
    /// as late.
    Late,
}

impl State {
    /// The state a health, a status and the `late` alert show as. Red wins over late (the
    /// alert still says it); a running resource is never late.
    pub fn of(health: Health, status: Status, late: bool) -> Self {
        match (health, status) {
            (Health::Red, Status::Running) => Self::Stuck,
            (Health::Red, _) => Self::Failing,
            (_, Status::Running) => Self::Running,
            (Health::Yellow, _) if late => Self::Late,
            (Health::Yellow, Status::NeverRun) => Self::NeverSynced,
            (Health::Yellow, _) => Self::Stale,
            (Health::Green, _) => Self::Healthy,
        }
    }

    /// The word beside the icon (health is never shown by colour alone).
    pub const fn word(self) -> &'static str {
        match self {
            Self::Healthy => "Healthy",
            Self::Stale => "Stale",
            Self::Failing => "Failing",
            Self::Stuck => "Stuck",
            Self::Running => "Running",
            Self::NeverSynced => "Never synced",
            Self::Late => "Late",
        }
    }

    /// A text glyph for the state (decorative: the word carries the meaning).
    pub const fn icon(self) -> &'static str {
        match self {
            Self::Healthy => "\u{2714}",     // ✔
            Self::Stale => "\u{25F7}",       // ◷
            Self::Failing => "\u{2716}",     // ✖
            Self::Stuck => "\u{26A0}",       // ⚠
            Self::Running => "\u{21BB}",     // ↻
            Self::NeverSynced => "\u{25CB}", // ○
            Self::Late => "\u{29D6}",        // ⧖
        }
    }

    /// The CSS modifier for it (`vss-state-failing`).
    pub const fn class(self) -> &'static str {
        match self {
            Self::Healthy => "vss-state-healthy",
            Self::Stale => "vss-state-stale",
            Self::Failing => "vss-state-failing",
            Self::Stuck => "vss-state-stuck",
            Self::Running => "vss-state-running",
            Self::NeverSynced => "vss-state-never",
            Self::Late => "vss-state-late",
        }
    }
}

/// Where a failing resource stands with its retry policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Retry {
    /// No policy, or nothing pending.
    None,
    /// The policy allows attempt `attempt` (of `max`, when known) at `at`.
    Waiting {
        /// The attempt the next start will be.
        attempt: i64,
        /// The policy's limit, if the row says it.
        max: Option<i64>,
        /// When it may start.
        at: Timestamp,
    },
    /// The policy used up its attempts.
    GaveUp {
        /// How many attempts failed.
        attempts: i64,
    },
}

/// Everything a card shows about one resource.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Card {
    /// The resource's name.
    pub resource: String,
    /// The rules' facts about its row.
    pub facts: Facts,
    /// When its last run finished.
    pub completed_at: Option<Timestamp>,
    /// Records its last successful run synced; `None` when that run reported no counts.
    pub records_synced: Option<i64>,
    /// Records the current (or last) run said it had synced so far, in its last heartbeat.
    pub records_so_far: Option<i64>,
    /// Its last failure's errors.
    pub errors: Vec<SyncError>,
    /// Its effective limits.
    pub thresholds: Thresholds,
    /// Red, yellow or green.
    pub health: Health,
    /// Its alerts, in the view's order.
    pub alerts: Vec<Alert>,
    /// Its retry policy's next step.
    pub retry: Retry,
}

impl Card {
    /// The card of a row. Health and alerts come from the row when it has them (a read of the
    /// view's every column); otherwise the model applies the rules, which exist in SQL and here
    /// and which the shared truth table keeps equal, with the row's or the default thresholds
    /// at `now`. The widget reads only the columns a card shows and so takes this second path:
    /// health that changes with time (stale, stuck, late) is then right at every refresh
    /// without reading unchanged rows again.
    pub fn from_row(row: SyncRow, now: Timestamp) -> Self {
        let defaults = Thresholds::default();
        let limit = |text: &Option<String>, default: Span| {
            text.as_deref().and_then(parse_interval).unwrap_or(default)
        };
        let thresholds = Thresholds {
            stale_after: limit(&row.stale_after, defaults.stale_after),
            stuck_after: limit(&row.stuck_after, defaults.stuck_after),
            slow_after: limit(&row.slow_after, defaults.slow_after),
            expected_interval: row.expected_interval.as_deref().and_then(parse_interval),
            late_grace: limit(&row.late_grace, defaults.late_grace),
        };
        let facts = Facts {
            status: row.status,
            last_sync_time: row.last_sync_time,
            started_at: row.started_at,
            created_at: row.created_at,
            duration: row.duration_ms.map(Span::from_millis),
            consecutive_failures: row.consecutive_failures.unwrap_or(0),
            last_heartbeat_at: row.last_heartbeat_at,
        };
        let health = row
            .health
            .unwrap_or_else(|| classify_health(&facts, &thresholds, now));
        let alerts = if let Some(names) = row.alerts {
            names.iter().filter_map(|n| Alert::from_name(n)).collect()
        } else {
            let mut alerts = alerts_of(&facts, &thresholds, now);
            // The view appends it after the rules' alerts; it does not depend on the time.
            if row.retries_exhausted == Some(true) {
                alerts.push(Alert::RetriesExhausted);
            }
            alerts
        };
        let retry = match (row.retries_exhausted, row.next_attempt_at) {
            (Some(true), _) => Retry::GaveUp {
                attempts: facts.consecutive_failures,
            },
            (_, Some(at)) if facts.status == Status::Failed => Retry::Waiting {
                attempt: row.next_attempt.unwrap_or(facts.consecutive_failures + 1),
                max: row.retry_max_attempts,
                at,
            },
            _ => Retry::None,
        };
        Self {
            resource: row.resource,
            facts,
            completed_at: row.completed_at,
            // A completion without counts stores 0 in the spec's NOT NULL column: not a count.
            records_synced: row
                .records_synced
                .filter(|_| row.counts_reported != Some(false)),
            records_so_far: row.records_so_far,
            errors: row.errors.unwrap_or_default(),
            thresholds,
            health,
            alerts,
            retry,
        }
    }

    /// Its health word and icon.
    pub fn state(&self) -> State {
        State::of(self.health, self.facts.status, self.is_late())
    }

    /// Whether its schedule's next run is overdue past the grace (the `late` alert).
    pub fn is_late(&self) -> bool {
        self.alerts.contains(&Alert::Late)
    }
}

/// The cards the model's tests start from.
#[cfg(test)]
pub(super) mod fixtures {
    use super::super::span::{DAY, HOUR, MINUTE};
    use super::{Card, Status, SyncRow, Timestamp};

    /// The tests' clock.
    pub(in super::super) fn now() -> Timestamp {
        Timestamp::parse("2025-11-05T12:00:00Z").expect("now parses")
    }

    /// A card of `status` (accounts: 150 records in 3.2 s, 2 hours ago).
    pub(in super::super) fn card(status: Status) -> Card {
        Card::from_row(row(status), now())
    }

    /// The row behind [`card`].
    pub(in super::super) fn row(status: Status) -> SyncRow {
        SyncRow {
            last_sync_time: Some(now().plus(-2 * HOUR)),
            started_at: Some(now().plus(-12 * MINUTE)),
            completed_at: Some(now().plus(-5 * MINUTE)),
            created_at: Some(now().plus(-30 * DAY)),
            duration_ms: Some(3200),
            records_synced: Some(150),
            ..SyncRow::new("accounts".to_owned(), status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::span::{HOUR, MINUTE, SECOND};
    use super::fixtures::{now, row};
    use super::*;

    #[test]
    fn a_run_heard_from_recently_is_not_stuck_however_long_it_runs() {
        let long = |heard: Option<Span>| {
            Card::from_row(
                SyncRow {
                    started_at: Some(now().plus(-2 * HOUR)),
                    last_heartbeat_at: heard.map(|ago| now().plus(-ago)),
                    records_so_far: Some(45_200),
                    ..row(Status::Running)
                },
                now(),
            )
        };
        let alive = long(Some(20 * SECOND));
        assert_eq!(alive.health, Health::Green);
        assert!(!alive.alerts.contains(&Alert::Stuck));
        assert_eq!(alive.records_so_far, Some(45_200));
        let silent = long(Some(31 * MINUTE));
        assert_eq!(silent.health, Health::Red);
        assert!(silent.alerts.contains(&Alert::Stuck));
        assert_eq!(
            alive.status_line(now()),
            "Running for 2 hours \u{b7} 45,200 records so far \u{b7} heard from 20 s ago"
        );
        let exactly = long(Some(30 * MINUTE));
        assert_eq!(exactly.health, Health::Green, "strict, as in SQL");
        let never = long(None);
        assert_eq!(
            never.health,
            Health::Red,
            "no heartbeat: judged by its start"
        );
    }
    #[test]
    fn a_view_row_with_a_policy_becomes_a_retry() {
        let c = Card::from_row(
            SyncRow {
                next_attempt: Some(3),
                retry_max_attempts: Some(4),
                next_attempt_at: Some(now().plus(MINUTE)),
                consecutive_failures: Some(2),
                ..row(Status::Failed)
            },
            now(),
        );
        assert_eq!(
            c.retry,
            Retry::Waiting {
                attempt: 3,
                max: Some(4),
                at: now().plus(MINUTE)
            }
        );
        let gave_up = Card::from_row(
            SyncRow {
                retries_exhausted: Some(true),
                consecutive_failures: Some(4),
                alerts: Some(vec!["retries_exhausted".to_owned()]),
                ..row(Status::Failed)
            },
            now(),
        );
        assert_eq!(gave_up.retry, Retry::GaveUp { attempts: 4 });
        assert_eq!(gave_up.alerts, [Alert::RetriesExhausted]);
        // Read without the view's alerts (the widget's select=): the rules' alerts, then the
        // policy's, in the view's order.
        let computed = Card::from_row(
            SyncRow {
                retries_exhausted: Some(true),
                consecutive_failures: Some(4),
                ..row(Status::Failed)
            },
            now(),
        );
        assert_eq!(
            computed.alerts,
            [Alert::RepeatedFailures, Alert::RetriesExhausted]
        );
    }
    #[test]
    fn every_state_has_a_word_and_an_icon() {
        let states = [
            (Health::Green, Status::Success, "Healthy"),
            (Health::Yellow, Status::Success, "Stale"),
            (Health::Red, Status::Failed, "Failing"),
            (Health::Red, Status::Running, "Stuck"),
            (Health::Green, Status::Running, "Running"),
            (Health::Yellow, Status::Running, "Running"),
            (Health::Yellow, Status::NeverRun, "Never synced"),
        ];
        for (health, status, word) in states {
            let state = State::of(health, status, false);
            assert_eq!(state.word(), word);
            assert!(!state.icon().is_empty());
        }
        // Late: the cause before its consequence among the yellows; red and running win.
        let late = [
            (Health::Yellow, Status::Success, "Late"),
            (Health::Yellow, Status::NeverRun, "Late"),
            (Health::Red, Status::Failed, "Failing"),
            (Health::Yellow, Status::Running, "Running"),
        ];
        for (health, status, word) in late {
            let state = State::of(health, status, true);
            assert_eq!(state.word(), word);
            assert!(!state.icon().is_empty());
        }
    }
}
