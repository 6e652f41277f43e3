//! The injected clock: the core never reads the system time itself, so it runs unchanged on
//! wasm32 (where `std::time::SystemTime::now` panics) and tests can pin "now".

/// A wall clock.
pub trait Clock {
    /// Milliseconds since the Unix epoch; fractions are welcome (they make latencies finer).
    fn now_unix_ms(&self) -> f64;
}

/// A clock that always says the same time, for tests and examples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedClock(pub f64);

impl Clock for FixedClock {
    fn now_unix_ms(&self) -> f64 {
        self.0
    }
}

/// Whole seconds since the Unix epoch, as JWT claims count them (saturating, NaN as 0).
pub(crate) fn unix_seconds(clock: &impl Clock) -> i64 {
    // `as` saturates for floats and maps NaN to 0: exactly what a clock reading needs.
    #[allow(clippy::cast_possible_truncation)]
    let seconds = (clock.now_unix_ms() / 1000.0).floor() as i64;
    seconds
}
