//! The request bodies, validated before anything is sent upstream. Pure: no I/O, no clock.
//!
//! Bodies are read as a JSON object and checked field by field (rather than with serde's
//! derive) so that every message names the field and says what it must be; unknown fields
//! are refused by name, except inside error objects, which are kept as they come.

use serde_json::{Map, Value};

use crate::error::EdgeError;
use crate::strict_json::{self, quoted};

/// The largest body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The largest record count (Postgres `integer`).
pub const MAX_COUNT: u64 = i32::MAX as u64;
/// The largest count of records synced so far in a heartbeat (Postgres `bigint`).
pub const MAX_COUNT_SO_FAR: u64 = i64::MAX as u64;
/// A completion's count fields, all three or none.
pub const COUNT_FIELDS: [&str; 3] = ["records_synced", "records_created", "records_updated"];
/// The most error objects one `fail` may carry.
pub const MAX_ERRORS: usize = 100;
/// The longest error `code`, in characters.
pub const MAX_ERROR_CODE_CHARS: usize = 64;
/// The longest error `message`, in characters.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 2000;
/// The longest abort `reason`, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// The longest resource name.
pub const MAX_RESOURCE_CHARS: usize = 63;

/// `POST start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartBody {
    /// The resource to start.
    pub resource: String,
}

/// `POST complete`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteBody {
    /// The resource.
    pub resource: String,
    /// The run to complete (hyphenated lower-case UUID), if named.
    pub run_id: Option<String>,
    /// The run's record counts; `None` when the job reported none (the run then completes
    /// without counts: nothing is stored as a count of 0).
    pub counts: Option<RecordCounts>,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressBody {
    /// The resource.
    pub resource: String,
    /// The run reporting (hyphenated lower-case UUID); required.
    pub run_id: String,
    /// Records synced so far, if the job said.
    pub records_synced: Option<u64>,
}

/// `POST fail`.
#[derive(Debug, Clone, PartialEq)]
pub struct FailBody {
    /// The resource.
    pub resource: String,
    /// The run to fail, if named.
    pub run_id: Option<String>,
    /// 1 to 100 error objects, each with `code` and `message`, extra fields as sent.
    pub errors: Vec<Value>,
}

/// `POST abort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbortBody {
    /// The resource.
    pub resource: String,
    /// Why (1 to 500 characters).
    pub reason: String,
    /// The run to abort, if named (a stale click then cannot abort a newer run).
    pub run_id: Option<String>,
}

/// Whether `name` matches `^[a-z][a-z0-9_]{0,62}$`.
pub fn is_valid_resource(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_RESOURCE_CHARS
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

/// Parses a `start` body.
pub fn parse_start(body: &[u8]) -> Result<StartBody, EdgeError> {
    let mut fields = Fields::parse(body, &["resource"])?;
    Ok(StartBody {
        resource: fields.resource()?,
    })
}

/// Parses a `complete` body: the three counts, or none of them (a count that is `null` is
/// not given); `records_created + records_updated > records_synced` is a 422.
pub fn parse_complete(body: &[u8]) -> Result<CompleteBody, EdgeError> {
    let mut fields = Fields::parse(
        body,
        &[
            "resource",
            "run_id",
            "records_synced",
            "records_created",
            "records_updated",
        ],
    )?;
    let resource = fields.resource()?;
    let run_id = fields.run_id()?;
    let given: Vec<&str> = COUNT_FIELDS
        .into_iter()
        .filter(|name| fields.0.get(*name).is_some_and(|v| !v.is_null()))
        .collect();
    let counts = match given.len() {
        0 => None,
        3 => Some(RecordCounts {
            records_synced: fields.count("records_synced")?,
            records_created: fields.count("records_created")?,
            records_updated: fields.count("records_updated")?,
        }),
        _ => {
            return Err(EdgeError::invalid(format!(
                "give all three counts (records_synced, records_created, records_updated) or none; got only {}",
                given.join(" and ")
            )));
        }
    };
    if let Some(c) = counts {
        let sum = u64::from(c.records_created) + u64::from(c.records_updated);
        if sum > u64::from(c.records_synced) {
            return Err(EdgeError::unprocessable(format!(
                "records_created + records_updated ({sum}) must not exceed records_synced ({})",
                c.records_synced
            )));
        }
    }
    Ok(CompleteBody {
        resource,
        run_id,
        counts,
    })
}

/// Parses a `progress` body: the run id is required, the records so far optional (`null` is
/// not given).
pub fn parse_progress(body: &[u8]) -> Result<ProgressBody, EdgeError> {
    let mut fields = Fields::parse(body, &["resource", "run_id", "records_synced"])?;
    let resource = fields.resource()?;
    let run_id = fields.run_id()?.ok_or_else(|| {
        EdgeError::invalid("\"run_id\" is required: the run id that start returned")
    })?;
    let records_synced = match fields.take("records_synced") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .filter(|n| *n <= MAX_COUNT_SO_FAR)
                .ok_or_else(|| {
                    EdgeError::invalid(format!(
                        "\"records_synced\" must be a whole number from 0 to {MAX_COUNT_SO_FAR} (got {})",
                        shown(&value)
                    ))
                })?,
        ),
    };
    Ok(ProgressBody {
        resource,
        run_id,
        records_synced,
    })
}

/// Parses a `fail` body.
pub fn parse_fail(body: &[u8]) -> Result<FailBody, EdgeError> {
    let mut fields = Fields::parse(body, &["resource", "run_id", "errors"])?;
    let resource = fields.resource()?;
    let run_id = fields.run_id()?;
    let errors = fields.errors()?;
    Ok(FailBody {
        resource,
        run_id,
        errors,
    })
}

/// Parses an `abort` body.
pub fn parse_abort(body: &[u8]) -> Result<AbortBody, EdgeError> {
    let mut fields = Fields::parse(body, &["resource", "reason", "run_id"])?;
    let resource = fields.resource()?;
    let reason = match fields.take("reason") {
        Some(Value::String(reason)) => reason,
        Some(other) => {
            return Err(EdgeError::invalid(format!(
                "\"reason\" must be a string, not {}",
                kind(&other)
            )));
        }
        None => {
            return Err(EdgeError::invalid(
                "\"reason\" is required: say why the run is aborted",
            ));
        }
    };
    let chars = reason.chars().count();
    if reason.trim().is_empty() || chars > MAX_REASON_CHARS {
        return Err(EdgeError::invalid(format!(
            "\"reason\" must be 1 to {MAX_REASON_CHARS} characters and not only spaces (got {chars})"
        )));
    }
    Ok(AbortBody {
        resource,
        reason,
        run_id: fields.run_id()?,
    })
}

/// A body's fields, taken one by one.
struct Fields(Map<String, Value>);

impl Fields {
    fn parse(body: &[u8], allowed: &[&str]) -> Result<Self, EdgeError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(EdgeError::invalid("the body is empty; send a JSON object"));
        }
        let value = strict_json::from_slice(body)
            .map_err(|e| EdgeError::invalid(format!("the body is not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(EdgeError::invalid(format!(
                "the body must be a JSON object, not {}",
                kind(&value)
            )));
        };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(EdgeError::invalid(format!(
                "unknown field {}; the fields are {}",
                quoted(unknown),
                allowed.join(", ")
            )));
        }
        Ok(Self(map))
    }

    fn take(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name)
    }

    fn resource(&mut self) -> Result<String, EdgeError> {
        match self.take("resource") {
            Some(Value::String(name)) if is_valid_resource(&name) => Ok(name),
            Some(Value::String(name)) => Err(EdgeError::invalid(format!(
                "\"resource\" must be a lower-case name: a letter, then up to 62 letters, digits or underscores (got {})",
                quoted(&name)
            ))),
            Some(other) => Err(EdgeError::invalid(format!(
                "\"resource\" must be a string, not {}",
                kind(&other)
            ))),
            None => Err(EdgeError::invalid("\"resource\" is required")),
        }
    }

    fn run_id(&mut self) -> Result<Option<String>, EdgeError> {
        match self.take("run_id") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => uuid::Uuid::try_parse(&text)
                .map(|id| Some(id.hyphenated().to_string()))
                .map_err(|_| {
                    EdgeError::invalid(format!(
                        "\"run_id\" must be a UUID, as start returned it (got {})",
                        quoted(&text)
                    ))
                }),
            Some(other) => Err(EdgeError::invalid(format!(
                "\"run_id\" must be a UUID string, not {}",
                kind(&other)
            ))),
        }
    }

    fn count(&mut self, name: &str) -> Result<u32, EdgeError> {
        let value = self
            .take(name)
            .ok_or_else(|| EdgeError::invalid(format!("\"{name}\" is required")))?;
        value
            .as_u64()
            .filter(|n| *n <= MAX_COUNT)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                EdgeError::invalid(format!(
                    "\"{name}\" must be a whole number from 0 to {MAX_COUNT} (got {})",
                    shown(&value)
                ))
            })
    }

    fn errors(&mut self) -> Result<Vec<Value>, EdgeError> {
        let shape = || {
            format!(
                "\"errors\" must be an array of 1 to {MAX_ERRORS} objects like {{\"code\": \"API_TIMEOUT\", \"message\": \"...\"}}"
            )
        };
        let errors = match self.take("errors") {
            Some(Value::Array(errors)) => errors,
            Some(other) => {
                return Err(EdgeError::invalid(format!(
                    "{}, not {}",
                    shape(),
                    kind(&other)
                )));
            }
            None => return Err(EdgeError::invalid(format!("{} (it is required)", shape()))),
        };
        if errors.is_empty() || errors.len() > MAX_ERRORS {
            return Err(EdgeError::invalid(format!(
                "{} (got {})",
                shape(),
                errors.len()
            )));
        }
        for (i, error) in errors.iter().enumerate() {
            let Value::Object(object) = error else {
                return Err(EdgeError::invalid(format!(
                    "errors[{i}] must be an object, not {}",
                    kind(error)
                )));
            };
            check_text(object, i, "code", MAX_ERROR_CODE_CHARS, false)?;
            check_text(object, i, "message", MAX_ERROR_MESSAGE_CHARS, true)?;
        }
        Ok(errors)
    }
}

fn check_text(
    object: &Map<String, Value>,
    index: usize,
    name: &str,
    max: usize,
    may_be_empty: bool,
) -> Result<(), EdgeError> {
    let least = usize::from(!may_be_empty);
    match object.get(name) {
        Some(Value::String(text)) => {
            let chars = text.chars().count();
            if chars < least || chars > max {
                return Err(EdgeError::invalid(format!(
                    "errors[{index}].{name} must be {least} to {max} characters (got {chars})"
                )));
            }
            Ok(())
        }
        Some(other) => Err(EdgeError::invalid(format!(
            "errors[{index}].{name} must be a string, not {}",
            kind(other)
        ))),
        None => Err(EdgeError::invalid(format!(
            "errors[{index}].{name} is required"
        ))),
    }
}

/// "a number", "an array", ... for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A caller's value as JSON, cut to 40 characters, for a message.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    let short: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        format!("{short}…")
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const RUN: &str = "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e";

    fn message(result: Result<impl std::fmt::Debug, EdgeError>) -> (u16, String) {
        match result {
            Ok(ok) => (200, format!("{ok:?}")),
            Err(e) => (e.status().as_u16(), e.to_string()),
        }
    }

    #[test]
    fn resource_names_follow_the_pattern() {
        let max = format!("a{}", "b".repeat(62));
        for good in ["a", "accounts", "a_1", "z9_", max.as_str()] {
            assert!(is_valid_resource(good), "{good}");
        }
        let too_long = format!("a{}", "b".repeat(63));
        for bad in [
            "",
            "1a",
            "_a",
            "Accounts",
            "a-b",
            "a b",
            "é",
            too_long.as_str(),
        ] {
            assert!(!is_valid_resource(bad), "{bad}");
        }
    }

    #[test]
    fn start_takes_a_resource_and_nothing_else() {
        assert_eq!(
            parse_start(br#"{"resource":"accounts"}"#),
            Ok(StartBody {
                resource: "accounts".into()
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
                resource: "a".into(),
                run_id: Some(RUN.into()),
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
                    resource: "a".into(),
                    run_id: Some(RUN.into()),
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
                resource: "a".into(),
                run_id: RUN.into(),
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
        assert_eq!(Value::Array(parsed.errors), errors);
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
                resource: "a".into(),
                reason: "stuck on a lock".into(),
                run_id: Some(RUN.into())
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
