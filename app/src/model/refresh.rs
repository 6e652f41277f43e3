//! When to read again, and what changed between two reads: the rules behind auto-refresh,
//! the error banner's "retrying in 8 s", the `aria-live` announcements and the host page's
//! health-change events.

use super::card::{Card, State};
use super::health::Health;
use super::span::{SECOND, Span, short_span};
use super::time::Timestamp;

/// The first retry after a failed read comes this soon; each further one waits twice as long.
pub const FIRST_RETRY: Span = SECOND;

/// Retries never wait longer than this.
pub const MAX_RETRY: Span = SECOND.times(30);

/// How long to wait after `failures` failed reads in a row (at least 1):
/// 1 s, 2 s, 4 s … up to 30 s.
pub fn retry_delay(failures: u32) -> Span {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_RETRY.times(1 << doublings).min(MAX_RETRY)
}

/// "retrying in 8 s" until `next_at`, "retrying now" once it is due.
pub fn retry_text(next_at: Timestamp, now: Timestamp) -> String {
    let left = next_at.since(now);
    if left < SECOND {
        "retrying now".to_owned()
    } else {
        // Round up: "in 1 s" until the second has passed, never "in 0 s".
        format!(
            "retrying in {}",
            short_span(left + SECOND - Span::from_micros(1))
        )
    }
}

/// A resource whose health changed between two reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthChange {
    /// The resource.
    pub resource: String,
    /// Its health before.
    pub from: Health,
    /// Its health now.
    pub to: Health,
    /// What its card says now.
    pub state: State,
}

impl HealthChange {
    /// The sentence screen readers hear: "funds is now Failing".
    pub fn announcement(&self) -> String {
        format!("{} is now {}", self.resource, self.state.word())
    }
}

/// The resources in `before` whose health differs in `after` (by name; resources that appear
/// or disappear are not changes). In `after`'s order.
pub fn health_changes(before: &[Card], after: &[Card]) -> Vec<HealthChange> {
    after
        .iter()
        .filter_map(|card| {
            let old = before.iter().find(|b| b.resource == card.resource)?;
            (old.health != card.health).then(|| HealthChange {
                resource: card.resource.clone(),
                from: old.health,
                to: card.health,
                state: card.state(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Status, SyncRow, Timestamp};

    #[test]
    fn retries_back_off_from_one_to_thirty_seconds() {
        let seconds: Vec<i64> = (1..=8).map(|n| retry_delay(n) / SECOND).collect();
        assert_eq!(seconds, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(retry_delay(0), SECOND);
        assert_eq!(retry_delay(u32::MAX), MAX_RETRY);
    }

    #[test]
    fn the_retry_countdown_rounds_up_and_ends_at_now() {
        let now = Timestamp::EPOCH.plus(Span::from_millis(1_000_000));
        assert_eq!(retry_text(now.plus(8 * SECOND), now), "retrying in 8 s");
        assert_eq!(
            retry_text(now.plus(7 * SECOND + Span::from_micros(1)), now),
            "retrying in 8 s"
        );
        assert_eq!(retry_text(now.plus(SECOND), now), "retrying in 1 s");
        assert_eq!(retry_text(now.plus(SECOND / 2), now), "retrying now");
        assert_eq!(retry_text(now.plus(-SECOND), now), "retrying now");
    }

    fn card(resource: &str, health: &str, status: &str) -> Card {
        let row = SyncRow {
            health: Health::from_name(health),
            ..SyncRow::new(resource.to_owned(), Status::from_name(status))
        };
        Card::from_row(row, Timestamp::EPOCH)
    }

    #[test]
    fn only_health_changes_of_known_resources_count() {
        let before = [
            card("accounts", "green", "success"),
            card("funds", "green", "success"),
            card("gone", "red", "failed"),
        ];
        let after = [
            card("funds", "red", "failed"),
            card("accounts", "green", "running"),
            card("new", "yellow", "never_run"),
        ];
        let changes = health_changes(&before, &after);
        assert_eq!(
            changes,
            [HealthChange {
                resource: "funds".into(),
                from: Health::Green,
                to: Health::Red,
                state: State::Failing,
            }]
        );
        assert_eq!(changes[0].announcement(), "funds is now Failing");
    }
}
