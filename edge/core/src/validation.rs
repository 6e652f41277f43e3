//! The request bodies, validated before anything is sent upstream. Pure: no I/O, no clock.
//!
//! Each body is a struct read with serde through [`body::read`] (strict JSON, fields in the
//! order declared here, unknown fields refused by name); each field's type keeps its invariant
//! and says what is wrong with a value, so every message names the field and what it must be.
//! Error objects (`error_objects`) keep their other fields as they come. The rules across fields (all three
//! counts or none, and their sum) are checked once the fields are read.

use std::ops::Deref;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::body;
use crate::error::EdgeError;
use crate::error_objects::error_list;
pub use crate::error_objects::{
    ErrorObject, MAX_ERROR_CODE_CHARS, MAX_ERROR_MESSAGE_CHARS, MAX_ERRORS, Text,
};
pub use crate::names::{MAX_RESOURCE_CHARS, ResourceName, RunId, is_valid_resource};

/// The largest body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The largest record count (Postgres `integer`).
pub const MAX_COUNT: u64 = i32::MAX as u64;
/// The largest count of records synced so far in a heartbeat (Postgres `bigint`).
pub const MAX_COUNT_SO_FAR: u64 = i64::MAX as u64;
/// A completion's count fields, all three or none.
pub const COUNT_FIELDS: [&str; 3] = ["records_synced", "records_created", "records_updated"];
/// The longest abort `reason`, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// `POST start`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// The resource to start.
    pub resource: ResourceName,
}

/// `POST complete`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "CompleteFields")]
pub struct CompleteBody {
    /// The resource.
    pub resource: ResourceName,
    /// The run to complete, if named.
    pub run_id: Option<RunId>,
    /// The run's record counts; `None` when the job reported none (the run then completes
    /// without counts: nothing is stored as a count of 0).
    pub counts: Option<RecordCounts>,
}

/// A `complete` body as sent. The counts are read as they came, so that a count given alone
/// is refused as such before its value is looked at (`null` is not given).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompleteFields {
    resource: ResourceName,
    run_id: Option<RunId>,
    records_synced: Option<Value>,
    records_created: Option<Value>,
    records_updated: Option<Value>,
}

impl TryFrom<CompleteFields> for CompleteBody {
    /// The message.
    type Error = String;

    fn try_from(fields: CompleteFields) -> Result<Self, String> {
        let counts = match [
            fields.records_synced,
            fields.records_created,
            fields.records_updated,
        ] {
            [None, None, None] => None,
            [Some(synced), Some(created), Some(updated)] => Some(RecordCounts {
                records_synced: count(COUNT_FIELDS[0], &synced)?,
                records_created: count(COUNT_FIELDS[1], &created)?,
                records_updated: count(COUNT_FIELDS[2], &updated)?,
            }),
            given => {
                let given: Vec<&str> = COUNT_FIELDS
                    .into_iter()
                    .zip(given)
                    .filter_map(|(name, count)| count.map(|_| name))
                    .collect();
                return Err(format!(
                    "give all three counts (records_synced, records_created, records_updated) or none; got only {}",
                    given.join(" and ")
                ));
            }
        };
        Ok(Self {
            resource: fields.resource,
            run_id: fields.run_id,
            counts,
        })
    }
}

/// The count `name` of a completion: 0 to [`MAX_COUNT`].
fn count(name: &str, value: &Value) -> Result<u32, String> {
    whole_number(value, MAX_COUNT).map_err(|what| body::about(name, &what))
}

/// The record counts of a completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordCounts {
    /// Records synced.
    pub records_synced: u32,
    /// Of those, created.
    pub records_created: u32,
    /// Of those, updated.
    pub records_updated: u32,
}

/// `POST progress`: a heartbeat of a running run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressBody {
    /// The resource.
    pub resource: ResourceName,
    /// The run reporting; required (`null` is no run id).
    #[serde(deserialize_with = "progress_run_id")]
    pub run_id: RunId,
    /// Records synced so far, if the job said (`null` is not given).
    #[serde(deserialize_with = "records_so_far")]
    pub records_synced: Option<u64>,
}

/// A heartbeat's run id: a missing or `null` one names what to send.
fn progress_run_id<'de, D: Deserializer<'de>>(d: D) -> Result<RunId, D::Error> {
    Option::<RunId>::deserialize(d)?
        .ok_or_else(|| de::Error::custom("is required: the run id that start returned"))
}

/// A heartbeat's records so far: 0 to [`MAX_COUNT_SO_FAR`].
fn records_so_far<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Option::<Value>::deserialize(d)?
        .map(|value| whole_number(&value, MAX_COUNT_SO_FAR).map_err(de::Error::custom))
        .transpose()
}

/// `POST fail`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailBody {
    /// The resource.
    pub resource: ResourceName,
    /// The run to fail, if named.
    pub run_id: Option<RunId>,
    /// 1 to 100 error objects, each with `code` and `message`, extra fields as sent.
    #[serde(deserialize_with = "error_list")]
    pub errors: Vec<ErrorObject>,
}

/// `POST abort`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbortBody {
    /// The resource.
    pub resource: ResourceName,
    /// Why.
    #[serde(deserialize_with = "abort_reason")]
    pub reason: Reason,
    /// The run to abort, if named (a stale click then cannot abort a newer run).
    pub run_id: Option<RunId>,
}

/// An abort's reason: a missing one says what to send.
fn abort_reason<'de, D: Deserializer<'de>>(d: D) -> Result<Reason, D::Error> {
    body::when_absent(
        Reason::deserialize(d),
        "is required: say why the run is aborted",
    )
}

/// Parses a `start` body.
pub fn parse_start(body: &[u8]) -> Result<StartBody, EdgeError> {
    body::read(body)
}

/// Parses a `complete` body: the three counts, or none of them (a count that is `null` is
/// not given); `records_created + records_updated > records_synced` is a 422.
pub fn parse_complete(body: &[u8]) -> Result<CompleteBody, EdgeError> {
    let complete: CompleteBody = body::read(body)?;
    if let Some(c) = complete.counts {
        let sum = u64::from(c.records_created) + u64::from(c.records_updated);
        if sum > u64::from(c.records_synced) {
            return Err(EdgeError::unprocessable(format!(
                "records_created + records_updated ({sum}) must not exceed records_synced ({})",
                c.records_synced
            )));
        }
    }
    Ok(complete)
}

/// Parses a `progress` body: the run id is required, the records so far optional (`null` is
/// not given).
pub fn parse_progress(body: &[u8]) -> Result<ProgressBody, EdgeError> {
    body::read(body)
}

/// Parses a `fail` body.
pub fn parse_fail(body: &[u8]) -> Result<FailBody, EdgeError> {
    body::read(body)
}

/// Parses an `abort` body.
pub fn parse_abort(body: &[u8]) -> Result<AbortBody, EdgeError> {
    body::read(body)
}

/// A whole number from 0 to `max` in `value`, or what it must be.
fn whole_number<N: TryFrom<u64>>(value: &Value, max: u64) -> Result<N, String> {
    value
        .as_u64()
        .filter(|n| *n <= max)
        .and_then(|n| N::try_from(n).ok())
        .ok_or_else(|| {
            format!(
                "must be a whole number from 0 to {max} (got {})",
                body::shown(value)
            )
        })
}

/// Why a run is aborted: 1 to [`MAX_REASON_CHARS`] characters, not only spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value")]
pub struct Reason(String);

impl TryFrom<Value> for Reason {
    /// What is wrong, worded to follow the field's name.
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        let reason = body::string(value, "a string")?;
        let chars = reason.chars().count();
        if reason.trim().is_empty() || chars > MAX_REASON_CHARS {
            return Err(format!(
                "must be 1 to {MAX_REASON_CHARS} characters and not only spaces (got {chars})"
            ));
        }
        Ok(Self(reason))
    }
}

impl Deref for Reason {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const RUN: &str = "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e";

    fn name(text: &str) -> ResourceName {
        ResourceName::try_from(text.to_owned()).expect("a resource name")
    }

    fn run(text: &str) -> RunId {
        RunId::try_from(text.to_owned()).expect("a run id")
    }

    fn reason(text: &str) -> Reason {
        Reason::try_from(Value::from(text)).expect("a reason")
    }

    fn message(result: Result<impl std::fmt::Debug, EdgeError>) -> (u16, String) {
        match result {
            Ok(ok) => (200, format!("{ok:?}")),
            Err(e) => (e.status().as_u16(), e.to_string()),
        }
    }

    #[test]
    fn start_takes_a_resource_and_nothing_else() {
        assert_eq!(
            parse_start(br#"{"resource":"accounts"}"#),
            Ok(StartBody {
                resource: name("accounts")
            })
        );
        let cases: [(&[u8], &str); 7] = [
            (b"", "the body is empty"),
            (b"{", "the body is not valid JSON"),
            (b"[]", "must be a JSON object, not an array"),
            (b"{}", "\"resource\" is required"),
            (
                br#"{"resource":7}"#,
                "\"resource\" must be a string, not a number",
            ),
            (br#"{"resource":"Bad"}"#, "(got \"Bad\")"),
            (
                br#"{"resource":"a","extra":1}"#,
                "unknown field \"extra\"; the fields are resource",
            ),
        ];
        for (body, expected) in cases {
            let (status, text) = message(parse_start(body));
            assert_eq!(status, 400, "{text}");
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
        }
    }

    #[test]
    fn complete_checks_counts_and_their_sum() {
        let body = json!({"resource":"a","run_id":RUN.to_uppercase(),"records_synced":150,
                          "records_created":10,"records_updated":140});
        let parsed = parse_complete(body.to_string().as_bytes());
        assert_eq!(
            parsed,
            Ok(CompleteBody {
                resource: name("a"),
                run_id: Some(run(RUN)),
                counts: Some(RecordCounts {
                    records_synced: 150,
                    records_created: 10,
                    records_updated: 140
                })
            })
        );
        let max = json!({"resource":"a","records_synced":2_147_483_647_u64,"records_created":0,"records_updated":0});
        assert!(parse_complete(max.to_string().as_bytes()).is_ok());
        let cases = [
            (
                json!({"resource":"a","records_synced":-1,"records_created":0,"records_updated":0}),
                400,
                "\"records_synced\" must be a whole number from 0 to 2147483647 (got -1)",
            ),
            (
                json!({"resource":"a","records_synced":2_147_483_648_u64,"records_created":0,"records_updated":0}),
                400,
                "records_synced",
            ),
            (
                json!({"resource":"a","records_synced":1.5,"records_created":0,"records_updated":0}),
                400,
                "(got 1.5)",
            ),
            (
                json!({"resource":"a","records_synced":"1","records_created":0,"records_updated":0}),
                400,
                "(got \"1\")",
            ),
            (
                json!({"resource":"a","records_synced":1,"records_updated":0}),
                400,
                "give all three counts (records_synced, records_created, records_updated) or none; got only records_synced and records_updated",
            ),
            (
                json!({"resource":"a","records_created":1,"records_synced":null}),
                400,
                "or none; got only records_created",
            ),
            (
                json!({"resource":"a","records_synced":1,"records_created":1,"records_updated":1}),
                422,
                "records_created + records_updated (2) must not exceed records_synced (1)",
            ),
            (
                json!({"resource":"a","run_id":"nope","records_synced":1,"records_created":0,"records_updated":0}),
                400,
                "\"run_id\" must be a UUID",
            ),
            (
                json!({"resource":"a","run_id":5,"records_synced":1,"records_created":0,"records_updated":0}),
                400,
                "\"run_id\" must be a UUID string, not a number",
            ),
        ];
        for (body, status, expected) in cases {
            let (got, text) = message(parse_complete(body.to_string().as_bytes()));
            assert_eq!(got, status, "{body}: {text}");
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
        }
    }

    #[test]
    fn complete_may_report_no_counts() {
        for body in [
            json!({"resource":"a","run_id":RUN}),
            json!({"resource":"a","run_id":RUN,"records_synced":null,"records_created":null,"records_updated":null}),
        ] {
            assert_eq!(
                parse_complete(body.to_string().as_bytes()),
                Ok(CompleteBody {
                    resource: name("a"),
                    run_id: Some(run(RUN)),
                    counts: None
                }),
                "{body}"
            );
        }
    }

    #[test]
    fn progress_needs_a_run_id_and_takes_records_so_far() {
        let body = json!({"resource":"a","run_id":RUN.to_uppercase(),"records_synced":45_200});
        assert_eq!(
            parse_progress(body.to_string().as_bytes()),
            Ok(ProgressBody {
                resource: name("a"),
                run_id: run(RUN),
                records_synced: Some(45_200)
            })
        );
        for body in [
            json!({"resource":"a","run_id":RUN}),
            json!({"resource":"a","run_id":RUN,"records_synced":null}),
        ] {
            assert_eq!(
                parse_progress(body.to_string().as_bytes()).map(|p| p.records_synced),
                Ok(None),
                "{body}"
            );
        }
        let past_integer = json!({"resource":"a","run_id":RUN,"records_synced":3_000_000_000_u64});
        assert!(parse_progress(past_integer.to_string().as_bytes()).is_ok());
        let cases = [
            (json!({"resource":"a"}), "\"run_id\" is required"),
            (
                json!({"resource":"a","run_id":null}),
                "\"run_id\" is required",
            ),
            (
                json!({"resource":"a","run_id":"nope"}),
                "\"run_id\" must be a UUID",
            ),
            (json!({"run_id":RUN}), "\"resource\" is required"),
            (
                json!({"resource":"a","run_id":RUN,"records_synced":-1}),
                "\"records_synced\" must be a whole number from 0 to 9223372036854775807 (got -1)",
            ),
            (
                json!({"resource":"a","run_id":RUN,"records_synced":1.5}),
                "(got 1.5)",
            ),
            (
                json!({"resource":"a","run_id":RUN,"records_synced":"7"}),
                "(got \"7\")",
            ),
            (
                json!({"resource":"a","run_id":RUN,"records_synced":9_223_372_036_854_775_808_u64}),
                "(got 9223372036854775808)",
            ),
            (
                json!({"resource":"a","run_id":RUN,"records_created":1}),
                "unknown field \"records_created\"; the fields are resource, run_id, records_synced",
            ),
        ];
        for (body, expected) in cases {
            let (status, text) = message(parse_progress(body.to_string().as_bytes()));
            assert_eq!(status, 400, "{body}: {text}");
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
        }
    }

    #[test]
    fn fail_keeps_extra_fields_of_error_objects() -> Result<(), EdgeError> {
        let errors =
            json!([{"code":"API_TIMEOUT","message":"timed out","record_id":"12345","attempt":3}]);
        let body = json!({"resource":"a","errors":errors});
        let parsed = parse_fail(body.to_string().as_bytes())?;
        assert_eq!(serde_json::to_value(&parsed.errors).expect("JSON"), errors);
        assert_eq!(parsed.run_id, None);
        Ok(())
    }

    #[test]
    fn fail_checks_the_errors_array() {
        let many: Vec<Value> = (0..=MAX_ERRORS)
            .map(|_| json!({"code":"X","message":"m"}))
            .collect();
        let cases = [
            (
                json!({"resource":"a"}),
                "\"errors\" must be an array of 1 to 100 objects",
            ),
            (json!({"resource":"a","errors":[]}), "(got 0)"),
            (json!({"resource":"a","errors":many}), "(got 101)"),
            (
                json!({"resource":"a","errors":{"code":"X"}}),
                "not an object",
            ),
            (
                json!({"resource":"a","errors":["x"]}),
                "errors[0] must be an object, not a string",
            ),
            (
                json!({"resource":"a","errors":[{"message":"m"}]}),
                "errors[0].code is required",
            ),
            (
                json!({"resource":"a","errors":[{"code":"","message":"m"}]}),
                "errors[0].code must be 1 to 64 characters (got 0)",
            ),
            (
                json!({"resource":"a","errors":[{"code":"X".repeat(65),"message":"m"}]}),
                "(got 65)",
            ),
            (
                json!({"resource":"a","errors":[{"code":"X","message":"m".repeat(2001)}]}),
                "errors[0].message must be 0 to 2000 characters (got 2001)",
            ),
            (
                json!({"resource":"a","errors":[{"code":"X","message":null}]}),
                "errors[0].message must be a string, not null",
            ),
        ];
        for (body, expected) in cases {
            let (status, text) = message(parse_fail(body.to_string().as_bytes()));
            assert_eq!(status, 400, "{text}");
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
        }
        let multibyte =
            json!({"resource":"a","errors":[{"code":"é".repeat(64),"message":"ü".repeat(2000)}]});
        assert!(
            parse_fail(multibyte.to_string().as_bytes()).is_ok(),
            "limits count characters"
        );
    }

    #[test]
    fn abort_needs_a_reason() {
        let ok = json!({"resource":"a","reason":"stuck on a lock","run_id":RUN});
        assert_eq!(
            parse_abort(ok.to_string().as_bytes()),
            Ok(AbortBody {
                resource: name("a"),
                reason: reason("stuck on a lock"),
                run_id: Some(run(RUN))
            })
        );
        let cases = [
            (json!({"resource":"a"}), "\"reason\" is required"),
            (json!({"resource":"a","reason":"  "}), "not only spaces"),
            (
                json!({"resource":"a","reason":"r".repeat(501)}),
                "(got 501)",
            ),
            (
                json!({"resource":"a","reason":["r"]}),
                "must be a string, not an array",
            ),
        ];
        for (body, expected) in cases {
            let (status, text) = message(parse_abort(body.to_string().as_bytes()));
            assert_eq!(status, 400, "{text}");
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
        }
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let body = json!({"resource": "X".repeat(1000)});
        let (_, text) = message(parse_start(body.to_string().as_bytes()));
        assert!(text.len() < 200, "{text}");
    }
}
