//! One structured log line per request. The adapter prints it as one JSON line (stdout
//! natively, `console.log` under Deno). It holds no secrets: no headers, no bodies, no tokens;
//! `detail` is written by this crate only, from upstream status codes and error kinds.

use serde::Serialize;

/// What happened to one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    /// The request's id (also sent back as `x-request-id`).
    pub request_id: String,
    /// The HTTP method.
    pub method: String,
    /// The route (`start`, `complete`, `fail`, `progress`, `abort`, `health`, `sweep`, `metrics`), `unknown`, or
    /// `deliveries` for the line of the webhook deliveries sent after an answer.
    pub route: &'static str,
    /// The status answered.
    pub status: u16,
    /// Time from arrival to answer, in milliseconds.
    pub latency_ms: f64,
    /// Calls made to PostgREST or Supabase Auth.
    pub upstream_calls: u32,
    /// The error code, for an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// What went wrong inside, for an operator (`internal`, `upstream_unavailable`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl LogLine {
    /// The line as compact JSON, ready to print.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            format!(
                r#"{{"request_id":{:?},"status":{}}}"#,
                self.request_id, self.status
            )
        })
    }
}

/// What a request did on its way, for its log line.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    /// Upstream calls made so far.
    pub upstream_calls: u32,
    /// Something an operator should know even when the answer is a success.
    pub note: Option<String>,
    /// A transition queued webhook deliveries (PostgREST said so in a header).
    pub webhooks_pending: bool,
    /// The resource the request is about, once its body is read.
    pub resource: Option<String>,
}

impl Trace {
    /// Records a note (the first one wins: it is usually the cause of the rest).
    pub fn note(&mut self, note: String) {
        if self.note.is_none() {
            self.note = Some(note);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_optional_fields_left_out() {
        let line = LogLine {
            request_id: "r1".into(),
            method: "POST".into(),
            route: "start",
            status: 200,
            latency_ms: 1.5,
            upstream_calls: 2,
            error: None,
            detail: None,
        };
        assert_eq!(
            line.to_json(),
            r#"{"request_id":"r1","method":"POST","route":"start","status":200,"latency_ms":1.5,"upstream_calls":2}"#
        );
    }
}
