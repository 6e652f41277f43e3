//! `GET health`'s query parameters: which rows (`health`, `resource`), how many (`limit`) and
//! from where (`cursor`), each checked before anything goes upstream, and the PostgREST filters
//! they become. Pure: no I/O, no clock.
//!
//! Without parameters the answer is what it always was: every row. The cursor is keyset
//! paging on the health view's `sort_key` (`<rank>:<resource>`, collation "C": red, yellow,
//! green, then name; unique, since the resource is the key): a page holds the rows whose key
//! comes after the cursor's, so a row is never skipped or repeated because rows were added or
//! removed elsewhere, as offsets would. A resource whose health changes between two pages
//! changes its key, and may then be seen twice or not at all in that walk (docs/edge.md).

use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::EdgeError;
use crate::strict_json::quoted;
use crate::validation::{MAX_RESOURCE_CHARS, is_valid_resource};

/// The parameters `GET health` takes, in the order messages name them.
pub const PARAMETERS: [&str; 4] = ["health", "resource", "limit", "cursor"];

/// The most rows one page may ask for (PostgREST's `db-max-rows` on Supabase by default).
pub const MAX_LIMIT: u32 = 1000;

/// The longest cursor accepted, in bytes: a sort key of a resource name far longer than any
/// the edge accepts, base64-encoded.
pub const MAX_CURSOR_BYTES: usize = 1024;

/// What a cursor holds before its sort key: a version, so that a later format can refuse an
/// older cursor with a sentence instead of misreading it.
const CURSOR_PREFIX: &str = "v1:";

/// The health colours, in the view's order.
const HEALTHS: [&str; 3] = ["red", "yellow", "green"];

/// `GET health`'s parameters, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthQuery {
    /// Only rows of these colours (each once, red, yellow, green order); empty: every colour.
    pub health: Vec<&'static str>,
    /// Only this resource.
    pub resource: Option<String>,
    /// At most this many rows (1 to [`MAX_LIMIT`]), with a cursor for the next page; `None`:
    /// every row.
    pub limit: Option<u32>,
    /// Only rows whose `sort_key` comes after this one (from the caller's `cursor`).
    pub after: Option<String>,
}

impl HealthQuery {
    /// Parses the request's query string (`None`: no `?`). Unknown and repeated parameters
    /// are refused, as a body's unknown fields are: a misspelt `limt=10` would otherwise
    /// silently read everything.
    pub fn parse(query: Option<&str>) -> Result<Self, EdgeError> {
        let mut parsed = Self::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let Some(known) = PARAMETERS.iter().copied().find(|p| *p == name) else {
                return Err(EdgeError::invalid(format!(
                    "unknown parameter {}; GET health takes {}",
                    quoted(&name),
                    PARAMETERS.join(", ")
                )));
            };
            if seen.contains(&known) {
                return Err(EdgeError::invalid(format!(
                    "\"{known}\" is given twice; give each parameter at most once"
                )));
            }
            seen.push(known);
            match known {
                "health" => parsed.health = parse_health(&value)?,
                "resource" => parsed.resource = Some(parse_resource(&value)?),
                "limit" => parsed.limit = Some(parse_limit(&value)?),
                _ => parsed.after = Some(parse_cursor(&value)?),
            }
        }
        Ok(parsed)
    }

    /// Whether the caller asked for a page (`limit` or `cursor`): the answer then says where
    /// the next one starts.
    pub fn is_paged(&self) -> bool {
        self.limit.is_some() || self.after.is_some()
    }

    /// The PostgREST filters, each `&name=op.value` with the value percent-encoded: nothing a
    /// caller sent reaches PostgREST's query string as it came. (Writing to a `String` cannot
    /// fail.)
    pub fn filters(&self) -> String {
        let mut filters = String::new();
        if !self.health.is_empty() {
            // The colours are this module's own words: nothing to encode.
            let _ = write!(filters, "&health=in.({})", self.health.join(","));
        }
        if let Some(resource) = &self.resource {
            let _ = write!(filters, "&resource=eq.{}", percent_encoded(resource));
        }
        if let Some(after) = &self.after {
            let _ = write!(filters, "&sort_key=gt.{}", percent_encoded(after));
        }
        filters
    }
}

/// The cursor that continues after the row whose `sort_key` is `sort_key`.
pub fn cursor_after(sort_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{sort_key}"))
}

/// `red,yellow`: known colours, each kept once, in the view's order.
fn parse_health(value: &str) -> Result<Vec<&'static str>, EdgeError> {
    let mut wanted = Vec::new();
    for item in value.split(',') {
        let Some(known) = HEALTHS.iter().copied().find(|h| *h == item) else {
            return Err(EdgeError::invalid(format!(
                "\"health\" must be a comma-separated list of red, yellow and green, such as health=red,yellow (got {})",
                quoted(value)
            )));
        };
        if !wanted.contains(&known) {
            wanted.push(known);
        }
    }
    wanted.sort_by_key(|h| HEALTHS.iter().position(|known| known == h));
    Ok(wanted)
}

/// A resource name, by the rule `start` applies.
fn parse_resource(value: &str) -> Result<String, EdgeError> {
    if is_valid_resource(value) {
        Ok(value.to_owned())
    } else {
        Err(EdgeError::invalid(format!(
            "\"resource\" must be a resource's name: a lower-case letter, then up to {} letters, digits or underscores (got {})",
            MAX_RESOURCE_CHARS - 1,
            quoted(value)
        )))
    }
}

/// A whole number from 1 to [`MAX_LIMIT`], digits only.
fn parse_limit(value: &str) -> Result<u32, EdgeError> {
    value
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| value.parse::<u32>().ok())
        .flatten()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            EdgeError::invalid(format!(
                "\"limit\" must be a whole number from 1 to {MAX_LIMIT} (got {}); leave it out to get every row",
                quoted(value)
            ))
        })
}

/// The sort key inside a cursor this function handed out.
fn parse_cursor(value: &str) -> Result<String, EdgeError> {
    let refused = || {
        EdgeError::invalid(
            "\"cursor\" is not one this function handed out; pass the previous answer's next_cursor unchanged, or leave it out to start from the first row",
        )
    };
    if value.is_empty() || value.len() > MAX_CURSOR_BYTES {
        return Err(refused());
    }
    let bytes = URL_SAFE_NO_PAD.decode(value).map_err(|_| refused())?;
    let text = String::from_utf8(bytes).map_err(|_| refused())?;
    let key = text.strip_prefix(CURSOR_PREFIX).ok_or_else(refused)?;
    // `<rank>:<resource>`, the rank 1 to 3 (the view's red, yellow, green).
    let well_formed = matches!(key.as_bytes(), [b'1'..=b'3', b':', _, ..]) && !key.contains('\0');
    if well_formed {
        Ok(key.to_owned())
    } else {
        Err(refused())
    }
}

/// `text` with every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`) as `%XX`.
fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(query: &str) -> String {
        match HealthQuery::parse(Some(query)) {
            Ok(parsed) => panic!("{query:?} was accepted: {parsed:?}"),
            Err(e) => {
                assert_eq!(e.status().as_u16(), 400, "{query}: {e}");
                assert_eq!(e.code(), "invalid_request");
                e.to_string()
            }
        }
    }

    #[test]
    fn no_parameters_read_everything() -> Result<(), EdgeError> {
        for query in [None, Some(""), Some("&")] {
            let parsed = HealthQuery::parse(query)?;
            assert_eq!(parsed, HealthQuery::default());
            assert!(!parsed.is_paged());
            assert_eq!(parsed.filters(), "");
        }
        Ok(())
    }

    #[test]
    fn filters_become_percent_encoded_postgrest_filters() -> Result<(), EdgeError> {
        let cursor = cursor_after("2:accounts");
        let parsed = HealthQuery::parse(Some(&format!(
            "health=green,red,red&resource=accounts&limit=50&cursor={cursor}"
        )))?;
        assert_eq!(parsed.health, ["red", "green"]);
        assert_eq!(parsed.resource.as_deref(), Some("accounts"));
        assert_eq!(parsed.limit, Some(50));
        assert_eq!(parsed.after.as_deref(), Some("2:accounts"));
        assert!(parsed.is_paged());
        assert_eq!(
            parsed.filters(),
            "&health=in.(red,green)&resource=eq.accounts&sort_key=gt.2%3Aaccounts"
        );
        // Percent-encoded parameters are read decoded.
        let encoded = HealthQuery::parse(Some("health=red%2Cyellow&limit=%31"))?;
        assert_eq!(encoded.health, ["red", "yellow"]);
        assert_eq!(encoded.limit, Some(1));
        Ok(())
    }

    #[test]
    fn cursors_round_trip_any_sort_key() -> Result<(), EdgeError> {
        for key in [
            "1:a",
            "3:accounts",
            "2:we\"ird\\name\nline & more=%2",
            "3:ü",
        ] {
            let cursor = cursor_after(key);
            assert!(
                cursor
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{cursor}"
            );
            let parsed = HealthQuery::parse(Some(&format!("cursor={cursor}")))?;
            assert_eq!(parsed.after.as_deref(), Some(key));
            let filter = parsed.filters();
            assert!(
                filter
                    .trim_start_matches("&sort_key=gt.")
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
                "{filter}"
            );
        }
        Ok(())
    }

    #[test]
    fn every_bad_value_gets_its_sentence() {
        let long_cursor = "A".repeat(MAX_CURSOR_BYTES + 1);
        let cases: [(&str, &str); 18] = [
            (
                "health=purple",
                "\"health\" must be a comma-separated list of red, yellow and green, such as health=red,yellow (got \"purple\")",
            ),
            ("health=", "(got \"\")"),
            ("health=red,", "(got \"red,\")"),
            ("health=RED", "(got \"RED\")"),
            (
                "resource=Accounts",
                "\"resource\" must be a resource's name: a lower-case letter, then up to 62 letters, digits or underscores (got \"Accounts\")",
            ),
            ("resource=", "(got \"\")"),
            (
                "limit=0",
                "\"limit\" must be a whole number from 1 to 1000 (got \"0\"); leave it out to get every row",
            ),
            ("limit=5000", "(got \"5000\")"),
            ("limit=abc", "(got \"abc\")"),
            ("limit=%2B5", "(got \"+5\")"),
            ("limit=-1", "(got \"-1\")"),
            ("limit=99999999999999999999", "from 1 to 1000"),
            (
                "cursor=abc",
                "\"cursor\" is not one this function handed out; pass the previous answer's next_cursor unchanged, or leave it out to start from the first row",
            ),
            ("cursor=", "is not one this function handed out"),
            ("cursor=dj", "is not one this function handed out"),
            (
                "limt=10",
                "unknown parameter \"limt\"; GET health takes health, resource, limit, cursor",
            ),
            (
                "limit=1&limit=2",
                "\"limit\" is given twice; give each parameter at most once",
            ),
            ("health=red&health=red", "\"health\" is given twice"),
        ];
        for (query, expected) in cases {
            let message = refused(query);
            assert!(
                message.contains(expected),
                "{query}: {message:?} lacks {expected:?}"
            );
        }
        for cursor in [
            long_cursor,
            URL_SAFE_NO_PAD.encode("2:accounts"),
            URL_SAFE_NO_PAD.encode("v1:"),
            URL_SAFE_NO_PAD.encode("v1:4:accounts"),
            URL_SAFE_NO_PAD.encode("v1:1:"),
            URL_SAFE_NO_PAD.encode("v1:1:a\0b"),
            URL_SAFE_NO_PAD.encode([b'v', b'1', b':', b'1', b':', 0xff]),
            "djE6MTph====".to_owned(),
        ] {
            let message = refused(&format!("cursor={cursor}"));
            assert!(message.contains("next_cursor"), "{cursor}: {message}");
        }
    }

    #[test]
    fn messages_never_echo_more_than_forty_characters() {
        let message = refused(&format!("resource={}", "x".repeat(500)));
        assert!(message.len() < 200, "{message}");
        let message = refused(&format!("{}=1", "p".repeat(500)));
        assert!(message.len() < 200, "{message}");
    }
}
