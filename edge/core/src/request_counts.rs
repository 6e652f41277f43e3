//! The edge's own request counters, by route and status, in memory: per process natively, per
//! isolate under Deno (a new isolate starts from zero, which Prometheus reads as a counter
//! reset). Counted once per answered request, where its log line is made (`serve`).
//!
//! The number of series is bounded: a route is one of the fixed route names or
//! `unknown`, and a status one the edge itself answers (about a
//! dozen). The lock is held only to add one or copy the map, never across an `await`.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// Requests answered, by route name and status.
#[derive(Debug, Default)]
pub struct RequestCounts {
    counts: Mutex<BTreeMap<(&'static str, u16), u64>>,
}

impl RequestCounts {
    /// Counts one answered request.
    pub fn record(&self, route: &'static str, status: u16) {
        // A panic elsewhere while adding one cannot leave the map half-written: use it anyway.
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.entry((route, status)).or_insert(0) += 1;
    }

    /// Every count so far, ordered by route, then status.
    pub fn snapshot(&self) -> Vec<(&'static str, u16, u64)> {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts
            .iter()
            .map(|(&(route, status), &count)| (route, status, count))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_by_route_and_status() {
        let counts = RequestCounts::default();
        assert!(counts.snapshot().is_empty());
        counts.record("start", 200);
        counts.record("health", 401);
        counts.record("start", 200);
        counts.record("unknown", 404);
        assert_eq!(
            counts.snapshot(),
            vec![("health", 401, 1), ("start", 200, 2), ("unknown", 404, 1)]
        );
    }

    #[test]
    fn threads_count_without_losing_any() {
        let counts = std::sync::Arc::new(RequestCounts::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counts = std::sync::Arc::clone(&counts);
                std::thread::spawn(move || (0..1000).for_each(|_| counts.record("sweep", 200)))
            })
            .collect();
        for thread in threads {
            thread.join().expect("a counting thread panicked");
        }
        assert_eq!(counts.snapshot(), vec![("sweep", 200, 4000)]);
    }
}
