//! Instants, parsed and written without a date library.
//!
//! The widget only needs three things from time: parse PostgREST's `timestamptz` text and the
//! HTTP `Date` header, subtract, and say the difference in plain English. Doing that by hand
//! keeps a date crate (and its formatting tables) out of the bundle; the user's local time zone
//! is left to the browser's `Intl` (see `browser.rs`). Spans and their words are `span.rs`'s.

use super::span::{DAY, HOUR, MINUTE, SECOND, Span};

/// An instant: microseconds since the Unix epoch, UTC. PostgreSQL keeps microseconds, so the
/// model compares instants exactly as the health view does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// 1970-01-01T00:00:00Z.
    pub const EPOCH: Self = Self(0);

    /// The span from the epoch to this instant (negative before it).
    pub const fn since_epoch(self) -> Span {
        Span::from_micros(self.0)
    }

    /// This instant moved by `span` (a negative one moves it back).
    #[must_use]
    pub const fn plus(self, span: Span) -> Self {
        Self(self.0.saturating_add(span.micros()))
    }

    /// The span from `earlier` to `self` (negative if `earlier` is later).
    pub const fn since(self, earlier: Self) -> Span {
        Span::from_micros(self.0.saturating_sub(earlier.0))
    }

    /// Parses RFC 3339 / ISO 8601 as PostgREST writes `timestamptz`:
    /// `2025-11-05T10:00:00.123456+00:00`, also with `Z`, a space for `T`, `+0100` or `+01`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut c = Cursor::new(text.trim());
        let year = c.digits(4)?;
        c.expect(b'-')?;
        let month = c.digits(2)?;
        c.expect(b'-')?;
        let day = c.digits(2)?;
        if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
            return None;
        }
        let (hour, minute, second) = c.clock()?;
        let mut micros = 0;
        if c.eat(b'.') {
            let mut scale = 100_000;
            let mut any = false;
            while let Some(d) = c.digit() {
                micros += d * scale;
                scale /= 10;
                any = true;
            }
            if !any {
                return None;
            }
        }
        let offset = if c.eat(b'Z') || c.eat(b'z') {
            Span::ZERO
        } else {
            let sign = if c.eat(b'+') {
                1
            } else if c.eat(b'-') {
                -1
            } else {
                return None;
            };
            let hours = c.digits(2)?;
            c.eat(b':');
            let minutes = if c.done() { 0 } else { c.digits(2)? };
            sign * (hours * HOUR + minutes * MINUTE)
        };
        if !c.done() {
            return None;
        }
        let days = days_from_civil(year, month, day)?;
        let local = days * DAY + hour * HOUR + minute * MINUTE + second * SECOND;
        Some(Self((local - offset).micros() + micros))
    }

    /// Parses an HTTP `Date` header (IMF-fixdate): `Wed, 05 Nov 2025 12:00:00 GMT`.
    pub fn parse_http_date(text: &str) -> Option<Self> {
        let (_weekday, rest) = text.trim().split_once(", ")?;
        let mut c = Cursor::new(rest);
        let day = c.digits(2)?;
        c.expect(b' ')?;
        let name = c.take(3)?;
        let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name))?;
        c.expect(b' ')?;
        let year = c.digits(4)?;
        c.expect(b' ')?;
        let (hour, minute, second) = c.clock()?;
        c.expect(b' ')?;
        if c.take(3)? != "GMT" || !c.done() {
            return None;
        }
        let month = i64::try_from(month).ok()? + 1;
        let days = days_from_civil(year, month, day)?;
        let since_epoch = days * DAY + hour * HOUR + minute * MINUTE + second * SECOND;
        Some(Self(since_epoch.micros()))
    }

    /// RFC 3339 in UTC with millisecond precision, for `<time datetime>`:
    /// `2025-11-05T10:00:00.000Z`.
    pub fn to_rfc3339(self) -> String {
        let (day_length, hour, minute, second) = (
            DAY.micros(),
            HOUR.micros(),
            MINUTE.micros(),
            SECOND.micros(),
        );
        let days = self.0.div_euclid(day_length);
        let of_day = self.0.rem_euclid(day_length);
        let (year, month, day) = civil_from_days(days);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            of_day / hour,
            of_day % hour / minute,
            of_day % minute / second,
            of_day % second / 1000
        )
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`), or
/// `None` for a month or day that does not exist.
fn days_from_civil(year: i64, month: i64, day: i64) -> Option<i64> {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        _ => return None,
    };
    if !(1..=month_days).contains(&day) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y.rem_euclid(400);
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A byte cursor for the fixed-width formats above.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    fn done(&self) -> bool {
        self.pos == self.text.len()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.text.as_bytes().get(self.pos) == Some(&byte);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    fn take(&mut self, n: usize) -> Option<&'a str> {
        let s = self.text.get(self.pos..self.pos + n)?;
        self.pos += n;
        Some(s)
    }

    fn digit(&mut self) -> Option<i64> {
        let b = *self.text.as_bytes().get(self.pos)?;
        if b.is_ascii_digit() {
            self.pos += 1;
            Some(i64::from(b - b'0'))
        } else {
            None
        }
    }

    fn digits(&mut self, n: usize) -> Option<i64> {
        (0..n).try_fold(0, |acc, _| Some(acc * 10 + self.digit()?))
    }

    /// `HH:MM:SS`, range-checked (a leap second 60 is accepted, as PostgreSQL does).
    fn clock(&mut self) -> Option<(i64, i64, i64)> {
        let hour = self.digits(2)?;
        self.expect(b':')?;
        let minute = self.digits(2)?;
        self.expect(b':')?;
        let second = self.digits(2)?;
        (hour < 24 && minute < 60 && second <= 60).then_some((hour, minute, second))
    }
}

/// Parses a PostgreSQL `interval` as PostgREST returns it (`IntervalStyle` `postgres`):
/// `00:30:00`, `1 day`, `2 days 01:00:00.5`, `1 mon` (30 days), `1 year` (365.25 days).
/// `None` for text in another style.
pub fn parse_interval(text: &str) -> Option<Span> {
    let mut total = Span::ZERO;
    let mut words = text.split_whitespace().peekable();
    let mut any = false;
    while let Some(word) = words.next() {
        any = true;
        if word.contains(':') {
            total = total.checked_add(parse_clock_span(word)?)?;
            continue;
        }
        let n: i64 = word.parse().ok()?;
        let unit = words.next()?;
        let size = match unit.trim_end_matches('s') {
            "year" => 365 * DAY + DAY / 4,
            "mon" => 30 * DAY,
            "day" => DAY,
            "hour" => HOUR,
            "min" | "minute" => MINUTE,
            "sec" | "second" => SECOND,
            _ => return None,
        };
        total = total.checked_add(size.checked_mul(n)?)?;
    }
    any.then_some(total)
}

/// `[-]HH:MM:SS[.ffffff]` of an interval (hours may exceed 24).
fn parse_clock_span(word: &str) -> Option<Span> {
    let (sign, word) = match word.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, word.strip_prefix('+').unwrap_or(word)),
    };
    let mut parts = word.split(':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let seconds = parts.next().unwrap_or("0");
    if parts.next().is_some() {
        return None;
    }
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    let whole: i64 = whole.parse().ok()?;
    let mut micros = 0;
    let mut scale = 100_000;
    for b in fraction.bytes().take(6) {
        if !b.is_ascii_digit() {
            return None;
        }
        micros += i64::from(b - b'0') * scale;
        scale /= 10;
    }
    Some(sign * (hours * HOUR + minutes * MINUTE + whole * SECOND + Span::from_micros(micros)))
}

/// A whole number with thousands separators: `1,234,567`.
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        let Some(t) = Timestamp::parse(text) else {
            panic!("{text} parses")
        };
        t
    }

    #[test]
    fn parses_what_postgrest_writes() {
        let base = at("2025-11-05T12:00:00Z");
        assert_eq!(base.since_epoch(), 1_762_344_000 * SECOND);
        assert_eq!(at("2025-11-05T12:00:00+00:00"), base);
        assert_eq!(at("2025-11-05 13:00:00+01"), base);
        assert_eq!(at("2025-11-05T07:00:00-0500"), base);
        assert_eq!(
            at("2025-11-05T12:00:00.123456+00:00"),
            base.plus(Span::from_micros(123_456))
        );
        assert_eq!(
            at("2025-11-05T12:00:00.8Z"),
            base.plus(Span::from_millis(800))
        );
        assert_eq!(at("1969-12-31T23:59:59Z").since_epoch(), -SECOND);
        assert_eq!(
            at("2024-02-29T00:00:00Z").since(at("2024-02-28T00:00:00Z")),
            DAY
        );
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for bad in [
            "",
            "2025-11-05",
            "2025-11-05T12:00:00",
            "2025-13-05T12:00:00Z",
            "2025-02-29T12:00:00Z",
            "2025-11-05T24:00:00Z",
            "2025-11-05T12:00:00.Z",
            "2025-11-05T12:00:00Zjunk",
            "yesterday",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parses_the_http_date_header() {
        assert_eq!(
            Timestamp::parse_http_date("Wed, 05 Nov 2025 12:00:00 GMT"),
            Some(at("2025-11-05T12:00:00Z"))
        );
        assert_eq!(
            Timestamp::parse_http_date("Wed, 05 Nov 2025 12:00:00"),
            None
        );
        assert_eq!(
            Timestamp::parse_http_date("Wed, 05 Foo 2025 12:00:00 GMT"),
            None
        );
    }

    #[test]
    fn writes_rfc3339_and_reads_it_back() {
        for text in [
            "2025-11-05T12:00:00.000Z",
            "1999-12-31T23:59:59.999Z",
            "2024-02-29T06:07:08.090Z",
            "1969-07-20T20:17:40.000Z",
        ] {
            assert_eq!(at(text).to_rfc3339(), text);
        }
    }

    #[test]
    fn parses_postgres_intervals() {
        assert_eq!(parse_interval("00:30:00"), Some(30 * MINUTE));
        assert_eq!(parse_interval("24:00:00"), Some(DAY));
        assert_eq!(parse_interval("1 day"), Some(DAY));
        assert_eq!(
            parse_interval("2 days 01:00:00.5"),
            Some(2 * DAY + HOUR + SECOND / 2)
        );
        assert_eq!(parse_interval("1 mon"), Some(30 * DAY));
        assert_eq!(parse_interval("-00:00:01"), Some(-SECOND));
        assert_eq!(parse_interval("PT30M"), None);
        assert_eq!(parse_interval(""), None);
    }

    #[test]
    fn grouped_numbers() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(150), "150");
        assert_eq!(grouped(1234), "1,234");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(-1000), "-1,000");
    }
}
