//! What the widget does after each read, decided without a browser: keep or clear the error,
//! back off and for how long, tell the page the session expired, when to read next. The
//! component that reads (`widget.rs`) carries the plan out; every rule is here, tested natively.

use super::refresh::retry_delay;
use super::span::Span;

/// How a read ended, as the rules see it (the reader's errors fold into these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadEnd {
    /// Every step was read.
    Read,
    /// The token was refused: the session expired.
    SessionExpired,
    /// Anything else went wrong: the last good data stays on screen.
    Failed,
}

/// What the rules remember from one read to the next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cadence {
    /// Failed reads in a row (an expired session is not counted: it is not the server's fault).
    pub failures: u32,
    /// Whether the expired session is what the widget shows now (the page was told once).
    pub expiry_shown: bool,
}

/// The error line after a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorLine {
    /// As it is.
    Keep,
    /// Gone: the read succeeded.
    Clear,
    /// This read's error.
    ThisRead,
}

/// The "retrying in …" countdown after a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Countdown {
    /// As it is.
    Keep,
    /// None pending.
    Clear,
    /// The automatic retry comes this long from now.
    In(Span),
}

/// What to do after a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The rules' memory for the next read.
    pub cadence: Cadence,
    /// The error line.
    pub error: ErrorLine,
    /// The retry countdown.
    pub countdown: Countdown,
    /// Tell the host page the session expired (its `vantage-sync:auth-required` event).
    pub tell_host_expired: bool,
    /// Read again this long from now; zero: at once.
    pub next_read_in: Span,
}

/// The plan after a read that ended as `end`, given what the rules remember (`cadence`),
/// whether another read was asked for while it ran (`follow_up`: a new token, a click), and
/// the refresh interval (`every`).
///
/// - A success clears the error and the failures and reads again after `every`.
/// - An expired session shows itself and tells the host once, then reads on at the usual pace,
///   so that a fresh token from the host ends it.
/// - Any other failure keeps the data, counts itself and retries after 1 s, 2 s, 4 s … 30 s.
/// - A read asked for meanwhile follows at once; an expiry seen before it may be the old
///   token's, so that read decides and nothing else changes.
pub fn after_read(end: ReadEnd, cadence: Cadence, follow_up: bool, every: Span) -> Plan {
    if follow_up && end == ReadEnd::SessionExpired {
        return Plan {
            cadence,
            error: ErrorLine::Keep,
            countdown: Countdown::Keep,
            tell_host_expired: false,
            next_read_in: Span::ZERO,
        };
    }
    let mut plan = match end {
        ReadEnd::Read => Plan {
            cadence: Cadence::default(),
            error: ErrorLine::Clear,
            countdown: Countdown::Clear,
            tell_host_expired: false,
            next_read_in: every,
        },
        ReadEnd::SessionExpired => Plan {
            cadence: Cadence {
                failures: cadence.failures,
                expiry_shown: true,
            },
            error: ErrorLine::ThisRead,
            countdown: Countdown::Clear,
            tell_host_expired: !cadence.expiry_shown,
            next_read_in: every,
        },
        ReadEnd::Failed => {
            let failures = cadence.failures.saturating_add(1);
            let delay = retry_delay(failures);
            Plan {
                cadence: Cadence {
                    failures,
                    expiry_shown: false,
                },
                error: ErrorLine::ThisRead,
                countdown: Countdown::In(delay),
                tell_host_expired: false,
                next_read_in: delay,
            }
        }
    };
    if follow_up {
        plan.next_read_in = Span::ZERO;
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::super::span::SECOND;
    use super::*;

    const EVERY: Span = SECOND.times(30);

    #[test]
    fn a_success_clears_everything_and_waits_the_interval() {
        let before = Cadence {
            failures: 3,
            expiry_shown: true,
        };
        let plan = after_read(ReadEnd::Read, before, false, EVERY);
        assert_eq!(
            plan,
            Plan {
                cadence: Cadence::default(),
                error: ErrorLine::Clear,
                countdown: Countdown::Clear,
                tell_host_expired: false,
                next_read_in: EVERY,
            }
        );
    }

    #[test]
    fn failures_back_off_1_2_4_seconds_up_to_30_and_keep_the_data() {
        let mut cadence = Cadence::default();
        let mut waits = Vec::new();
        for _ in 0..7 {
            let plan = after_read(ReadEnd::Failed, cadence, false, EVERY);
            assert_eq!(plan.error, ErrorLine::ThisRead);
            assert_eq!(plan.countdown, Countdown::In(plan.next_read_in));
            assert!(!plan.tell_host_expired);
            waits.push(plan.next_read_in / SECOND);
            cadence = plan.cadence;
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(cadence.failures, 7);
    }

    #[test]
    fn an_expired_session_tells_the_host_once_and_reads_on_at_the_usual_pace() {
        let first = after_read(ReadEnd::SessionExpired, Cadence::default(), false, EVERY);
        assert!(first.tell_host_expired);
        assert_eq!(first.error, ErrorLine::ThisRead);
        assert_eq!(first.countdown, Countdown::Clear);
        assert_eq!(first.next_read_in, EVERY);
        assert!(first.cadence.expiry_shown);
        let again = after_read(ReadEnd::SessionExpired, first.cadence, false, EVERY);
        assert!(!again.tell_host_expired, "told once");
        // A failure in between is another error on screen: a later expiry is news again.
        let failed = after_read(ReadEnd::Failed, again.cadence, false, EVERY);
        assert!(!failed.cadence.expiry_shown);
        assert!(
            after_read(ReadEnd::SessionExpired, failed.cadence, false, EVERY).tell_host_expired
        );
    }

    #[test]
    fn an_expiry_keeps_the_count_of_failures_before_it() {
        let failing = Cadence {
            failures: 2,
            expiry_shown: false,
        };
        let plan = after_read(ReadEnd::SessionExpired, failing, false, EVERY);
        assert_eq!(plan.cadence.failures, 2);
    }

    #[test]
    fn a_read_asked_for_meanwhile_follows_at_once() {
        for end in [ReadEnd::Read, ReadEnd::Failed] {
            let plan = after_read(end, Cadence::default(), true, EVERY);
            assert_eq!(plan.next_read_in, Span::ZERO, "{end:?}");
            assert_eq!(
                plan.cadence,
                after_read(end, Cadence::default(), false, EVERY).cadence
            );
        }
    }

    #[test]
    fn an_expiry_before_a_follow_up_changes_nothing_but_reads_at_once() {
        let before = Cadence {
            failures: 1,
            expiry_shown: false,
        };
        let plan = after_read(ReadEnd::SessionExpired, before, true, EVERY);
        assert_eq!(
            plan,
            Plan {
                cadence: before,
                error: ErrorLine::Keep,
                countdown: Countdown::Keep,
                tell_host_expired: false,
                next_read_in: Span::ZERO,
            }
        );
    }
}
