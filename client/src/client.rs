//! The Rust client: one method per route of the function, each retried, each answer checked.
//! A retried `complete` or `fail` whose first attempt landed is a success, not a conflict.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::report::Counts;
use crate::settings::Settings;
use crate::transport::{Answer, Transport};

/// A client of the function, for one writer token.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
}

/// What `start` answered: the run to report on and where to sync from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The resource.
    pub resource: String,
    /// The new run's id: pass it to `progress`, `complete` and `fail`.
    pub run_id: String,
    /// When it started (the database's clock, RFC 3339).
    pub started_at: String,
    /// The `started_at` of the last successful run: sync the records changed since then.
    /// `None`: sync everything.
    pub sync_watermark: Option<String>,
}

/// Why a run failed, as one of the function's error objects.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// A stable code, up to 64 characters (`COMMAND_FAILED`, `API_TIMEOUT`).
    pub code: String,
    /// A sentence, up to 2,000 characters.
    pub message: String,
    /// More fields, stored as given (`exit_code`, `stderr_tail`).
    pub details: Map<String, Value>,
}

impl Failure {
    /// A failure with no details.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            details: Map::new(),
        }
    }

    /// The same failure with one more field.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.details.insert(name.to_owned(), value.into());
        self
    }

    fn to_json(&self) -> Value {
        let mut object = self.details.clone();
        object.insert("code".into(), Value::String(clip(&self.code, 64)));
        object.insert("message".into(), Value::String(clip(&self.message, 2000)));
        Value::Object(object)
    }
}

impl Client {
    /// A client for `settings`.
    pub fn new(settings: &Settings) -> Result<Self> {
        Ok(Self {
            transport: Transport::new(settings)?,
        })
    }

    /// A client from `VANTAGE_SYNC_URL` and `VANTAGE_SYNC_TOKEN`.
    pub fn from_env() -> Result<Self> {
        Self::new(&Settings::from_env()?)
    }

    /// `POST start`: starts a run of `resource`. [`Error::InProgress`] when one is running.
    pub fn start(&self, resource: &str) -> Result<Started> {
        let answer = self
            .transport
            .post("start", &json!({ "resource": resource }))
            .result?;
        let text = |name: &str| answer.get(name).and_then(Value::as_str).map(str::to_owned);
        let (Some(run_id), Some(started_at)) = (text("run_id"), text("started_at")) else {
            return Err(Error::BadAnswer {
                route: "start".into(),
                detail: "it has no run_id or started_at".into(),
            });
        };
        Ok(Started {
            resource: resource.to_owned(),
            run_id,
            started_at,
            sync_watermark: text("sync_watermark"),
        })
    }

    /// `POST progress`: a heartbeat of run `run_id`, with the records synced so far if known.
    pub fn progress(
        &self,
        resource: &str,
        run_id: &str,
        records_synced: Option<u32>,
    ) -> Result<()> {
        let mut body = json!({ "resource": resource, "run_id": run_id });
        if let Some(n) = records_synced {
            body["records_synced"] = n.into();
        }
        self.transport.post("progress", &body).result.map(|_| ())
    }

    /// `POST complete` of run `run_id`, with its counts; `None` stores that no counts were
    /// reported (never zeros).
    pub fn complete(&self, resource: &str, run_id: &str, counts: Option<Counts>) -> Result<()> {
        let mut body = json!({ "resource": resource, "run_id": run_id });
        if let Some(c) = counts {
            body["records_synced"] = c.records_synced.into();
            body["records_created"] = c.records_created.into();
            body["records_updated"] = c.records_updated.into();
        }
        finished(self.transport.post("complete", &body), run_id, "success")
    }

    /// `POST fail` of run `run_id` with why.
    pub fn fail(&self, resource: &str, run_id: &str, failure: &Failure) -> Result<()> {
        let body = json!({ "resource": resource, "run_id": run_id, "errors": [failure.to_json()] });
        finished(self.transport.post("fail", &body), run_id, "failed")
    }

    /// `GET health`: every resource's health, or one resource's.
    pub fn health(&self, resource: Option<&str>) -> Result<Value> {
        let query: Vec<(&str, &str)> = resource.map(|r| ("resource", r)).into_iter().collect();
        let answer = self.transport.get("health", &query).result?;
        if answer.get("resources").is_some_and(Value::is_array) {
            Ok(answer)
        } else {
            Err(Error::BadAnswer {
                route: "health".into(),
                detail: "it has no resources list".into(),
            })
        }
    }
}

/// A finishing call's answer: a 409 after a retry that names this run with the status sent
/// means the earlier attempt landed.
fn finished(answer: Answer, run_id: &str, status: &str) -> Result<()> {
    match answer.result {
        Ok(_) => Ok(()),
        Err(Error::Conflict {
            current_run: Some(run),
            ..
        }) if answer.retried
            && run.run_id.as_deref() == Some(run_id)
            && run.status.as_deref() == Some(status) =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// `text` cut to at most `max` characters.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::CurrentRun;

    fn conflict(run_id: &str, status: &str) -> Result<Value> {
        Err(Error::Conflict {
            message: "already finished".into(),
            current_run: Some(Box::new(CurrentRun {
                run_id: Some(run_id.into()),
                status: Some(status.into()),
                ..CurrentRun::default()
            })),
        })
    }

    #[test]
    fn a_retried_finish_that_landed_is_a_success() {
        let landed = Answer {
            result: conflict("r1", "success"),
            retried: true,
        };
        assert!(finished(landed, "r1", "success").is_ok());
        for (result, retried, status) in [
            (conflict("r1", "success"), false, "success"),
            (conflict("r2", "success"), true, "success"),
            (conflict("r1", "failed"), true, "success"),
            (conflict("r1", "success"), true, "failed"),
        ] {
            assert!(finished(Answer { result, retried }, "r1", status).is_err());
        }
    }

    #[test]
    fn failures_are_clipped_to_what_the_function_takes() {
        let failure = Failure::new("X".repeat(80), "m".repeat(3000)).with("exit_code", 3);
        let json = failure.to_json();
        assert_eq!(json["code"].as_str().unwrap().len(), 64);
        assert_eq!(json["message"].as_str().unwrap().len(), 2000);
        assert_eq!(json["exit_code"], 3);
    }
}
