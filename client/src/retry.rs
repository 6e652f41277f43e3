//! How long a call is retried, and the pauses between attempts. Pure: the caller sleeps.

use std::time::Duration;

/// Retries of one call: exponential backoff from `first` to `max`, for at most `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How long a call is tried in all before it is given up (`--retry-for`).
    pub total: Duration,
    /// The first pause.
    pub first: Duration,
    /// The longest pause.
    pub max: Duration,
    /// The time limit of one attempt.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    /// 2 minutes in all, pauses from 0.5 s doubling to 10 s, 30 s per attempt.
    fn default() -> Self {
        Self {
            total: Duration::from_secs(120),
            first: Duration::from_millis(500),
            max: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The pause after failed attempt `attempt` (1-based), stretched to what the server asked
    /// for (`Retry-After`) and spread by `jitter` (0.0 to 1.0: up to a quarter more), or `None`
    /// when `elapsed` plus that pause would pass `total`.
    pub fn pause(
        &self,
        attempt: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        let doubled = self
            .first
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let backoff = doubled
            .min(self.max)
            .mul_f64(1.0 + jitter.clamp(0.0, 1.0) / 4.0);
        let pause = retry_after.map_or(backoff, |asked| asked.min(self.max).max(backoff));
        (elapsed + pause < self.total).then_some(pause)
    }
}

/// A number from 0.0 to 1.0 that differs between processes and calls, for jitter (50
/// wrappers started by one cron minute do not retry in step).
pub fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mixed = (nanos ^ std::process::id().rotate_left(16)).wrapping_mul(2_654_435_761);
    f64::from(mixed % 1000) / 1000.0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn pauses_double_up_to_the_max_and_stop_at_the_total() {
        let policy = RetryPolicy {
            total: S(30),
            ..RetryPolicy::default()
        };
        let pauses: Vec<_> = (1..=7).map(|n| policy.pause(n, S(0), None, 0.0)).collect();
        assert_eq!(
            pauses,
            [
                Some(Duration::from_millis(500)),
                Some(S(1)),
                Some(S(2)),
                Some(S(4)),
                Some(S(8)),
                Some(S(10)),
                Some(S(10)),
            ]
        );
        assert_eq!(policy.pause(3, S(28), None, 0.0), None);
        assert_eq!(policy.pause(40, S(0), None, 0.0), Some(S(10)));
    }

    #[test]
    fn retry_after_is_honoured_within_the_max() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.pause(1, S(0), Some(S(5)), 0.0), Some(S(5)));
        assert_eq!(policy.pause(1, S(0), Some(S(600)), 0.0), Some(S(10)));
    }

    #[test]
    fn jitter_stays_within_a_quarter() {
        let policy = RetryPolicy::default();
        let pause = policy.pause(2, S(0), None, jitter()).unwrap();
        assert!(
            pause >= S(1) && pause <= Duration::from_millis(1250),
            "{pause:?}"
        );
    }
}
