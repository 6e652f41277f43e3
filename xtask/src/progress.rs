//! Progress lines for long work: what is being done, then how it ended and how long it took.

use std::time::Instant;

/// One step of a longer command, printed as `==> title` and closed with `ok`/`FAILED` and time.
pub struct Step {
    title: String,
    started: Instant,
}

impl Step {
    /// Prints the step's title and starts its clock.
    pub fn start(title: impl Into<String>) -> Self {
        let title = title.into();
        println!("==> {title}");
        Self {
            title,
            started: Instant::now(),
        }
    }

    /// Prints a detail line under the step.
    #[allow(clippy::unused_self)] // a method, so that notes can only be made inside a step
    pub fn note(&self, line: impl AsRef<str>) {
        println!("    {}", line.as_ref());
    }

    /// Seconds since the step started.
    pub fn elapsed_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Closes the step as done.
    pub fn done(self) {
        println!("    ok: {} ({:.1}s)", self.title, self.elapsed_secs());
    }

    /// Closes the step as failed.
    pub fn failed(self) {
        println!("    FAILED: {} ({:.1}s)", self.title, self.elapsed_secs());
    }
}
