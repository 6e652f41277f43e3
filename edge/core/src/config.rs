//! Configuration, read once at start-up from Supabase's own variable names (an Edge Function
//! gets them from the platform) plus the writer-token hashes. Every problem is reported with
//! the variable's name; nothing here can fail later, in a request.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::auth::jwks::{JwksCache, KeySet};
use crate::auth::writer_token::TokenHashes;
use crate::auth::{Authenticator, JwksSource};
use crate::cors::CorsOrigins;

/// `https://<ref>.supabase.co`; required.
pub const SUPABASE_URL: &str = "SUPABASE_URL";
/// PostgREST's root when it is not `{SUPABASE_URL}/rest/v1` (self-hosting, the local stack).
pub const SUPABASE_REST_URL: &str = "SUPABASE_REST_URL";
/// The platform's secret keys: a JSON object of name to `sb_secret_...` key.
pub const SUPABASE_SECRET_KEYS: &str = "SUPABASE_SECRET_KEYS";
/// One secret key (`sb_secret_...`).
pub const SUPABASE_SECRET_KEY: &str = "SUPABASE_SECRET_KEY";
/// The legacy `service_role` JWT.
pub const SUPABASE_SERVICE_ROLE_KEY: &str = "SUPABASE_SERVICE_ROLE_KEY";
/// The project's JWKS as JSON; fetched from Supabase Auth when unset.
pub const SUPABASE_JWKS: &str = "SUPABASE_JWKS";
/// The legacy HS256 JWT secret; HS256 user tokens are refused when unset.
pub const SUPABASE_JWT_SECRET: &str = "SUPABASE_JWT_SECRET";
/// Comma-separated SHA-256 hex digests of the accepted writer tokens; required.
pub const VANTAGE_WRITER_TOKEN_SHA256: &str = "VANTAGE_WRITER_TOKEN_SHA256";
/// Comma-separated SHA-256 hex digests of tokens accepted on `GET metrics` only (optional; a
/// writer token is accepted there too).
pub const VANTAGE_METRICS_TOKEN_SHA256: &str = "VANTAGE_METRICS_TOKEN_SHA256";
/// Comma-separated origins allowed to call `abort` and `health` from a browser, or `*`.
pub const VANTAGE_CORS_ORIGINS: &str = "VANTAGE_CORS_ORIGINS";
/// Timeout of each upstream call in milliseconds (default 10,000).
pub const VANTAGE_UPSTREAM_TIMEOUT_MS: &str = "VANTAGE_UPSTREAM_TIMEOUT_MS";

/// The dashboard's address, linked from every webhook event (optional).
pub const VANTAGE_DASHBOARD_URL: &str = "VANTAGE_DASHBOARD_URL";
/// `true` lets webhooks reach loopback and private addresses: local stacks and tests only.
pub const VANTAGE_WEBHOOKS_ALLOW_PRIVATE: &str = "VANTAGE_WEBHOOKS_ALLOW_PRIVATE";

/// The default upstream timeout.
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 10_000;

/// A configuration problem, naming the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{var} is not set: {hint}")]
    Missing {
        /// The variable.
        var: &'static str,
        /// What to set it to.
        hint: &'static str,
    },
    /// A variable's value is unusable.
    #[error("{var} {problem}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is wrong with it (never its value: it may be a secret).
        problem: String,
    },
}

/// How the function authenticates to PostgREST.
#[derive(Clone, PartialEq, Eq)]
pub enum ServiceKey {
    /// A new secret key (`sb_secret_...`), sent as `apikey` only; Supabase's gateway turns it
    /// into the service role.
    Secret(String),
    /// The legacy `service_role` JWT, sent as `apikey` and `Authorization: Bearer`.
    LegacyServiceRole(String),
}

impl fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Secret(_) => "ServiceKey::Secret(..)",
            Self::LegacyServiceRole(_) => "ServiceKey::LegacyServiceRole(..)",
        })
    }
}

/// The validated configuration.
pub struct Config {
    /// `SUPABASE_URL`, without a trailing slash.
    pub supabase_url: String,
    /// PostgREST's root, without a trailing slash.
    pub rest_url: String,
    /// The key towards PostgREST.
    pub service_key: ServiceKey,
    /// Accepted writer tokens.
    pub writer_tokens: TokenHashes,
    /// Tokens accepted on `GET metrics` only, if any.
    pub metrics_tokens: Option<TokenHashes>,
    /// User-token keys: static, or the URL to fetch them from.
    pub jwks: JwksConfig,
    /// The legacy HS256 secret, if any.
    pub jwt_secret: Option<String>,
    /// Browser origins allowed on `abort` and `health`.
    pub cors_origins: CorsOrigins,
    /// Timeout of each upstream call (enforced by the adapter), webhook deliveries included.
    pub upstream_timeout_ms: u64,
    /// The dashboard linked from webhook events, without a trailing slash.
    pub dashboard_url: Option<String>,
    /// Whether webhooks may be delivered to loopback and private addresses.
    pub webhooks_allow_private: bool,
}

impl fmt::Debug for Config {
    // Secrets stay out: only their kind and whether they are set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("supabase_url", &self.supabase_url)
            .field("rest_url", &self.rest_url)
            .field("service_key", &self.service_key)
            .field("writer_tokens", &self.writer_tokens)
            .field("metrics_tokens", &self.metrics_tokens)
            .field("jwks", &self.jwks)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| ".."))
            .field("cors_origins", &self.cors_origins)
            .field("upstream_timeout_ms", &self.upstream_timeout_ms)
            .field("dashboard_url", &self.dashboard_url)
            .field("webhooks_allow_private", &self.webhooks_allow_private)
            .finish()
    }
}

/// Where user-token keys come from.
#[derive(Debug, Clone)]
pub enum JwksConfig {
    /// `SUPABASE_JWKS`.
    Static(KeySet),
    /// Fetched from this URL (`{SUPABASE_URL}/auth/v1/.well-known/jwks.json`).
    Fetch(String),
}

impl Config {
    /// Reads and validates the configuration; `var` looks a variable up (`std::env::var(..).ok()`
    /// natively, `Deno.env.get` under Deno). Empty values count as unset.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let supabase_url = get(SUPABASE_URL).ok_or(ConfigError::Missing {
            var: SUPABASE_URL,
            hint: "the project URL, https://<ref>.supabase.co",
        })?;
        let supabase_url = http_url(SUPABASE_URL, &supabase_url)?;
        let rest_url = match get(SUPABASE_REST_URL) {
            Some(url) => http_url(SUPABASE_REST_URL, &url)?,
            None => format!("{supabase_url}/rest/v1"),
        };
        let service_key = service_key(&get)?;
        let writer_tokens = get(VANTAGE_WRITER_TOKEN_SHA256)
            .ok_or(ConfigError::Missing {
                var: VANTAGE_WRITER_TOKEN_SHA256,
                hint: "the SHA-256 hex digest of each writer token, comma-separated (printf %s \"$TOKEN\" | sha256sum)",
            })
            .and_then(|list| token_hashes(VANTAGE_WRITER_TOKEN_SHA256, &list))?;
        let metrics_tokens = get(VANTAGE_METRICS_TOKEN_SHA256)
            .map(|list| token_hashes(VANTAGE_METRICS_TOKEN_SHA256, &list))
            .transpose()?;
        let jwks = match get(SUPABASE_JWKS) {
            Some(text) => JwksConfig::Static(KeySet::from_jwks_json(&text).map_err(|problem| {
                ConfigError::Invalid {
                    var: SUPABASE_JWKS,
                    problem,
                }
            })?),
            None => JwksConfig::Fetch(format!("{supabase_url}/auth/v1/.well-known/jwks.json")),
        };
        let cors_origins = match get(VANTAGE_CORS_ORIGINS) {
            Some(list) => CorsOrigins::parse(&list).map_err(|problem| ConfigError::Invalid {
                var: VANTAGE_CORS_ORIGINS,
                problem,
            })?,
            None => CorsOrigins::default(),
        };
        let upstream_timeout_ms = get(VANTAGE_UPSTREAM_TIMEOUT_MS)
            .map_or(Ok(DEFAULT_UPSTREAM_TIMEOUT_MS), |text| {
                upstream_timeout(&text)
            })?;
        let dashboard_url = get(VANTAGE_DASHBOARD_URL)
            .map(|url| http_url(VANTAGE_DASHBOARD_URL, &url))
            .transpose()?;
        let webhooks_allow_private = allow_private(get(VANTAGE_WEBHOOKS_ALLOW_PRIVATE).as_deref())?;
        Ok(Self {
            supabase_url,
            rest_url,
            service_key,
            writer_tokens,
            metrics_tokens,
            jwks,
            jwt_secret: get(SUPABASE_JWT_SECRET),
            cors_origins,
            upstream_timeout_ms,
            dashboard_url,
            webhooks_allow_private,
        })
    }

    /// The credentials checker this configuration describes.
    pub(crate) fn authenticator(&self) -> Authenticator {
        let jwks = match &self.jwks {
            JwksConfig::Static(keys) => JwksSource::Static(Arc::new(keys.clone())),
            JwksConfig::Fetch(url) => JwksSource::Fetched(JwksCache::new(url.clone())),
        };
        Authenticator::new(
            self.writer_tokens.clone(),
            self.metrics_tokens.clone(),
            jwks,
            self.jwt_secret.as_ref().map(|s| s.as_bytes().to_vec()),
        )
    }
}

/// The secret key wins over the legacy `service_role` JWT: Supabase is retiring the latter.
fn service_key(get: &impl Fn(&str) -> Option<String>) -> Result<ServiceKey, ConfigError> {
    if let Some(text) = get(SUPABASE_SECRET_KEYS) {
        let invalid = |problem: &str| ConfigError::Invalid {
            var: SUPABASE_SECRET_KEYS,
            problem: problem.to_owned(),
        };
        let keys: serde_json::Map<String, Value> = serde_json::from_str(&text)
            .map_err(|_| invalid("is not a JSON object of key name to secret key"))?;
        let key = match keys.get("default") {
            Some(key) => key,
            None if keys.len() == 1 => keys.values().next().unwrap_or(&Value::Null),
            None => {
                return Err(invalid(
                    "has several keys and none named \"default\"; set SUPABASE_SECRET_KEY to the one to use",
                ));
            }
        };
        let key = key
            .as_str()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| invalid("holds a key that is not a non-empty string"))?;
        return Ok(ServiceKey::Secret(key.trim().to_owned()));
    }
    if let Some(key) = get(SUPABASE_SECRET_KEY) {
        return Ok(ServiceKey::Secret(key.trim().to_owned()));
    }
    if let Some(key) = get(SUPABASE_SERVICE_ROLE_KEY) {
        let key = key.trim();
        if key.split('.').count() != 3 {
            return Err(ConfigError::Invalid {
                var: SUPABASE_SERVICE_ROLE_KEY,
                problem: "is not a JWT (the legacy service_role key has three dot-separated parts)"
                    .into(),
            });
        }
        return Ok(ServiceKey::LegacyServiceRole(key.to_owned()));
    }
    Err(ConfigError::Missing {
        var: SUPABASE_SECRET_KEY,
        hint: "a secret key (sb_secret_...), in SUPABASE_SECRET_KEYS or SUPABASE_SECRET_KEY, or the legacy SUPABASE_SERVICE_ROLE_KEY",
    })
}

/// An `http(s)://host[:port][/path]` URL without a trailing slash, query or fragment.
fn http_url(var: &'static str, text: &str) -> Result<String, ConfigError> {
    let text = text.trim().trim_end_matches('/');
    let invalid = || ConfigError::Invalid {
        var,
        problem: format!("is not an http(s) URL like https://<ref>.supabase.co (got {text:?})"),
    };
    let uri: http::Uri = text.parse().map_err(|_| invalid())?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.host().is_none_or(str::is_empty) || uri.query().is_some() {
        return Err(invalid());
    }
    Ok(text.to_owned())
}

/// A comma-separated list of SHA-256 digests in `var`.
fn token_hashes(var: &'static str, list: &str) -> Result<TokenHashes, ConfigError> {
    TokenHashes::from_hex_list(list).map_err(|problem| ConfigError::Invalid { var, problem })
}

/// `VANTAGE_UPSTREAM_TIMEOUT_MS`: whole milliseconds from 1 to 300000.
fn upstream_timeout(text: &str) -> Result<u64, ConfigError> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|ms| (1..=300_000).contains(ms))
        .ok_or_else(|| ConfigError::Invalid {
            var: VANTAGE_UPSTREAM_TIMEOUT_MS,
            problem: "must be a whole number of milliseconds from 1 to 300000".into(),
        })
}

/// `VANTAGE_WEBHOOKS_ALLOW_PRIVATE`: unset, `false`/`0` or `true`/`1`.
fn allow_private(value: Option<&str>) -> Result<bool, ConfigError> {
    match value {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(ConfigError::Invalid {
            var: VANTAGE_WEBHOOKS_ALLOW_PRIVATE,
            problem: "must be true or false".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::auth::writer_token::sha256_hex;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn minimal() -> Vec<(&'static str, String)> {
        vec![
            (SUPABASE_URL, "https://abc.supabase.co/".to_owned()),
            (SUPABASE_SECRET_KEY, "sb_secret_xyz".to_owned()),
            (VANTAGE_WRITER_TOKEN_SHA256, sha256_hex("vst_a")),
        ]
    }

    fn read(pairs: &[(&'static str, String)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Config::from_env(env(&pairs))
    }

    #[test]
    fn a_minimal_configuration_gets_the_defaults() -> Result<(), ConfigError> {
        let config = read(&minimal())?;
        assert_eq!(config.supabase_url, "https://abc.supabase.co");
        assert_eq!(config.rest_url, "https://abc.supabase.co/rest/v1");
        assert_eq!(
            config.service_key,
            ServiceKey::Secret("sb_secret_xyz".into())
        );
        assert!(
            matches!(&config.jwks, JwksConfig::Fetch(url) if url == "https://abc.supabase.co/auth/v1/.well-known/jwks.json")
        );
        assert_eq!(config.upstream_timeout_ms, DEFAULT_UPSTREAM_TIMEOUT_MS);
        assert!(config.jwt_secret.is_none());
        assert!(config.metrics_tokens.is_none());
        Ok(())
    }

    #[test]
    fn the_secret_keys_object_wins_and_default_is_taken() -> Result<(), ConfigError> {
        let mut pairs = minimal();
        pairs.push((
            SUPABASE_SECRET_KEYS,
            r#"{"other":"sb_secret_o","default":"sb_secret_d"}"#.into(),
        ));
        pairs.push((SUPABASE_SERVICE_ROLE_KEY, "a.b.c".into()));
        assert_eq!(
            read(&pairs)?.service_key,
            ServiceKey::Secret("sb_secret_d".into())
        );
        Ok(())
    }

    #[test]
    fn the_legacy_key_is_used_when_it_is_the_only_one() -> Result<(), ConfigError> {
        let mut pairs = minimal();
        pairs.retain(|(k, _)| *k != SUPABASE_SECRET_KEY);
        pairs.push((SUPABASE_SERVICE_ROLE_KEY, "a.b.c".into()));
        pairs.push((SUPABASE_REST_URL, "http://127.0.0.1:3000".into()));
        let config = read(&pairs)?;
        assert_eq!(
            config.service_key,
            ServiceKey::LegacyServiceRole("a.b.c".into())
        );
        assert_eq!(config.rest_url, "http://127.0.0.1:3000");
        Ok(())
    }

    #[test]
    fn every_problem_names_its_variable() {
        let cases: [(&str, &str, &str); 10] = [
            (SUPABASE_URL, "", SUPABASE_URL),
            (SUPABASE_URL, "ftp://x", SUPABASE_URL),
            (SUPABASE_REST_URL, "not a url", SUPABASE_REST_URL),
            (SUPABASE_SECRET_KEYS, "[1]", SUPABASE_SECRET_KEYS),
            (
                SUPABASE_SECRET_KEYS,
                r#"{"a":"sb_secret_1","b":"sb_secret_2"}"#,
                SUPABASE_SECRET_KEYS,
            ),
            (
                VANTAGE_WRITER_TOKEN_SHA256,
                "abc",
                VANTAGE_WRITER_TOKEN_SHA256,
            ),
            (
                VANTAGE_METRICS_TOKEN_SHA256,
                "not-a-hash",
                VANTAGE_METRICS_TOKEN_SHA256,
            ),
            (SUPABASE_JWKS, "{}", SUPABASE_JWKS),
            (VANTAGE_CORS_ORIGINS, "example.com", VANTAGE_CORS_ORIGINS),
            (
                VANTAGE_UPSTREAM_TIMEOUT_MS,
                "0",
                VANTAGE_UPSTREAM_TIMEOUT_MS,
            ),
        ];
        for (var, value, named) in cases {
            let mut pairs = minimal();
            pairs.retain(|(k, _)| *k != var);
            pairs.push((var, value.to_owned()));
            let error = read(&pairs).map(|_| ()).map_err(|e| e.to_string());
            assert!(
                matches!(&error, Err(m) if m.starts_with(named)),
                "{var}={value}: {error:?}"
            );
        }
    }

    #[test]
    fn no_key_at_all_says_which_to_set() {
        let mut pairs = minimal();
        pairs.retain(|(k, _)| *k != SUPABASE_SECRET_KEY);
        let error = read(&pairs).map(|_| ()).map_err(|e| e.to_string());
        assert!(
            matches!(&error, Err(m) if m.contains("SUPABASE_SERVICE_ROLE_KEY")),
            "{error:?}"
        );
    }

    #[test]
    fn errors_and_debug_never_show_secrets() {
        let mut pairs = minimal();
        pairs.push((SUPABASE_SERVICE_ROLE_KEY, "not-a-jwt-secret-value".into()));
        pairs.retain(|(k, _)| *k != SUPABASE_SECRET_KEY);
        let error = read(&pairs).map(|_| ()).map_err(|e| e.to_string());
        assert!(
            matches!(&error, Err(m) if !m.contains("not-a-jwt-secret-value")),
            "{error:?}"
        );
        let mut pairs = minimal();
        pairs.push((SUPABASE_JWT_SECRET, "hs-secret".into()));
        let shown = format!("{:?}", read(&pairs));
        assert!(
            !shown.contains("sb_secret_xyz") && !shown.contains("hs-secret"),
            "{shown}"
        );
    }
}
