//! JSON parsing that refuses a key given twice in one object, at any depth.
//!
//! `serde_json` keeps the last of duplicate keys. A body like
//! `{"resource":"staging","resource":"accounts"}` would then be checked by whatever reads the
//! first key (a proxy, a log, a reviewer) and acted on for the second: a request-smuggling
//! shape that no ETL job sends by accident. So it is refused, naming the key.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses `bytes` as JSON, refusing duplicate keys; the error is `serde_json`'s, with its
/// line and column.
pub fn from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<Strict>(bytes).map(|strict| strict.0)
}

/// A JSON value parsed without duplicate keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

/// Refuses text PostgreSQL cannot store: `text` and `jsonb` have no NUL character (`\u0000`),
/// so such a body would fail in the database as a 500, and a failure report with it would be
/// lost. Refused here, it is the caller's 400.
fn storable<E: de::Error>(text: &str) -> Result<(), E> {
    if text.contains('\0') {
        return Err(E::custom(
            "text may not contain the NUL character \\u0000 (PostgreSQL cannot store it)",
        ));
    }
    Ok(())
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        storable(v)?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        storable(&v)?;
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            storable(&key)?;
            if object.contains_key(&key) {
                // The key is the caller's: cut, like every value a message repeats.
                return Err(de::Error::custom(format!(
                    "the key {} is given twice in one object",
                    quoted(&key)
                )));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A caller's string, quoted and cut to 40 characters, for a message. (Here rather than in
/// `validation`, which words most such messages, so that the two modules do not import each
/// other: validation parses with this module.)
pub(crate) fn quoted(text: &str) -> String {
    let short: String = text.chars().take(40).collect();
    let more = if text.chars().count() > 40 { "…" } else { "" };
    format!("{}{more}", Value::String(short))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_serde_json_parses() -> Result<(), serde_json::Error> {
        let text = r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}],"c":18446744073709551615}"#;
        let strict = from_slice(text.as_bytes())?;
        let plain: Value = serde_json::from_str(text)?;
        assert_eq!(strict, plain);
        Ok(())
    }

    #[test]
    fn refuses_the_nul_character_in_values_and_keys() {
        for body in [
            r#"{"errors":[{"code":"E","message":"bad \u0000 byte"}]}"#,
            r#"{"resource":"a","a\u0000b":1}"#,
        ] {
            let error = from_slice(body.as_bytes()).err().map(|e| e.to_string());
            assert!(
                error.as_deref().is_some_and(|e| e.contains("NUL")),
                "{body}: {error:?}"
            );
        }
        assert!(from_slice(br#"{"message":"\\u0000 as text is fine"}"#).is_ok());
    }

    #[test]
    fn refuses_a_duplicate_key_at_any_depth() {
        for text in [
            r#"{"resource":"staging","resource":"accounts"}"#,
            r#"{"errors":[{"code":"A","code":"B","message":"m"}]}"#,
        ] {
            let error = from_slice(text.as_bytes()).err().map(|e| e.to_string());
            assert!(
                error.as_deref().is_some_and(|e| e.contains("given twice")),
                "{text}: {error:?}"
            );
        }
    }

    #[test]
    fn keeps_serde_json_recursion_limit() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(from_slice(deep.as_bytes()).is_err());
    }
}
