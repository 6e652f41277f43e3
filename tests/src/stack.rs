//! The running local stack, as described by the env file `cargo xtask up` writes.

use std::path::{Path, PathBuf};

use vantage_dev_files::EnvFile;

use crate::error::{Error, Result};

/// The variable that points the tests at a stack's env file (set by `cargo xtask test`).
pub const STACK_ENV_VAR: &str = "VANTAGE_STACK_ENV";

/// Endpoints and credentials of one running stack.
#[derive(Clone)]
pub struct Stack {
    env_file: PathBuf,
    database_url: String,
    postgrest_url: String,
    postgrest_admin_url: String,
    anon_key: String,
    authenticated_jwt: String,
    service_role_key: String,
    jwt_secret: String,
    jwks_file: PathBuf,
    /// Every entry of the env file, for the settings only some tests need.
    settings: EnvFile,
}

impl std::fmt::Debug for Stack {
    // Keys and the secret stay out of test output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("env_file", &self.env_file)
            .field("database_url", &self.database_url)
            .field("postgrest_url", &self.postgrest_url)
            .finish_non_exhaustive()
    }
}

impl Stack {
    /// The stack named by `$VANTAGE_STACK_ENV`, else the dev stack of `cargo xtask up`.
    pub fn load() -> Result<Self> {
        Self::from_file(&default_env_file())
    }

    /// The stack described by the env file at `path`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoStack {
                    path: path.to_path_buf(),
                });
            }
            Err(source) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Self::parse(path, &text)
    }

    /// Reads the `KEY='value'` lines of an env file (the one rule of
    /// [`vantage_dev_files::env_file`]); `path` is only used in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let settings = EnvFile::parse(path, text)?;
        let get = |key: &'static str| setting(&settings, path, key);
        Ok(Self {
            env_file: path.to_path_buf(),
            database_url: get("DATABASE_URL")?,
            postgrest_url: get("POSTGREST_URL")?.trim_end_matches('/').to_owned(),
            postgrest_admin_url: get("POSTGREST_ADMIN_URL")?,
            anon_key: get("ANON_KEY")?,
            authenticated_jwt: get("AUTHENTICATED_JWT")?,
            service_role_key: get("SERVICE_ROLE_KEY")?,
            jwt_secret: get("JWT_SECRET")?,
            jwks_file: PathBuf::from(get("JWKS_FILE")?),
            settings,
        })
    }

    /// Any other entry of the env file (entries such as `POSTGREST_BIN` only some tests need).
    pub fn setting(&self, key: &'static str) -> Result<String> {
        setting(&self.settings, &self.env_file, key)
    }

    /// The project URL: the stack's API gateway (`SUPABASE_URL`, no trailing slash), in front
    /// of PostgREST (`/rest/v1`), the edge function (`/functions/v1`) and the public JWKS.
    pub fn supabase_url(&self) -> Result<&str> {
        Ok(self.setting_ref("SUPABASE_URL")?.trim_end_matches('/'))
    }

    /// PostgREST through the gateway: `{SUPABASE_URL}/rest/v1`, as browsers and servers reach
    /// it on Supabase.
    pub fn rest_url(&self) -> Result<String> {
        Ok(format!("{}/rest/v1", self.supabase_url()?))
    }

    /// The publishable API key (`sb_publishable_…`), for browsers: the gateway turns it into
    /// the `anon` role.
    pub fn publishable_key(&self) -> Result<&str> {
        self.setting_ref("PUBLISHABLE_KEY")
    }

    /// The secret API key (`sb_secret_…`), for servers: the gateway turns it into the
    /// `service_role` role (and refuses it from a browser).
    pub fn secret_key(&self) -> Result<&str> {
        self.setting_ref("SECRET_KEY")
    }

    /// [`Stack::setting`] without a copy.
    fn setting_ref(&self, key: &'static str) -> Result<&str> {
        self.settings
            .get(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::MissingKey {
                key,
                path: self.env_file.clone(),
            })
    }

    /// The env file this stack was read from.
    pub fn env_file(&self) -> &Path {
        &self.env_file
    }

    /// Superuser connection string (trust auth).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// PostgREST's own port (`POSTGREST_URL`, no trailing slash): the equivalent of Supabase's
    /// `/rest/v1` without the gateway, as self-hosters without one reach it.
    pub fn postgrest_url(&self) -> &str {
        &self.postgrest_url
    }

    /// PostgREST's admin server (`/ready`, `/live`).
    pub fn postgrest_admin_url(&self) -> &str {
        &self.postgrest_admin_url
    }

    /// The legacy anon API key (ES256 JWT, role `anon`).
    pub fn anon_key(&self) -> &str {
        &self.anon_key
    }

    /// The demo user's session token (ES256 JWT, role `authenticated`).
    pub fn authenticated_jwt(&self) -> &str {
        &self.authenticated_jwt
    }

    /// The legacy service-role API key (ES256 JWT, role `service_role`).
    pub fn service_role_key(&self) -> &str {
        &self.service_role_key
    }

    /// The legacy HS256 secret PostgREST also accepts.
    pub fn jwt_secret(&self) -> &str {
        &self.jwt_secret
    }

    /// The JWKS PostgREST verifies tokens with.
    pub fn jwks_file(&self) -> &Path {
        &self.jwks_file
    }
}

/// `$VANTAGE_STACK_ENV` if set, else `<workspace>/target/stack/env`.
pub fn default_env_file() -> PathBuf {
    match std::env::var_os(STACK_ENV_VAR) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target")
            .join("stack")
            .join("env"),
    }
}

/// The non-empty value of `key`, or an error naming the key and the file.
fn setting(settings: &EnvFile, path: &Path, key: &'static str) -> Result<String> {
    settings
        .get(key)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Error::MissingKey {
            key,
            path: path.to_path_buf(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: &str = "# comment\n\
        DATABASE_URL='postgres://postgres@127.0.0.1:1/postgres'\n\
        POSTGREST_URL='http://127.0.0.1:2/'\n\
        POSTGREST_ADMIN_URL='http://127.0.0.1:3'\n\
        ANON_KEY='a.b.c'\n\
        AUTHENTICATED_JWT='d.e.f'\n\
        SERVICE_ROLE_KEY='g.h.i'\n\
        JWT_SECRET='s3cret=with=equals'\n\
        WRITER_TOKEN='it'\\''s'\n\
        JWKS_FILE='/tmp/jwks.json'\n\
        SUPABASE_URL='http://127.0.0.1:4/'\n\
        PUBLISHABLE_KEY='sb_publishable_p'\n\
        SECRET_KEY='sb_secret_s'\n";

    #[test]
    fn parses_every_key() -> Result<()> {
        let stack = Stack::parse(Path::new("env"), ENV)?;
        assert_eq!(
            stack.database_url(),
            "postgres://postgres@127.0.0.1:1/postgres"
        );
        assert_eq!(stack.postgrest_url(), "http://127.0.0.1:2");
        assert_eq!(stack.postgrest_admin_url(), "http://127.0.0.1:3");
        assert_eq!(stack.anon_key(), "a.b.c");
        assert_eq!(stack.authenticated_jwt(), "d.e.f");
        assert_eq!(stack.service_role_key(), "g.h.i");
        assert_eq!(stack.jwt_secret(), "s3cret=with=equals");
        assert_eq!(stack.jwks_file(), Path::new("/tmp/jwks.json"));
        assert_eq!(stack.setting("WRITER_TOKEN")?, "it's");
        assert_eq!(stack.supabase_url()?, "http://127.0.0.1:4");
        assert_eq!(stack.rest_url()?, "http://127.0.0.1:4/rest/v1");
        assert_eq!(stack.publishable_key()?, "sb_publishable_p");
        assert_eq!(stack.secret_key()?, "sb_secret_s");
        Ok(())
    }

    #[test]
    fn an_env_file_from_before_the_gateway_still_loads() -> Result<()> {
        let text: String = ENV
            .lines()
            .filter(|line| {
                !line.starts_with("SUPABASE_URL") && !line.ends_with("_KEY='sb_secret_s'")
            })
            .flat_map(|line| [line, "\n"])
            .collect();
        let stack = Stack::parse(Path::new("env"), &text)?;
        match stack.supabase_url() {
            Err(Error::MissingKey { key, .. }) => assert_eq!(key, "SUPABASE_URL"),
            other => panic!("expected MissingKey, got {other:?}"),
        }
        assert!(matches!(
            stack.secret_key(),
            Err(Error::MissingKey {
                key: "SECRET_KEY",
                ..
            })
        ));
        assert_eq!(stack.publishable_key()?, "sb_publishable_p");
        Ok(())
    }

    #[test]
    fn names_a_missing_key() {
        let text = ENV.replace("JWT_SECRET=", "OTHER=");
        match Stack::parse(Path::new("env"), &text) {
            Err(Error::MissingKey { key, .. }) => assert_eq!(key, "JWT_SECRET"),
            other => panic!("expected MissingKey, got {other:?}"),
        }
    }

    #[test]
    fn an_unquoted_value_is_refused() {
        let text = ENV.replace("ANON_KEY='a.b.c'", "ANON_KEY=a.b.c");
        let parsed = Stack::parse(Path::new("env"), &text).map(|_| ());
        assert!(
            matches!(&parsed, Err(Error::Files(vantage_dev_files::Error::NotQuoted { key, .. })) if key == "ANON_KEY"),
            "{parsed:?}"
        );
    }

    #[test]
    fn a_missing_file_says_how_to_start_a_stack() {
        let err = Stack::from_file(Path::new("/nonexistent/vantage/env"));
        let text = err.map(|_| ()).map_err(|e| e.to_string());
        assert!(
            matches!(&text, Err(t) if t.starts_with("no local stack: run `cargo xtask up` (or `cargo xtask test`)")),
            "{text:?}"
        );
    }

    #[test]
    fn debug_hides_the_keys() -> Result<()> {
        let stack = Stack::parse(Path::new("env"), ENV)?;
        let shown = format!("{stack:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("g.h.i") && !shown.contains("sb_secret"),
            "{shown}"
        );
        Ok(())
    }
}
