//! The rows the widget holds, kept equal to the database's by reading only what changed.
//!
//! The widget reads every row once, then each refresh asks the database for the rows whose
//! `updated_at` is at or after the previous answer's clock less [`OVERLAP`], with a digest of
//! the same snapshot (`vantage_sync_health_changes`, migration 20261207190000). The store merges
//! the rows and checks its own digest against the database's: a deletion, an update it missed or
//! a change of schedules means it reads everything again. Health that changes with time is not
//! read at all: cards are computed from the rows at the answer's `now` by the model's rules.

use std::collections::BTreeMap;

use super::card::Card;
use super::listing::{Counts, sort_cards};
use super::row::SyncRow;
use super::span::{MINUTE, Span};
use super::time::Timestamp;

/// The checksum is a sum modulo 2^53, so that it travels exactly as a JSON number.
pub const CHECKSUM_MODULUS: i64 = 1 << 53;

/// How far before the previous answer's clock a refresh reads. A row's `updated_at` is the
/// time of its update, not of its commit: a write that committed after the previous answer was
/// read, but updated its row before that answer's clock, is still read if it took less than
/// this. A longer one is caught by the digest (and costs a full read).
pub const OVERLAP: Span = MINUTE;

/// The database's digest of what the reader may read, from the same snapshot as the rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    /// How many resources there are.
    pub total: usize,
    /// The sum of every row's `updated_at` in microseconds, modulo [`CHECKSUM_MODULUS`].
    pub checksum: i64,
    /// A fingerprint of the schedules and defaults (the thresholds rows are judged by).
    pub schedules: String,
}

/// Rows by resource name, in byte order (the view's collation "C").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowStore {
    rows: BTreeMap<String, SyncRow>,
}

impl RowStore {
    /// Puts `rows` in, each replacing the row of its resource.
    pub fn merge(&mut self, rows: Vec<SyncRow>) {
        for row in rows {
            self.rows.insert(row.resource.clone(), row);
        }
    }

    /// How many resources it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Its own checksum, computed as the database computes its digest's.
    pub fn checksum(&self) -> i64 {
        self.rows
            .values()
            .filter_map(|row| row.updated_at)
            .fold(0, |sum, t| {
                (sum + t.since_epoch().micros().rem_euclid(CHECKSUM_MODULUS)) % CHECKSUM_MODULUS
            })
    }

    /// Whether it holds exactly the rows the database's `digest` describes.
    pub fn agrees_with(&self, digest: &Digest) -> bool {
        self.len() == digest.total && self.checksum() == digest.checksum
    }

    /// Every card at `now`, sorted red, yellow, green, then name.
    pub fn cards(&self, now: Timestamp) -> Vec<Card> {
        let mut cards: Vec<Card> = self
            .rows
            .values()
            .map(|row| Card::from_row(row.clone(), now))
            .collect();
        sort_cards(&mut cards);
        cards
    }
}

/// Where the widget's copy of the rows stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Coverage {
    /// Nothing read yet, or what was read must be read again in full.
    #[default]
    Nothing,
    /// The first screen (the counts and the first cards): the rest is being read.
    Partial {
        /// The exact counts from the database, shown until every row is in.
        counts: Counts,
        /// How many resources there are.
        total: usize,
    },
    /// Every row, as of the database's clock `as_of`: the next refresh reads from there.
    Complete {
        /// The clock of the answer the copy is complete as of.
        as_of: Timestamp,
        /// The schedules' fingerprint then.
        schedules: String,
    },
}

impl Coverage {
    /// Where the next refresh reads from (`None`: read everything).
    pub fn reads_since(&self) -> Option<Timestamp> {
        match self {
            Self::Complete { as_of, .. } => Some(as_of.plus(-OVERLAP)),
            _ => None,
        }
    }

    /// After a refresh answered with `digest` at the database's `now`, once its rows are
    /// merged into `store`: still complete (as of `now`) when the store agrees with the digest
    /// and the schedules are the same, else everything must be read again.
    #[must_use]
    pub fn after_refresh(&self, store: &RowStore, digest: &Digest, now: Timestamp) -> Self {
        match self {
            Self::Complete { schedules, .. }
                if *schedules == digest.schedules && store.agrees_with(digest) =>
            {
                Self::Complete {
                    as_of: now,
                    schedules: digest.schedules.clone(),
                }
            }
            _ => Self::Nothing,
        }
    }

    /// The summary's counts: the database's until every row is in, then the cards' own.
    pub fn counts(&self, cards: &[Card]) -> Counts {
        match self {
            Self::Partial { counts, .. } => *counts,
            _ => Counts::of(cards),
        }
    }

    /// "Loading 3,000 of 10,007 resources" while the rest is read: (loaded, total).
    pub fn progress(&self, loaded: usize) -> Option<(usize, usize)> {
        match self {
            Self::Partial { total, .. } if loaded < *total => Some((loaded, *total)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::health::{Health, Status};
    use super::super::span::{HOUR, SECOND};
    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse("2026-12-07T12:00:00Z").expect("a valid time")
    }

    fn row(resource: &str, status: Status, updated: Span) -> SyncRow {
        SyncRow {
            last_sync_time: Some(now().plus(-HOUR)),
            created_at: Some(now().plus(-48 * HOUR)),
            updated_at: Some(now().plus(updated)),
            ..SyncRow::new(resource.to_owned(), status)
        }
    }

    fn digest(store: &RowStore) -> Digest {
        Digest {
            total: store.len(),
            checksum: store.checksum(),
            schedules: "s1".to_owned(),
        }
    }

    fn complete() -> Coverage {
        Coverage::Complete {
            as_of: now().plus(-30 * SECOND),
            schedules: "s1".to_owned(),
        }
    }

    #[test]
    fn merging_replaces_by_name_and_keeps_byte_order() {
        let mut store = RowStore::default();
        store.merge(vec![
            row("b", Status::Success, -HOUR),
            row("a", Status::Failed, -HOUR),
        ]);
        store.merge(vec![row("b", Status::Running, -SECOND)]);
        assert_eq!(store.len(), 2);
        let cards = store.cards(now());
        let names: Vec<&str> = cards.iter().map(|c| c.resource.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(cards[0].health, Health::Red);
        assert_eq!(cards[1].facts.status, Status::Running);
    }

    #[test]
    fn the_checksum_is_the_databases_sum_modulo_2_to_the_53() {
        let mut store = RowStore::default();
        store.merge(vec![
            row("a", Status::Success, Span::ZERO),
            row("b", Status::Success, Span::ZERO),
        ]);
        let micros = now().since_epoch().micros() % CHECKSUM_MODULUS;
        assert_eq!(store.checksum(), (2 * micros) % CHECKSUM_MODULUS);
        assert!(store.agrees_with(&digest(&store)));
    }

    #[test]
    fn a_refresh_that_agrees_stays_complete_as_of_its_clock() {
        let mut store = RowStore::default();
        store.merge(vec![row("a", Status::Success, -HOUR)]);
        let coverage = complete();
        assert_eq!(
            coverage.reads_since(),
            Some(now().plus(-30 * SECOND).plus(-OVERLAP))
        );
        let next = coverage.after_refresh(&store, &digest(&store), now());
        assert_eq!(next.reads_since(), Some(now().plus(-OVERLAP)));
    }

    #[test]
    fn a_missed_update_a_deletion_or_new_schedules_mean_reading_everything() {
        let mut store = RowStore::default();
        store.merge(vec![
            row("a", Status::Success, -HOUR),
            row("b", Status::Success, -HOUR),
        ]);
        let seen = digest(&store);
        // The database updated `a` after the copy was read, and the refresh did not see it.
        let missed = Digest {
            checksum: (seen.checksum + SECOND.micros()) % CHECKSUM_MODULUS,
            ..seen.clone()
        };
        assert_eq!(
            complete().after_refresh(&store, &missed, now()),
            Coverage::Nothing
        );
        // `b` was deleted.
        let deleted = Digest {
            total: 1,
            ..seen.clone()
        };
        assert_eq!(
            complete().after_refresh(&store, &deleted, now()),
            Coverage::Nothing
        );
        let rescheduled = Digest {
            schedules: "s2".to_owned(),
            ..seen
        };
        assert_eq!(
            complete().after_refresh(&store, &rescheduled, now()),
            Coverage::Nothing
        );
        // A copy that was never complete is read in full.
        assert_eq!(
            Coverage::Nothing.after_refresh(&store, &digest(&store), now()),
            Coverage::Nothing
        );
    }

    #[test]
    fn counts_come_from_the_database_until_every_row_is_in() {
        let mut store = RowStore::default();
        store.merge(vec![row("a", Status::Failed, Span::ZERO)]);
        let cards = store.cards(now());
        let database = Counts {
            red: 40,
            yellow: 2,
            green: 9000,
            late: 1,
        };
        let partial = Coverage::Partial {
            counts: database,
            total: 9042,
        };
        assert_eq!(partial.counts(&cards), database);
        assert_eq!(partial.progress(1), Some((1, 9042)));
        assert_eq!(partial.progress(9042), None);
        assert_eq!(complete().counts(&cards).red, 1);
        assert_eq!(complete().progress(1), None);
    }
}
