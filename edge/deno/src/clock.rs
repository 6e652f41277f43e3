//! The wall clock under Deno: `Date.now()` read once, then advanced with `performance.now()`,
//! so that latencies in the log line have fractions of a millisecond (`Date.now()` alone
//! counts whole milliseconds).

use vantage_edge_core::Clock;

use crate::js;

/// Milliseconds since the Unix epoch, from the JavaScript runtime.
#[derive(Debug, Clone, Copy)]
pub struct JsClock {
    /// `Date.now() - performance.now()` when the clock was made.
    origin_ms: f64,
}

impl JsClock {
    /// A clock anchored to `Date.now()`. Only callable under a JavaScript runtime.
    pub fn new() -> Self {
        Self {
            origin_ms: js_sys::Date::now() - js::performance_now(),
        }
    }
}

impl Default for JsClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for JsClock {
    fn now_unix_ms(&self) -> f64 {
        self.origin_ms + js::performance_now()
    }
}
