//! A `fail`'s error objects: 1 to [`MAX_ERRORS`] objects, each with a `code` and a `message`
//! within their limits and any other fields as sent. Pure.

use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::body::{self, must_be};

/// The most error objects one `fail` may carry.
pub const MAX_ERRORS: usize = 100;
/// The longest error `code`, in characters.
pub const MAX_ERROR_CODE_CHARS: usize = 64;
/// The longest error `message`, in characters.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 2000;

/// A `fail`'s error objects: a missing `errors` says what to send.
pub(crate) fn error_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ErrorObject>, D::Error> {
    let list = body::when_absent(
        ErrorList::deserialize(d),
        &format!("must be {} (it is required)", errors_shape()),
    )?;
    Ok(list.0)
}

/// A string of `LEAST` to `MOST` characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value")]
pub struct Text<const LEAST: usize, const MOST: usize>(String);

impl<const LEAST: usize, const MOST: usize> TryFrom<Value> for Text<LEAST, MOST> {
    /// What is wrong, worded to follow the field's name.
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        let text = body::string(value, "a string")?;
        let chars = text.chars().count();
        if chars < LEAST || chars > MOST {
            return Err(format!(
                "must be {LEAST} to {MOST} characters (got {chars})"
            ));
        }
        Ok(Self(text))
    }
}

impl<const LEAST: usize, const MOST: usize> Deref for Text<LEAST, MOST> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// One error object of a `fail`: its `code` and `message`, and its other fields as sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorObject {
    /// A stable code: 1 to [`MAX_ERROR_CODE_CHARS`] characters.
    pub code: Text<1, MAX_ERROR_CODE_CHARS>,
    /// What went wrong: up to [`MAX_ERROR_MESSAGE_CHARS`] characters.
    pub message: Text<0, MAX_ERROR_MESSAGE_CHARS>,
    /// Any other fields (`record_id`, `attempt`, ...), kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What `errors` must be.
fn errors_shape() -> String {
    format!(
        "an array of 1 to {MAX_ERRORS} objects like {{\"code\": \"API_TIMEOUT\", \"message\": \"...\"}}"
    )
}

/// A `fail`'s error objects: 1 to [`MAX_ERRORS`].
struct ErrorList(Vec<ErrorObject>);

impl<'de> Deserialize<'de> for ErrorList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ErrorListVisitor)
    }
}

impl<'de> Deserialize<'de> for ErrorObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ErrorObjectVisitor)
    }
}

/// Refuses every JSON type but the one a visitor takes, as "must be …, not …" (serde's own
/// words would be "invalid type: …, expected …").
macro_rules! refuse_other_types {
    ($what:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(E::custom(must_be(&$what, "a boolean")))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(E::custom(must_be(&$what, "a number")))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(E::custom(must_be(&$what, "a number")))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(E::custom(must_be(&$what, "a number")))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(E::custom(must_be(&$what, "a string")))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Err(E::custom(must_be(&$what, "null")))
        }
    };
}

struct ErrorListVisitor;

impl<'de> Visitor<'de> for ErrorListVisitor {
    type Value = ErrorList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of error objects")
    }

    refuse_other_types!(errors_shape());

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<ErrorList, A::Error> {
        Err(de::Error::custom(must_be(&errors_shape(), "an object")))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ErrorList, A::Error> {
        let wrong_count =
            |count: usize| de::Error::custom(format!("must be {} (got {count})", errors_shape()));
        // The count is refused before any object is read, as the shape comes first.
        let count = seq.size_hint().unwrap_or(1);
        if count == 0 || count > MAX_ERRORS {
            return Err(wrong_count(count));
        }
        let mut errors = Vec::with_capacity(count);
        while let Some(error) = seq.next_element()? {
            errors.push(error);
            if errors.len() > MAX_ERRORS {
                return Err(wrong_count(errors.len()));
            }
        }
        if errors.is_empty() {
            return Err(wrong_count(0));
        }
        Ok(ErrorList(errors))
    }
}

struct ErrorObjectVisitor;

impl<'de> Visitor<'de> for ErrorObjectVisitor {
    type Value = ErrorObject;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an error object")
    }

    refuse_other_types!("an object");

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<ErrorObject, A::Error> {
        Err(de::Error::custom(must_be("an object", "an array")))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ErrorObject, A::Error> {
        let (mut code, mut message, mut extra) = (None, None, Map::new());
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "code" => code = Some(map.next_value()?),
                // Keys come in order (a `Value`'s object is sorted), so a missing `code` is
                // named before the `message` after it is read, as the code is checked first.
                "message" if code.is_none() => return Err(de::Error::missing_field("code")),
                "message" => message = Some(map.next_value()?),
                _ => {
                    let value = map.next_value()?;
                    extra.insert(key, value);
                }
            }
        }
        Ok(ErrorObject {
            code: code.ok_or_else(|| de::Error::missing_field("code"))?,
            message: message.ok_or_else(|| de::Error::missing_field("message"))?,
            extra,
        })
    }
}
