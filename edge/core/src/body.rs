//! A request body read into a `Deserialize` type, with the edge's messages. Pure.
//!
//! The body is parsed by [`strict_json`] first (a key given twice, or a NUL character, is
//! refused before any field is read); then an object's fields are handed to the type in the
//! order it declares them, each one declared but not sent as absent (see [`Entry`]), so that
//! the first field at fault, missing ones included, is the first one the type names, whatever
//! the order of the caller's keys. A key the type does not declare is refused by name before
//! any value is read. Every other message is the field's path and what the value's type says
//! is wrong with it: `"resource" must be a string, not a number`, `errors[3].code is required`.

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

use crate::error::EdgeError;
use crate::strict_json::{self, quoted};

/// Reads `body`, a JSON object, as a `T` (a struct whose fields are checked by their types).
pub(crate) fn read<T: DeserializeOwned>(body: &[u8]) -> Result<T, EdgeError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(EdgeError::invalid("the body is empty; send a JSON object"));
    }
    let value = strict_json::from_slice(body)
        .map_err(|e| EdgeError::invalid(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(object) = value else {
        return Err(EdgeError::invalid(format!(
            "the body must be a JSON object, not {}",
            kind(&value)
        )));
    };
    serde_path_to_error::deserialize(Fields(object)).map_err(|e| EdgeError::invalid(worded(&e)))
}

/// The message of a refused value: its path, then what its type said.
fn worded(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = error.path().to_string();
    let said = error.inner().to_string();
    // Serde words a missing field itself, at the path of the object that lacks it; this is
    // the one message of serde's own that a body can produce (types word the others).
    if let Some(field) = said
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        let at = if path == "." {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        return format!("{} is required", subject(&at));
    }
    if path == "." {
        said
    } else {
        about(&path, &said)
    }
}

/// The message about the value at `path`: `what` (e.g. "must be a string, not null") after
/// the field's name.
pub(crate) fn about(path: &str, what: &str) -> String {
    format!("{} {what}", subject(path))
}

/// A field as messages name it: a top-level field quoted (`"resource"`), a path into one bare
/// (`errors[3].code`), as the edge's messages have always read.
fn subject(path: &str) -> String {
    if path.contains(['.', '[']) {
        path.to_owned()
    } else {
        format!("\"{path}\"")
    }
}

/// What a missing field says: the tail of "\"resource\" is required".
pub(crate) const REQUIRED: &str = "is required";

/// `result`, or `instead` when the value was absent (a field whose absence says more than
/// [`REQUIRED`]).
pub(crate) fn when_absent<T, E: de::Error>(result: Result<T, E>, instead: &str) -> Result<T, E> {
    result.map_err(|e| {
        if e.to_string() == REQUIRED {
            E::custom(instead)
        } else {
            e
        }
    })
}

/// A body's fields, handed to a struct in the order it declares them.
struct Fields(Map<String, Value>);

impl<'de> Deserializer<'de> for Fields {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        Value::Object(self.0).deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let mut object = self.0;
        if let Some(unknown) = object.keys().find(|key| !fields.contains(&key.as_str())) {
            return Err(de::Error::custom(format!(
                "unknown field {}; the fields are {}",
                quoted(unknown),
                fields.join(", ")
            )));
        }
        let declared = fields.iter().map(|name| {
            let entry = object.remove(*name).map_or(Entry::Absent, Entry::Given);
            (*name, entry)
        });
        visitor.visit_map(de::value::MapDeserializer::new(declared))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A declared field's value: given, or absent. Absent is `None` to an `Option` and
/// [`REQUIRED`] to any other type, as serde treats a missing field, but where the field is
/// declared rather than after every given one (serde only knows a field is missing at the end).
enum Entry {
    Given(Value),
    Absent,
}

impl de::IntoDeserializer<'_, serde_json::Error> for Entry {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> Deserializer<'de> for Entry {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Self::Given(value) => value.deserialize_any(visitor),
            Self::Absent => Err(de::Error::custom(REQUIRED)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Self::Given(value) => value.deserialize_option(visitor),
            Self::Absent => visitor.visit_none(),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// A value's JSON type, as messages name it: "a number", "an array", ...
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// "must be `what`, not `kind`": a value of the wrong JSON type, worded to follow its path.
pub(crate) fn must_be(what: &str, kind: &str) -> String {
    format!("must be {what}, not {kind}")
}

/// The string in `value`, or "must be `what`, not …".
pub(crate) fn string(value: Value, what: &str) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text),
        other => Err(must_be(what, kind(&other))),
    }
}

/// A caller's value as JSON, cut to 40 characters, for a message.
pub(crate) fn shown(value: &Value) -> String {
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
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "read to be refused")]
    struct Pair {
        b: u8,
        a: u8,
    }

    fn message<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> String {
        match read::<T>(body.as_bytes()) {
            Ok(ok) => format!("{ok:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn fields_are_read_in_the_order_the_type_declares() {
        // Both are wrong; `b` is declared first, so it is the one named.
        let text = message::<Pair>(r#"{"a":"x","b":"y"}"#);
        assert!(text.starts_with("\"b\" "), "{text}");
    }

    #[test]
    fn unknown_fields_are_refused_before_any_value_is_read() {
        assert_eq!(
            message::<Pair>(r#"{"b":"y","z":1}"#),
            "unknown field \"z\"; the fields are b, a"
        );
    }

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        assert_eq!(message::<Pair>(r#"{"b":1}"#), "\"a\" is required");
        assert_eq!(subject("errors[3].code"), "errors[3].code");
        assert_eq!(subject("errors[3]"), "errors[3]");
    }
}
