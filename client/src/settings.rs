//! Where the function is and the writer token, from flags, then the environment. The token is
//! kept in a type that never prints it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::retry::RetryPolicy;

/// The variable naming the function's URL.
pub const URL_VAR: &str = "VANTAGE_SYNC_URL";
/// The variable holding the writer token.
pub const TOKEN_VAR: &str = "VANTAGE_SYNC_TOKEN";

/// A writer token. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct WriterToken(String);

impl WriterToken {
    /// Wraps a token (surrounding whitespace removed); `None` when nothing is left.
    pub fn new(token: &str) -> Option<Self> {
        let token = token.trim();
        (!token.is_empty()).then(|| Self(token.to_owned()))
    }

    /// The `Authorization` header's value.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for WriterToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriterToken(<hidden>)")
    }
}

/// What a client needs: the function's URL, the token, and how long to retry.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The function's URL, without a trailing slash
    /// (`https://<ref>.supabase.co/functions/v1/vantage-sync`).
    pub url: String,
    /// The writer token.
    pub token: WriterToken,
    /// How each call is retried.
    pub retry: RetryPolicy,
}

impl Settings {
    /// Settings from `url` and `token` as given, with the default retry policy.
    pub fn new(url: &str, token: WriterToken) -> Result<Self> {
        Ok(Self {
            url: checked_url(url)?,
            token,
            retry: RetryPolicy::default(),
        })
    }

    /// Settings from `VANTAGE_SYNC_URL` and `VANTAGE_SYNC_TOKEN`.
    pub fn from_env() -> Result<Self> {
        Self::resolve(None, None, |name| std::env::var(name).ok())
    }

    /// Flags first (`url`, `token_file`), then the variables `env` answers.
    pub fn resolve(
        url: Option<&str>,
        token_file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let url = match url {
            Some(url) => url.to_owned(),
            None => env(URL_VAR)
                .filter(|u| !u.trim().is_empty())
                .ok_or(Error::MissingUrl)?,
        };
        let token = match token_file {
            Some(path) => read_token_file(path)?,
            None => env(TOKEN_VAR)
                .and_then(|t| WriterToken::new(&t))
                .ok_or(Error::MissingToken)?,
        };
        Self::new(&url, token)
    }

    /// The same settings, retrying for `total`.
    #[must_use]
    pub fn retrying_for(mut self, total: Duration) -> Self {
        self.retry.total = total;
        self
    }
}

fn read_token_file(path: &Path) -> Result<WriterToken> {
    let problem = |reason: String| Error::TokenFile {
        path: PathBuf::from(path),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| problem(e.to_string()))?;
    WriterToken::new(&text).ok_or_else(|| problem("the file is empty".into()))
}

/// The URL without a trailing slash, when it is an http(s) URL with a host.
fn checked_url(url: &str) -> Result<String> {
    let bad = |reason: &str| Error::BadUrl {
        url: shown(url),
        reason: reason.to_owned(),
    };
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad(
            "it must start with https:// (or http:// for a local stack)",
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if parsed.query().is_some() || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("it must not carry a query or credentials"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// `url` as an error may show it: without a query, a fragment or credentials, where a secret
/// could have been put by mistake.
fn shown(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..cut];
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[authority_start..]
        .find('/')
        .map_or(url.len(), |i| authority_start + i);
    match url[authority_start..authority_end].rfind('@') {
        Some(at) => format!(
            "{}…@{}",
            &url[..authority_start],
            &url[authority_start + at + 1..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn flags_override_the_environment() {
        let dir = std::env::temp_dir().join(format!("vantage-sync-token-{}", std::process::id()));
        std::fs::write(&dir, "from-file\n").unwrap();
        let vars = [(URL_VAR, "http://env.example/f"), (TOKEN_VAR, "from-env")];
        let s = Settings::resolve(Some("https://flag.example/f/"), Some(&dir), env(&vars)).unwrap();
        assert_eq!(s.url, "https://flag.example/f");
        assert_eq!(s.token, WriterToken::new("from-file").unwrap());
        let s = Settings::resolve(None, None, env(&vars)).unwrap();
        assert_eq!(s.url, "http://env.example/f");
        assert_eq!(s.token, WriterToken::new("from-env").unwrap());
        std::fs::remove_file(dir).unwrap();
    }

    #[test]
    fn missing_or_bad_settings_say_which() {
        let none = env(&[]);
        assert!(matches!(
            Settings::resolve(None, None, &none),
            Err(Error::MissingUrl)
        ));
        let url_only = [(URL_VAR, "https://x.example/f")];
        assert!(matches!(
            Settings::resolve(None, None, env(&url_only)),
            Err(Error::MissingToken)
        ));
        for url in [
            "not a url",
            "ftp://x/f",
            "https://x/f?token=s3cr3t",
            "https://u:s3cr3t@x/f",
        ] {
            let vars = [(URL_VAR, url), (TOKEN_VAR, "t")];
            let err = Settings::resolve(None, None, env(&vars)).unwrap_err();
            assert!(matches!(err, Error::BadUrl { .. }), "{url}");
            assert!(!err.to_string().contains("s3cr3t"), "{err}");
        }
        let missing = Path::new("/nonexistent/token");
        let vars = [(URL_VAR, "https://x.example/f")];
        let err = Settings::resolve(None, Some(missing), env(&vars)).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/token"), "{err}");
    }

    #[test]
    fn the_token_never_prints() {
        let token = WriterToken::new("s3cr3t-token").unwrap();
        let settings = Settings::new("https://x.example/f", token).unwrap();
        assert!(!format!("{settings:?}").contains("s3cr3t"));
    }
}
