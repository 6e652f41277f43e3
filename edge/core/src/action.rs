//! What a call to PostgREST was doing: the words its errors are made of ("cannot complete run
//! …", "the database refused to read health …").

use crate::names::RunId;

/// What the edge was doing when PostgREST answered; its words complete the messages a caller
/// reads ("cannot complete run …", "the database refused to read health …").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// `POST start`.
    Start,
    /// `POST complete`.
    Complete,
    /// `POST progress`.
    ReportProgress,
    /// `POST fail`.
    Fail,
    /// `POST abort`.
    Abort,
    /// `GET health`.
    ReadHealth,
    /// `GET metrics`.
    ReadMetrics,
    /// `POST sweep`.
    Sweep,
    /// Claiming due webhook deliveries.
    DeliverWebhooks,
    /// Recording a delivery's attempt.
    RecordDelivery,
}

impl Verb {
    /// The verb in words, as messages use it.
    pub const fn words(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Complete => "complete",
            Self::ReportProgress => "report progress of",
            Self::Fail => "fail",
            Self::Abort => "abort",
            Self::ReadHealth => "read health",
            Self::ReadMetrics => "read metrics",
            Self::Sweep => "sweep",
            Self::DeliverWebhooks => "deliver webhooks",
            Self::RecordDelivery => "record a webhook delivery",
        }
    }
}

impl std::fmt::Display for Verb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.words())
    }
}

/// What a call was doing, to word its errors.
#[derive(Debug, Clone, Copy)]
pub struct Action<'a> {
    /// What the edge was doing.
    pub verb: Verb,
    /// The resource concerned (empty for reads of every resource).
    pub resource: &'a str,
    /// The run named by the caller.
    pub run_id: Option<&'a RunId>,
}
