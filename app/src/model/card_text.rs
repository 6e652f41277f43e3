//! What a card says: its main line, the last success, the retry line and the alert badges, in
//! words, at a given `now`. Components only place this text.

use super::card::{Card, Retry};
use super::health::{Alert, Status};
use super::span::{Span, ago, count, duration_text, short_span, span};
use super::time::{Timestamp, grouped};

impl Card {
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
                    match (self.records_synced, f.duration) {
                        (Some(n), Some(took)) => format!(
                            "Last synced {when} ({} in {})",
                            records(n),
                            duration_text(took)
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
                Some(if wait > Span::ZERO {
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
            Alert::Slow => match f.duration {
                Some(took) => format!(
                    "Slow: took {} (limit {})",
                    duration_text(took),
                    duration_text(t.slow_after)
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
}

pub(crate) fn records(n: i64) -> String {
    if n == 1 {
        "1 record".to_owned()
    } else {
        format!("{} records", grouped(n))
    }
}

/// `Gave up after 5 attempts`.
fn gave_up_text(attempts: i64) -> String {
    format!("Gave up after {}", count(attempts, "attempt"))
}

/// How fresh the shown data is: `Updated 12 s ago`, `Updated 3 min ago`, `Updated 2 h ago`.
pub fn updated_text(elapsed: Span) -> String {
    format!("Updated {} ago", short_span(elapsed))
}

#[cfg(test)]
mod tests {
    use super::super::card::State;
    use super::super::card::fixtures::{card, now, row};
    use super::super::health::Health;
    use super::super::listing::{Counts, Filter};
    use super::super::row::{SyncError, SyncRow};
    use super::super::span::{DAY, HOUR, MINUTE, SECOND};
    use super::*;

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
        one.facts.duration = Some(Span::from_millis(425_000));
        assert_eq!(
            one.status_line(now()),
            "Last synced just now (12,345 records in 7m 5s)"
        );
        one.facts.last_sync_time = Some(now().plus(-3 * DAY));
        one.facts.duration = None;
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
        let clock = |t: Timestamp| Some(format!("T{}", t.since_epoch() / SECOND));
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
            Some(
                format!(
                    "Retry 2 of 5 at T{} (in 4 minutes)",
                    at.since_epoch() / SECOND
                )
                .as_str()
            )
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
        c.facts.duration = Some(Span::from_millis(420_000));
        assert_eq!(c.alert_text(Alert::Slow, now()), "Slow: took 7m (limit 5m)");
    }
}
