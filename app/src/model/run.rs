//! One run of a resource's history (`vantage_sync_runs`), as the card's bar chart shows it:
//! a bar per run, as tall as its duration against the longest shown, coloured by status, with
//! its values in words for hover, focus and screen readers.

use super::card_text::records;
use super::health::Status;
use super::span::{Span, count, duration_text};
use super::time::Timestamp;

/// What the chart needs of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSummary {
    /// `success`, `failed` or `running`.
    pub status: Status,
    /// When it started.
    pub started_at: Timestamp,
    /// How long it took, once finished.
    pub duration: Option<Span>,
    /// Records synced, on success.
    pub records_synced: Option<i64>,
    /// How many errors it failed with.
    pub error_count: usize,
}

impl RunSummary {
    /// The bar's height in percent of the chart: its duration against the longest of `runs`
    /// (running or unknown: full height, so it stands out; never below 8 so every bar shows).
    pub fn bar_percent(&self, runs: &[Self]) -> u32 {
        let longest = longest(runs).unwrap_or(Span::ZERO);
        match self.duration {
            Some(took) if longest > Span::ZERO => {
                let percent = took.times(100) / longest;
                u32::try_from(percent.clamp(8, 100)).unwrap_or(100)
            }
            _ => 100,
        }
    }

    /// The run in words: "Success · 3.2s · 150 records", "Failed · 31.0s · 2 errors",
    /// "Running". The start time is added by the view (in the user's time zone).
    pub fn describe(&self) -> String {
        let word = match self.status {
            Status::Success => "Success",
            Status::Failed => "Failed",
            Status::Running => "Running",
            Status::NeverRun | Status::Other => "Unknown",
        };
        let mut parts = vec![word.to_owned()];
        if let Some(took) = self.duration {
            parts.push(duration_text(took));
        }
        match self.status {
            Status::Success => parts.extend(self.records_synced.map(records)),
            Status::Failed => parts.push(count(
                i64::try_from(self.error_count).unwrap_or(i64::MAX),
                "error",
            )),
            _ => {}
        }
        parts.join(" \u{b7} ")
    }

    /// The chart's scale in words, the duration a full-height finished bar stands for:
    /// "longest 7m". `None` when no shown run has finished.
    pub fn scale_text(runs: &[Self]) -> Option<String> {
        longest(runs).map(|took| format!("longest {}", duration_text(took)))
    }

    /// The CSS class of its status.
    pub fn class(&self) -> &'static str {
        match self.status {
            Status::Success => "vss-run-success",
            Status::Failed => "vss-run-failed",
            Status::Running => "vss-run-running",
            Status::NeverRun | Status::Other => "vss-run-other",
        }
    }
}

/// The longest duration among `runs` that finished.
fn longest(runs: &[RunSummary]) -> Option<Span> {
    runs.iter().filter_map(|r| r.duration).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: Status, duration_ms: Option<i64>) -> RunSummary {
        RunSummary {
            status,
            started_at: Timestamp::EPOCH,
            duration: duration_ms.map(Span::from_millis),
            records_synced: Some(150),
            error_count: 2,
        }
    }

    #[test]
    fn bars_scale_to_the_longest_run() {
        let runs = [
            run(Status::Success, Some(4000)),
            run(Status::Success, Some(1000)),
            run(Status::Failed, Some(10)),
            run(Status::Running, None),
        ];
        let percents: Vec<u32> = runs.iter().map(|r| r.bar_percent(&runs)).collect();
        assert_eq!(percents, [100, 25, 8, 100]);
    }

    #[test]
    fn runs_read_as_words() {
        assert_eq!(
            run(Status::Success, Some(3200)).describe(),
            "Success \u{b7} 3.2s \u{b7} 150 records"
        );
        assert_eq!(
            run(Status::Failed, Some(31_000)).describe(),
            "Failed \u{b7} 31.0s \u{b7} 2 errors"
        );
        assert_eq!(run(Status::Running, None).describe(), "Running");
        assert_eq!(run(Status::Failed, None).class(), "vss-run-failed");
    }

    #[test]
    fn the_scale_names_the_longest_finished_run() {
        let runs = [
            run(Status::Success, Some(3_200)),
            run(Status::Failed, Some(420_000)),
            run(Status::Running, None),
        ];
        assert_eq!(RunSummary::scale_text(&runs).as_deref(), Some("longest 7m"));
        assert_eq!(RunSummary::scale_text(&[run(Status::Running, None)]), None);
    }
}
