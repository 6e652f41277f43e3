//! Spans of time: one type for every duration the widget holds, and their words.
//!
//! A span is microseconds, PostgreSQL's resolution, so the model compares with the health
//! view's intervals exactly. Its arithmetic is `i64`'s, as plain as before it had a type
//! (the spans of sync state are centuries from overflowing; a bundle pays for every check),
//! except where a value from outside may be anything ([`Span::checked_add`], and instants'
//! `plus` and `since`, which saturate). Milliseconds (the database's `duration_ms`, JavaScript's timers)
//! come in and go out only through [`Span::from_millis`] and [`Span::to_std`].

use std::ops::{Add, Div, Mul, Neg, Sub};
use std::time::Duration;

/// A span of time in microseconds; negative when it runs backwards (a clock ahead of ours).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(i64);

/// One second.
pub const SECOND: Span = Span(1_000_000);
/// One minute.
pub const MINUTE: Span = SECOND.times(60);
/// One hour.
pub const HOUR: Span = MINUTE.times(60);
/// One day.
pub const DAY: Span = HOUR.times(24);

impl Span {
    /// No time at all.
    pub const ZERO: Self = Self(0);

    /// `micros` microseconds.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// `millis` milliseconds (the database's `duration_ms`).
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis * 1000)
    }

    /// In microseconds.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// In whole milliseconds, rounded down.
    pub const fn millis(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// The span without its sign.
    #[must_use]
    pub const fn abs(self) -> Self {
        Self(self.0.abs())
    }

    /// For a timer: a span that ran out (zero or negative) is no wait at all.
    pub fn to_std(self) -> Duration {
        Duration::from_micros(u64::try_from(self.0).unwrap_or(0))
    }

    /// `self` times `n`, also in constants: `SECOND.times(30)`.
    #[must_use]
    pub const fn times(self, n: i64) -> Self {
        Self(self.0 * n)
    }

    /// `self` times `n`, or `None` past the range of a span.
    pub const fn checked_mul(self, n: i64) -> Option<Self> {
        match self.0.checked_mul(n) {
            Some(micros) => Some(Self(micros)),
            None => None,
        }
    }

    /// `self` plus `other`, or `None` past the range of a span.
    pub const fn checked_add(self, other: Self) -> Option<Self> {
        match self.0.checked_add(other.0) {
            Some(micros) => Some(Self(micros)),
            None => None,
        }
    }
}

impl Add for Span {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self(self.0 + other.0)
    }
}

impl Sub for Span {
    type Output = Self;
    fn sub(self, other: Self) -> Self {
        Self(self.0 - other.0)
    }
}

impl Neg for Span {
    type Output = Self;
    fn neg(self) -> Self {
        Self(-self.0)
    }
}

/// `30 * MINUTE`.
impl Mul<Span> for i64 {
    type Output = Span;
    fn mul(self, span: Span) -> Span {
        span.times(self)
    }
}

/// `SECOND / 2`.
impl Div<i64> for Span {
    type Output = Self;
    fn div(self, n: i64) -> Self {
        Self(self.0 / n)
    }
}

/// How many whole `unit`s fit: `elapsed / MINUTE`.
impl Div for Span {
    type Output = i64;
    fn div(self, unit: Self) -> i64 {
        self.0 / unit.0
    }
}

/// `n unit` with the unit in the plural unless `n` is 1: `1 minute`, `5 minutes`.
pub fn count(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// How long ago something happened, in words: `just now` (under a minute, or a little in the
/// future because of clock skew), `5 minutes ago`, `2 hours ago`, `3 days ago`.
pub fn ago(elapsed: Span) -> String {
    if elapsed < MINUTE {
        "just now".to_owned()
    } else {
        format!("{} ago", span(elapsed))
    }
}

/// A span in the largest whole unit: `less than a minute`, `12 minutes`, `2 hours`, `3 days`.
pub fn span(length: Span) -> String {
    if length < MINUTE {
        "less than a minute".to_owned()
    } else if length < HOUR {
        count(length / MINUTE, "minute")
    } else if length < DAY {
        count(length / HOUR, "hour")
    } else {
        count(length / DAY, "day")
    }
}

/// A span in short units for badges: `45 s`, `35 min`, `30 h`, `3 d` (hours up to two days, so
/// a 24-hour limit and a 30-hour age read in the same unit).
pub fn short_span(length: Span) -> String {
    let length = length.max(Span::ZERO);
    if length < MINUTE {
        format!("{} s", length / SECOND)
    } else if length < HOUR {
        format!("{} min", length / MINUTE)
    } else if length < 2 * DAY {
        format!("{} h", length / HOUR)
    } else {
        format!("{} d", length / DAY)
    }
}

/// A sync's duration as the spec writes it: `3.2s` under a minute (tenths, rounded), then
/// `7m 5s`, then `1h 5m`.
pub fn duration_text(length: Span) -> String {
    let millis = length.millis().max(0);
    let tenths = (millis + 50) / 100;
    if tenths < 600 {
        return format!("{}.{}s", tenths / 10, tenths % 10);
    }
    let seconds = (millis + 500) / 1000;
    if seconds < 3600 {
        match seconds % 60 {
            0 => format!("{}m", seconds / 60),
            s => format!("{}m {s}s", seconds / 60),
        }
    } else {
        format!("{}h {}m", seconds / 3600, seconds % 3600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_time_reads_naturally() {
        let cases = [
            (Span::ZERO, "just now"),
            (59 * SECOND, "just now"),
            (-5 * SECOND, "just now"),
            (MINUTE, "1 minute ago"),
            (5 * MINUTE + 59 * SECOND, "5 minutes ago"),
            (HOUR, "1 hour ago"),
            (2 * HOUR + 30 * MINUTE, "2 hours ago"),
            (DAY - Span::from_micros(1), "23 hours ago"),
            (DAY, "1 day ago"),
            (3 * DAY + 5 * HOUR, "3 days ago"),
        ];
        for (elapsed, text) in cases {
            assert_eq!(ago(elapsed), text, "{elapsed:?}");
        }
        assert_eq!(span(30 * SECOND), "less than a minute");
        assert_eq!(span(12 * MINUTE), "12 minutes");
        assert_eq!(span(HOUR), "1 hour");
    }

    #[test]
    fn durations_read_like_the_spec() {
        let cases = [
            (0, "0.0s"),
            (3200, "3.2s"),
            (3249, "3.2s"),
            (3250, "3.3s"),
            (59_949, "59.9s"),
            (59_950, "1m"),
            (60_000, "1m"),
            (425_000, "7m 5s"),
            (3_600_000, "1h 0m"),
            (3_900_000, "1h 5m"),
        ];
        for (millis, text) in cases {
            assert_eq!(
                duration_text(Span::from_millis(millis)),
                text,
                "{millis} ms"
            );
        }
    }

    #[test]
    fn short_spans() {
        assert_eq!(short_span(45 * SECOND), "45 s");
        assert_eq!(short_span(35 * MINUTE), "35 min");
        assert_eq!(short_span(30 * HOUR), "30 h");
        assert_eq!(short_span(3 * DAY), "3 d");
        assert_eq!(short_span(-SECOND), "0 s");
    }

    #[test]
    fn milliseconds_go_in_and_out_exactly() {
        assert_eq!(Span::from_millis(1500), SECOND + SECOND / 2);
        assert_eq!((SECOND + SECOND / 2).millis(), 1500);
        assert_eq!(Span::from_micros(-1).millis(), -1, "rounded down");
        assert_eq!((3 * SECOND).to_std(), Duration::from_secs(3));
        assert_eq!((-SECOND).to_std(), Duration::ZERO);
        assert_eq!(MINUTE.checked_mul(i64::MAX), None);
    }
}
