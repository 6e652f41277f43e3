//! A health card's content: what a person reads about one resource, computed from its row at
//! a given `now`. Components only place this text; they decide nothing.

use super::health::{Alert, Facts, Health, Status, Thresholds, alerts_of, classify_health};
use super::row::{SyncError, SyncRow};
use super::time::{
    Timestamp, ago, count, duration_text, grouped, parse_interval, short_span, span,
};

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
        let limit = |text: &Option<String>, default: i64| {
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
            duration_ms: row.duration_ms,
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

    /// The card's main line at `now`:
    /// - success: `Last synced 2 hours ago (150 records in 3.2s)` (the spec's line),
    /// - running: `Running for 12 minutes`, with what its heartbeats said when it sent any:
    ///   `Running for 2 hours · 45,200 records so far · heard from 20 s ago`,
    /// - failed: `Failed 5 minutes ago · 2 errors`,
    /// - never run: `Never synced`.
    pub fn status_line(&self, now: Timestamp) -> String {
        let f = &self.facts;
        match f.status {
            Status::Running => {
                let mut line = match f.started_at {
                    Some(started) => format!("Running for {}", span(now.since(started))),
                    None => "Running".to_owned(),
                };
                if let Some(n) = self.records_so_far {
                    line.push_str(" \u{b7} ");
                    line.push_str(&grouped(n));
                    line.push_str(if n == 1 {
                        " record so far"
                    } else {
                        " records so far"
                    });
                }
                if let Some(heard) = f.last_heartbeat_at {
                    line.push_str(" \u{b7} heard from ");
                    line.push_str(&short_span(now.since(heard)));
                    line.push_str(" ago");
                }
                line
            }
            Status::Failed => {
                let when = self.completed_at.or(f.started_at);
                let mut line = match when {
                    Some(t) => format!("Failed {}", ago(now.since(t))),
                    None => "Failed".to_owned(),
                };
                if !self.errors.is_empty() {
                    let n = i64::try_from(self.errors.len()).unwrap_or(i64::MAX);
                    line.push_str(" \u{b7} ");
                    line.push_str(&count(n, "error"));
                }
                line
            }
            Status::NeverRun => "Never synced".to_owned(),
            Status::Success | Status::Other => match f.last_sync_time {
                Some(t) => {
                    let when = ago(now.since(t));
                    match (self.records_synced, f.duration_ms) {
                        (Some(n), Some(ms)) => format!(
                            "Last synced {when} ({} in {})",
                            records(n),
                            duration_text(ms)
                        ),
                        (Some(n), None) => format!("Last synced {when} ({})", records(n)),
                        _ => format!("Last synced {when}"),
                    }
                }
                None => "Never synced".to_owned(),
            },
        }
    }

    /// A second line while running or after a failure: when the last success was.
    pub fn last_success_line(&self, now: Timestamp) -> Option<String> {
        match self.facts.status {
            Status::Running | Status::Failed => Some(match self.facts.last_sync_time {
                Some(t) => format!("Last successful sync {}", ago(now.since(t))),
                None => "No successful sync yet".to_owned(),
            }),
            _ => None,
        }
    }

    /// A line for a failing resource with a retry policy: `Retry 2 of 5 at 14:32 (in 4
    /// minutes)`, `Retry 2 of 5 due now`, or `Gave up after 5 attempts`. `clock` writes an
    /// instant as a time of day in the user's time zone (the browser's `Intl`), or gives none
    /// while local times wait for the first paint (`Retry 2 of 5 in 4 minutes`).
    pub fn retry_line(
        &self,
        now: Timestamp,
        clock: impl Fn(Timestamp) -> Option<String>,
    ) -> Option<String> {
        match self.retry {
            Retry::None => None,
            Retry::GaveUp { attempts } => Some(gave_up_text(attempts)),
            Retry::Waiting { attempt, max, at } => {
                let which = match max {
                    Some(max) => format!("Retry {attempt} of {max}"),
                    None => format!("Retry {attempt}"),
                };
                let wait = at.since(now);
                Some(if wait > 0 {
                    match clock(at) {
                        Some(clock) => format!("{which} at {clock} (in {})", span(wait)),
                        None => format!("{which} in {}", span(wait)),
                    }
                } else {
                    format!("{which} due now")
                })
            }
        }
    }

    /// The instant the main line is about, for its `<time>` element.
    pub fn line_time(&self) -> Option<Timestamp> {
        match self.facts.status {
            Status::Running => self.facts.started_at,
            Status::Failed => self.completed_at.or(self.facts.started_at),
            Status::NeverRun => None,
            Status::Success | Status::Other => self.facts.last_sync_time,
        }
    }

    /// An alert's badge text, with the numbers that explain it.
    pub fn alert_text(&self, alert: Alert, now: Timestamp) -> String {
        let f = &self.facts;
        let t = &self.thresholds;
        match alert {
            Alert::Stuck => match f.started_at {
                Some(s) => format!(
                    "Stuck: running {} (limit {})",
                    short_span(now.since(s)),
                    short_span(t.stuck_after)
                ),
                None => "Stuck".to_owned(),
            },
            Alert::Stale => match (f.last_sync_time, f.created_at) {
                (Some(last), _) => format!(
                    "Stale: last success {} ago (allowed {})",
                    short_span(now.since(last)),
                    short_span(t.stale_after)
                ),
                (None, Some(created)) => format!(
                    "Stale: no success since created {} ago (allowed {})",
                    short_span(now.since(created)),
                    short_span(t.stale_after)
                ),
                (None, None) => "Stale".to_owned(),
            },
            Alert::RepeatedFailures => {
                format!("Failed {}\u{d7} in a row", f.consecutive_failures)
            }
            Alert::Slow => match f.duration_ms {
                Some(ms) => format!(
                    "Slow: took {} (limit {})",
                    duration_text(ms),
                    duration_text(t.slow_after / 1000)
                ),
                None => "Slow".to_owned(),
            },
            Alert::MissedSchedule => match t.expected_interval {
                Some(every) => format!("Missed schedule: due every {}", short_span(every)),
                None => "Missed schedule".to_owned(),
            },
            Alert::Late => match (t.expected_interval, f.started_at.or(f.created_at)) {
                (Some(every), Some(last)) => format!(
                    "Late: due {} ago (every {}, grace {})",
                    short_span(now.since(last.plus(every))),
                    short_span(every),
                    short_span(t.late_grace)
                ),
                _ => "Late".to_owned(),
            },
            Alert::RetriesExhausted => gave_up_text(f.consecutive_failures),
        }
    }

    /// Whether the card passes a filter (a health, or late) and a name filter (substring,
    /// ASCII letters case-insensitive; blank matches all). ASCII folding only: resource names
    /// are identifiers, and Unicode case tables would cost the bundle about 4 KB.
    pub fn matches(&self, filter: Option<Filter>, name: &str) -> bool {
        let needle = name.trim().as_bytes();
        filter.is_none_or(|f| match f {
            Filter::Health(h) => h == self.health,
            Filter::Late => self.is_late(),
        }) && (needle.is_empty()
            || self
                .resource
                .as_bytes()
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle)))
    }
}

pub(crate) fn records(n: i64) -> String {
    if n == 1 {
        "1 record".to_owned()
    } else {
        format!("{} records", grouped(n))
    }
}

/// Sorts cards red, yellow, green, then by resource name in byte order (the view's `sort_key`
/// with collation "C").
pub fn sort_cards(cards: &mut [Card]) {
    cards.sort_by(|a, b| (a.health, &a.resource).cmp(&(b.health, &b.resource)));
}

/// What a summary button shows: the cards of one health, or the late ones (yellow, or red
/// and late as well: a late resource is counted under its health and here too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Filter {
    /// Cards of this health.
    Health(Health),
    /// Cards whose schedule's next run is overdue past the grace.
    Late,
}

impl Filter {
    /// Every filter, in the summary's order.
    pub const ALL: [Self; 4] = [
        Self::Health(Health::Red),
        Self::Health(Health::Yellow),
        Self::Health(Health::Green),
        Self::Late,
    ];

    /// Its button's words.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Health(health) => health.label(),
            Self::Late => "Late",
        }
    }

    /// Its button's CSS modifier (`vss-health-red`, `vss-filter-late`).
    pub const fn class(self) -> &'static str {
        match self {
            Self::Health(Health::Red) => "vss-health-red",
            Self::Health(Health::Yellow) => "vss-health-yellow",
            Self::Health(Health::Green) => "vss-health-green",
            Self::Late => "vss-filter-late",
        }
    }
}

/// How many cards have each health, and how many are late.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Red cards.
    pub red: usize,
    /// Yellow cards.
    pub yellow: usize,
    /// Green cards.
    pub green: usize,
    /// Late cards (also counted under their health).
    pub late: usize,
}

impl Counts {
    /// Counts `cards` by health, and the late ones.
    pub fn of(cards: &[Card]) -> Self {
        cards.iter().fold(Self::default(), |mut c, card| {
            match card.health {
                Health::Red => c.red += 1,
                Health::Yellow => c.yellow += 1,
                Health::Green => c.green += 1,
            }
            c.late += usize::from(card.is_late());
            c
        })
    }

    /// The count for one filter.
    pub const fn get(self, filter: Filter) -> usize {
        match filter {
            Filter::Health(Health::Red) => self.red,
            Filter::Health(Health::Yellow) => self.yellow,
            Filter::Health(Health::Green) => self.green,
            Filter::Late => self.late,
        }
    }

    /// All cards.
    pub const fn total(self) -> usize {
        self.red + self.yellow + self.green
    }
}

/// `Gave up after 5 attempts`.
fn gave_up_text(attempts: i64) -> String {
    format!("Gave up after {}", count(attempts, "attempt"))
}

/// How fresh the shown data is: `Updated 12 s ago`, `Updated 3 min ago`, `Updated 2 h ago`.
pub fn updated_text(elapsed: i64) -> String {
    format!("Updated {} ago", short_span(elapsed))
}

#[cfg(test)]
mod tests {
    use super::super::time::{DAY, HOUR, MINUTE, SECOND};
    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse("2025-11-05T12:00:00Z").expect("now parses")
    }

    fn card(status: Status) -> Card {
        Card::from_row(row(status), now())
    }

    fn row(status: Status) -> SyncRow {
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

    #[test]
    fn the_specs_line() {
        assert_eq!(
            card(Status::Success).status_line(now()),
            "Last synced 2 hours ago (150 records in 3.2s)"
        );
        let mut one = card(Status::Success);
        one.records_synced = Some(1);
        one.facts.last_sync_time = Some(now().plus(-MINUTE));
        assert_eq!(
            one.status_line(now()),
            "Last synced 1 minute ago (1 record in 3.2s)"
        );
        one.facts.last_sync_time = Some(now().plus(-10 * SECOND));
        one.records_synced = Some(12_345);
        one.facts.duration_ms = Some(425_000);
        assert_eq!(
            one.status_line(now()),
            "Last synced just now (12,345 records in 7m 5s)"
        );
        one.facts.last_sync_time = Some(now().plus(-3 * DAY));
        one.facts.duration_ms = None;
        assert_eq!(
            one.status_line(now()),
            "Last synced 3 days ago (12,345 records)"
        );
    }

    #[test]
    fn a_success_without_counts_shows_no_made_up_zero() {
        let c = Card::from_row(
            SyncRow {
                records_synced: Some(0),
                counts_reported: Some(false),
                ..row(Status::Success)
            },
            now(),
        );
        assert_eq!(c.records_synced, None);
        assert_eq!(c.status_line(now()), "Last synced 2 hours ago");
        let zero = Card::from_row(
            SyncRow {
                records_synced: Some(0),
                counts_reported: Some(true),
                ..row(Status::Success)
            },
            now(),
        );
        assert_eq!(
            zero.status_line(now()),
            "Last synced 2 hours ago (0 records in 3.2s)"
        );
    }

    #[test]
    fn a_run_heard_from_recently_is_not_stuck_however_long_it_runs() {
        let long = |heard: Option<i64>| {
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
    fn running_failed_and_never_lines() {
        let running = card(Status::Running);
        assert_eq!(running.status_line(now()), "Running for 12 minutes");
        assert_eq!(
            running.last_success_line(now()).as_deref(),
            Some("Last successful sync 2 hours ago")
        );
        assert_eq!(running.state(), State::Running);

        let mut failed = card(Status::Failed);
        assert_eq!(failed.status_line(now()), "Failed 5 minutes ago");
        failed.errors = vec![SyncError::default(); 2];
        assert_eq!(
            failed.status_line(now()),
            "Failed 5 minutes ago \u{b7} 2 errors"
        );
        failed.errors.truncate(1);
        assert_eq!(
            failed.status_line(now()),
            "Failed 5 minutes ago \u{b7} 1 error"
        );
        assert_eq!(
            (failed.health, failed.state()),
            (Health::Red, State::Failing)
        );

        let never = card(Status::NeverRun);
        assert_eq!(never.status_line(now()), "Never synced");
    }

    #[test]
    fn retry_lines_say_which_attempt_and_when() {
        let clock = |t: Timestamp| Some(format!("T{}", t.millis() / 1000));
        let mut c = card(Status::Failed);
        assert_eq!(c.retry_line(now(), clock), None, "no policy, no line");
        let at = now().plus(4 * MINUTE);
        c.retry = Retry::Waiting {
            attempt: 2,
            max: Some(5),
            at,
        };
        assert_eq!(
            c.retry_line(now(), clock).as_deref(),
            Some(format!("Retry 2 of 5 at T{} (in 4 minutes)", at.millis() / 1000).as_str())
        );
        assert_eq!(
            c.retry_line(now(), |_| None).as_deref(),
            Some("Retry 2 of 5 in 4 minutes"),
            "before local times may be written"
        );
        assert_eq!(
            c.retry_line(now().plus(5 * MINUTE), clock).as_deref(),
            Some("Retry 2 of 5 due now")
        );
        c.retry = Retry::GaveUp { attempts: 5 };
        assert_eq!(
            c.retry_line(now(), clock).as_deref(),
            Some("Gave up after 5 attempts")
        );
        c.facts.consecutive_failures = 1;
        assert_eq!(
            c.alert_text(Alert::RetriesExhausted, now()),
            "Gave up after 1 attempt"
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

    #[test]
    fn a_late_card_says_when_it_was_due_and_counts_under_late() {
        let mut row = row(Status::Success);
        row.expected_interval = Some("01:00:00".to_owned());
        row.started_at = Some(now().plus(-3 * HOUR));
        row.last_sync_time = Some(now().plus(-3 * HOUR).plus(4 * SECOND));
        let late = Card::from_row(row, now());
        assert_eq!(late.health, Health::Yellow);
        assert_eq!(late.alerts, [Alert::MissedSchedule, Alert::Late]);
        assert_eq!(late.state(), State::Late);
        assert_eq!(
            late.alert_text(Alert::Late, now()),
            "Late: due 2 h ago (every 1 h, grace 1 h)"
        );
        let cards = [late.clone(), card(Status::Success)];
        let counts = Counts::of(&cards);
        assert_eq!((counts.yellow, counts.green, counts.late), (1, 1, 1));
        assert_eq!(counts.get(Filter::Late), 1);
        assert!(late.matches(Some(Filter::Late), ""));
        assert!(late.matches(Some(Filter::Health(Health::Yellow)), ""));
        assert!(!cards[1].matches(Some(Filter::Late), ""));
    }

    #[test]
    fn alert_badges_explain_themselves() {
        let mut c = card(Status::Running);
        c.facts.started_at = Some(now().plus(-35 * MINUTE));
        assert_eq!(
            c.alert_text(Alert::Stuck, now()),
            "Stuck: running 35 min (limit 30 min)"
        );
        c.facts.last_sync_time = Some(now().plus(-30 * HOUR));
        assert_eq!(
            c.alert_text(Alert::Stale, now()),
            "Stale: last success 30 h ago (allowed 24 h)"
        );
        c.facts.consecutive_failures = 4;
        assert_eq!(
            c.alert_text(Alert::RepeatedFailures, now()),
            "Failed 4\u{d7} in a row"
        );
        c.facts.duration_ms = Some(420_000);
        assert_eq!(c.alert_text(Alert::Slow, now()), "Slow: took 7m (limit 5m)");
    }

    #[test]
    fn sorted_red_yellow_green_then_name_and_filtered() {
        let mk = |name: &str, health| {
            let mut c = card(Status::Success);
            c.resource = name.to_owned();
            c.health = health;
            c
        };
        let mut cards = vec![
            mk("b", Health::Green),
            mk("a", Health::Green),
            mk("z", Health::Red),
            mk("c", Health::Yellow),
            mk("a", Health::Red),
        ];
        sort_cards(&mut cards);
        let order: Vec<(&str, Health)> = cards
            .iter()
            .map(|c| (c.resource.as_str(), c.health))
            .collect();
        assert_eq!(
            order,
            [
                ("a", Health::Red),
                ("z", Health::Red),
                ("c", Health::Yellow),
                ("a", Health::Green),
                ("b", Health::Green)
            ]
        );
        let counts = Counts::of(&cards);
        assert_eq!(
            (counts.red, counts.yellow, counts.green, counts.total()),
            (2, 1, 2, 5)
        );
        assert!(cards[0].matches(Some(Filter::Health(Health::Red)), " A "));
        assert!(!cards[0].matches(Some(Filter::Health(Health::Green)), ""));
        assert!(!cards[0].matches(None, "zz"));
        assert_eq!(updated_text(12 * SECOND), "Updated 12 s ago");
    }
}
