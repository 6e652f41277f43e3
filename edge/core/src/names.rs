//! The names a request carries, as types that keep their invariants from the moment they are
//! read: a resource's name and a run's id. Pure.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::body;
use crate::strict_json::quoted;

/// The longest resource name.
pub const MAX_RESOURCE_CHARS: usize = 63;

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

/// A resource's name: a lower-case letter, then up to 62 lower-case letters, digits or
/// underscores (so it is safe in a PostgREST filter and a log line as it is).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
// Read through `Value` rather than `String` so that a value of another JSON type is refused in
// the edge's words ("must be a string, not a number"), not serde's.
#[serde(try_from = "Value")]
pub struct ResourceName(String);

impl TryFrom<String> for ResourceName {
    /// What is wrong, worded to follow the field's name.
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        if is_valid_resource(&name) {
            Ok(Self(name))
        } else {
            Err(format!(
                "must be a lower-case name: a letter, then up to 62 letters, digits or underscores (got {})",
                quoted(&name)
            ))
        }
    }
}

impl TryFrom<Value> for ResourceName {
    /// What is wrong, worded to follow the field's name.
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        Self::try_from(body::string(value, "a string")?)
    }
}

/// A run's id: a UUID, kept hyphenated and lower-case as the database writes it (a job may send
/// it upper-case; the run is the same).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Value")]
pub struct RunId(String);

impl TryFrom<String> for RunId {
    /// What is wrong, worded to follow the field's name.
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        uuid::Uuid::try_parse(&text)
            .map(|id| Self(id.hyphenated().to_string()))
            .map_err(|_| {
                format!(
                    "must be a UUID, as start returned it (got {})",
                    quoted(&text)
                )
            })
    }
}

impl TryFrom<Value> for RunId {
    /// What is wrong, worded to follow the field's name.
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        Self::try_from(body::string(value, "a UUID string")?)
    }
}

impl Deref for ResourceName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Deref for RunId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_follow_the_pattern() {
        let max = format!("a{}", "b".repeat(62));
        for good in ["a", "accounts", "a_1", "z9_", max.as_str()] {
            assert!(is_valid_resource(good), "{good}");
            assert!(ResourceName::try_from(good.to_owned()).is_ok(), "{good}");
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
            assert!(ResourceName::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_run_id_is_kept_as_the_database_writes_it() {
        let id = RunId::try_from("3F2B8C1E-4D5A-4B6C-9D7E-8F9A0B1C2D3E".to_owned());
        assert_eq!(
            id.as_deref().map(ToString::to_string),
            Ok("3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e".to_owned())
        );
        assert_eq!(
            RunId::try_from(Value::from(5)),
            Err("must be a UUID string, not a number".to_owned())
        );
    }
}
