//! The widget's settings, read from name/value pairs (a page's URL, an element's attributes),
//! checked once, so the rest of the widget can trust them.

use std::fmt;

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// Default seconds between refreshes.
pub const DEFAULT_REFRESH_SECONDS: u32 = 30;

/// Validated settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// PostgREST's root: `https://<ref>.supabase.co/rest/v1`, or a self-hosted PostgREST.
    pub rest_url: String,
    /// The project's publishable key (`sb_publishable_...`) or legacy anon JWT, sent as
    /// `apikey`. Never a secret key: see [`ConfigError::NotPublishable`].
    pub api_key: String,
    /// The signed-in user's JWT, sent as `Authorization: Bearer`.
    pub access_token: Option<String>,
    /// Seconds between refreshes.
    pub refresh_seconds: u32,
    /// Compact mode: show only this resource, as one line.
    pub resource: Option<String>,
    /// Where the project's edge functions are (`https://<ref>.supabase.co/functions/v1`), for
    /// the admin's "Abort run"; from `functions-url`, else derived from `supabase-url`.
    pub functions_url: Option<String>,
}

/// Why settings were refused; each message says what to set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Neither `supabase-url` nor `rest-url` was given.
    MissingUrl,
    /// The URL is not `http://` or `https://`.
    BadUrl(String),
    /// No `publishable-key` / `anon-key`.
    MissingKey,
    /// The key is neither a publishable key nor a legacy anon key.
    NotPublishable,
    /// `refresh-seconds` is not a whole number from 5 to 86400.
    BadRefresh(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingUrl => f.write_str(
                "Set supabase-url (your project's URL) or rest-url (a PostgREST server's URL).",
            ),
            Self::BadUrl(url) => write!(f, "The URL \u{201c}{url}\u{201d} must start with https:// or http://."),
            Self::MissingKey => f.write_str(
                "Set publishable-key to your project's publishable key (or anon-key to the legacy anon key).",
            ),
            Self::NotPublishable => f.write_str(
                "The key is not a publishable or anon key. Browsers must only ever get the \
                 publishable key: never put a secret key in a web page.",
            ),
            Self::BadRefresh(value) => {
                write!(f, "refresh-seconds must be a whole number from 5 to 86400, not \u{201c}{value}\u{201d}.")
            }
        }
    }
}

/// A setting's name as [`Config::from_pairs`] reads it: trimmed, lower-case, `_` as `-`.
pub fn setting_name(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('_', "-")
}

/// Whether the setting `name` says where data and the session go: a URL or the key. A link
/// that sets one of these must not get the session supabase-js stored for this origin.
pub fn names_a_server(name: &str) -> bool {
    matches!(
        setting_name(name).as_str(),
        "supabase-url" | "rest-url" | "functions-url" | "publishable-key" | "anon-key" | "apikey"
    )
}

impl Config {
    /// Settings from name/value pairs. Names are case-insensitive and `_` counts as `-`, so a
    /// Supabase auth redirect's `access_token` is read too. Known names: `supabase-url`
    /// (REST is then at `/rest/v1`, edge functions at `/functions/v1`), `rest-url`,
    /// `functions-url`, `publishable-key`, `anon-key`, `access-token`, `refresh-seconds`,
    /// `resource`. Later pairs win; others are ignored.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, ConfigError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut supabase_url = None;
        let mut rest_url = None;
        let mut api_key = None;
        let mut access_token = None;
        let mut refresh = None;
        let mut resource = None;
        let mut functions_url = None;
        for (name, value) in pairs {
            let name = setting_name(name.as_ref());
            let value = value.as_ref().trim();
            if value.is_empty() {
                continue;
            }
            let slot = match name.as_str() {
                "supabase-url" => &mut supabase_url,
                "rest-url" => &mut rest_url,
                "publishable-key" | "anon-key" | "apikey" => &mut api_key,
                "access-token" => &mut access_token,
                "refresh-seconds" => &mut refresh,
                "resource" => &mut resource,
                "functions-url" => &mut functions_url,
                _ => continue,
            };
            *slot = Some(value.to_owned());
        }

        let supabase_url = supabase_url.map(checked_url).transpose()?;
        let functions_url = match (functions_url, &supabase_url) {
            (Some(url), _) => Some(checked_url(url)?),
            (None, Some(url)) => Some(format!("{url}/functions/v1")),
            (None, None) => None,
        };
        let rest_url = match (rest_url, supabase_url) {
            (Some(url), _) => checked_url(url)?,
            (None, Some(url)) => format!("{url}/rest/v1"),
            (None, None) => return Err(ConfigError::MissingUrl),
        };
        let api_key = api_key.ok_or(ConfigError::MissingKey)?;
        if !is_publishable(&api_key) {
            return Err(ConfigError::NotPublishable);
        }
        let refresh_seconds = match refresh {
            None => DEFAULT_REFRESH_SECONDS,
            Some(text) => match text.parse() {
                Ok(n) if (5..=86_400).contains(&n) => n,
                _ => return Err(ConfigError::BadRefresh(text)),
            },
        };
        Ok(Self {
            rest_url,
            api_key,
            access_token,
            refresh_seconds,
            resource,
            functions_url,
        })
    }
}

/// An object's string and whole-number fields as setting pairs.
pub fn object_settings(value: &JsValue) -> Vec<(String, String)> {
    let Some(object) = value.dyn_ref::<Object>() else {
        return Vec::new();
    };
    Object::keys(object)
        .iter()
        .filter_map(|key| {
            let name = key.as_string()?;
            let field = Reflect::get(object, &key).ok()?;
            let text = field
                .as_string()
                .or_else(|| field.as_f64().and_then(whole_number_text))?;
            Some((kebab_case(&name), text))
        })
        .collect()
}

/// A whole number as setting text (`30`); `None` for fractions. Settings hold no fractions,
/// and formatting one would ship the float printer (6 KB of wasm) in the bundle.
pub fn whole_number_text(n: f64) -> Option<String> {
    // Whole and far inside i64, so the conversion is exact.
    #[allow(clippy::cast_possible_truncation)]
    (n.fract() == 0.0 && n.abs() < 9.0e15).then(|| (n as i64).to_string())
}

/// `refreshSeconds` → `refresh-seconds`; kebab-case names stay as they are.
pub fn kebab_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn checked_url(url: String) -> Result<String, ConfigError> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url.trim_end_matches('/').to_owned())
    } else {
        Err(ConfigError::BadUrl(url))
    }
}

/// Whether a key may be sent from a browser: a publishable key, or a legacy JWT whose role is
/// `anon`. An allow-list, so the bundle needs no knowledge of what secret keys look like.
fn is_publishable(key: &str) -> bool {
    if key.starts_with("sb_publishable_") {
        return true;
    }
    let mut parts = key.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    base64url_decode(payload).is_some_and(|json| {
        let compact: String = String::from_utf8_lossy(&json)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        compact.contains("\"role\":\"anon\"")
    })
}

/// Decodes unpadded base64url (a JWT segment).
pub(crate) fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JWT-shaped key with this payload (header and signature are not checked here).
    fn jwt(payload: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in payload.as_bytes().chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            }
        }
        format!("eyJhbGciOiJFUzI1NiJ9.{out}.c2ln")
    }

    #[test]
    fn reads_a_supabase_project_and_an_auth_redirect() {
        let config = Config::from_pairs([
            ("supabase-url", "https://abc.supabase.co/"),
            ("publishable-key", "sb_publishable_123"),
            ("access_token", "user.jwt.token"),
            ("token_type", "bearer"),
        ]);
        assert_eq!(
            config,
            Ok(Config {
                rest_url: "https://abc.supabase.co/rest/v1".into(),
                api_key: "sb_publishable_123".into(),
                access_token: Some("user.jwt.token".into()),
                refresh_seconds: 30,
                resource: None,
                functions_url: Some("https://abc.supabase.co/functions/v1".into()),
            })
        );
    }

    #[test]
    fn reads_a_self_hosted_postgrest_and_compact_mode() {
        let config = Config::from_pairs([
            ("rest-url", "http://127.0.0.1:3000"),
            ("anon-key", &jwt(r#"{"role": "anon", "iss": "supabase"}"#)),
            ("refresh-seconds", "60"),
            ("resource", "accounts"),
        ])
        .expect("a valid configuration");
        assert_eq!(config.rest_url, "http://127.0.0.1:3000");
        assert_eq!(config.refresh_seconds, 60);
        assert_eq!(config.resource.as_deref(), Some("accounts"));
        assert_eq!(config.functions_url, None, "no abort without an edge URL");
    }

    #[test]
    fn the_edge_url_can_be_set_for_a_self_hosted_stack() {
        let config = Config::from_pairs([
            ("rest-url", "http://127.0.0.1:3000"),
            ("functions-url", "http://127.0.0.1:54321/functions/v1/"),
            ("publishable-key", "sb_publishable_1"),
        ])
        .expect("a valid configuration");
        assert_eq!(
            config.functions_url.as_deref(),
            Some("http://127.0.0.1:54321/functions/v1")
        );
    }

    #[test]
    fn refuses_what_would_break_or_leak() {
        let key = ("publishable-key", "sb_publishable_1".to_owned());
        let url = ("supabase-url", "https://x.supabase.co".to_owned());
        let cases = [
            (vec![key.clone()], ConfigError::MissingUrl),
            (
                vec![("supabase-url", "ftp://x".to_owned()), key.clone()],
                ConfigError::BadUrl("ftp://x".into()),
            ),
            (vec![url.clone()], ConfigError::MissingKey),
            (
                vec![url.clone(), ("publishable-key", "sb_other_1".to_owned())],
                ConfigError::NotPublishable,
            ),
            (
                vec![
                    url.clone(),
                    ("anon-key", jwt(r#"{"role":"authenticated"}"#)),
                ],
                ConfigError::NotPublishable,
            ),
            (
                vec![url, key, ("refresh-seconds", "1".to_owned())],
                ConfigError::BadRefresh("1".into()),
            ),
        ];
        for (pairs, error) in cases {
            assert_eq!(Config::from_pairs(pairs), Err(error));
        }
    }

    #[test]
    fn whole_numbers_become_text_and_fractions_do_not() {
        assert_eq!(whole_number_text(30.0).as_deref(), Some("30"));
        assert_eq!(whole_number_text(-5.0).as_deref(), Some("-5"));
        assert_eq!(whole_number_text(2.5), None);
        assert_eq!(whole_number_text(f64::NAN), None);
    }

    #[test]
    fn option_names_become_setting_names() {
        assert_eq!(kebab_case("supabaseUrl"), "supabase-url");
        assert_eq!(kebab_case("refreshSeconds"), "refresh-seconds");
        assert_eq!(kebab_case("publishable-key"), "publishable-key");
        assert_eq!(kebab_case("resource"), "resource");
    }
}
