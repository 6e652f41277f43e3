//! The scan that keeps secrets out of the widget's bundle: patterns of every kind of secret,
//! and the exact secret values of the stacks that are running.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use vantage_dev_files::tree::files_under;

use crate::error::{Result, XtaskError};
use crate::stack::StackEnv;

/// What must never be in the browser bundle, found by pattern: any secret key, service-role
/// credential, writer token or JWT at all (the publishable key and the user's session come at
/// run time, never at build time).
const FORBIDDEN_TEXT: &[(&str, &str)] = &[
    (
        "service_role",
        "the service role's name (a service key or its variable)",
    ),
    ("sb_secret_", "a Supabase secret key"),
    (
        "SUPABASE_SECRET_KEYS",
        "the edge function's secret keys variable",
    ),
    ("JWT_SECRET", "the JWT secret's variable"),
];

/// A secret found in the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file it is in.
    pub file: PathBuf,
    /// What it looks like.
    pub what: String,
}

/// Scans every file under `dist` for secrets: the patterns above, writer tokens (`vst_` and 8
/// or more token characters), JWTs (`eyJ…​.eyJ…`), and the exact `values` given (e.g. the
/// test stack's service-role key and JWT secret).
pub fn scan_for_secrets(dist: &Path, values: &[(String, String)]) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    // A widget not built yet has no `dist`: nothing to scan is the error below.
    let files = if dist.is_dir() {
        files_under(dist)?
    } else {
        Vec::new()
    };
    if files.is_empty() {
        return Err(XtaskError::NoFiles {
            what: "files of the built widget (build it first)",
            dir: dist.to_path_buf(),
        });
    }
    for file in files {
        let bytes = std::fs::read(&file).map_err(XtaskError::io("reading", &file))?;
        let mut found = |what: String| {
            findings.push(Finding {
                file: file.clone(),
                what,
            });
        };
        for (pattern, what) in FORBIDDEN_TEXT {
            if contains(&bytes, pattern.as_bytes()) {
                found(format!("{what} ({pattern:?})"));
            }
        }
        if has_token(&bytes, b"vst_", 8) {
            found("a writer token (vst_...)".into());
        }
        if has_jwt(&bytes) {
            found("a JWT (eyJ....eyJ...)".into());
        }
        for (name, value) in values {
            if value.len() >= 8 && contains(&bytes, value.as_bytes()) {
                found(format!("the value of {name}"));
            }
        }
    }
    Ok(findings)
}

/// Secret values from a stack's env file (`target/stack/env` or the test stack's): the service
/// role key, the JWT secret, and any variable naming a secret or writer token.
pub fn stack_secrets(env_file: &Path) -> Vec<(String, String)> {
    // No stack, no values to look for.
    let Ok(env) = StackEnv::read(env_file) else {
        return Vec::new();
    };
    env.entries()
        .filter(|(name, _)| {
            ["SERVICE_ROLE", "SECRET", "WRITER", "PRIVATE"]
                .iter()
                .any(|word| name.contains(word))
        })
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Whether `prefix` occurs followed by at least `min` token characters.
fn has_token(bytes: &[u8], prefix: &[u8], min: usize) -> bool {
    bytes.windows(prefix.len()).enumerate().any(|(i, w)| {
        w == prefix
            && bytes[i + prefix.len()..]
                .iter()
                .take_while(|b| is_token_byte(**b))
                .count()
                >= min
    })
}

/// Whether a JWT's first two segments occur: `eyJ` + 10 or more base64url characters, a dot,
/// `eyJ`.
fn has_jwt(bytes: &[u8]) -> bool {
    bytes.windows(3).enumerate().any(|(i, w)| {
        if w != b"eyJ" {
            return false;
        }
        let rest = &bytes[i + 3..];
        let n = rest.iter().take_while(|b| is_token_byte(**b)).count();
        n >= 10 && rest.get(n) == Some(&b'.') && rest[n + 1..].starts_with(b"eyJ")
    })
}

/// The findings as a message naming each file and what is in it.
pub fn describe_findings(findings: &[Finding]) -> String {
    let mut text = String::from("the widget bundle holds secrets:");
    for f in findings {
        let _ = write!(text, "\n    {}: {}", f.file.display(), f.what);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist_with(files: &[(&str, &[u8])]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "vantage-widget-scan-{}-{}",
            std::process::id(),
            files.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating a test folder");
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).expect("writing a test file");
        }
        dir
    }

    #[test]
    fn the_scan_finds_every_kind_of_secret_and_passes_a_clean_bundle() {
        let clean = dist_with(&[
            (
                "app.js",
                b"fetch(url,{headers:{apikey:k}}) // vst_ alone is no token",
            ),
            (
                "app.wasm",
                b"\0asm sb_publishable_ is a prefix, eyJ alone too",
            ),
        ]);
        let none = scan_for_secrets(&clean, &[]).expect("scanning the test folder");
        assert_eq!(none, []);

        let dirty = dist_with(&[
            ("a.js", b"const k='sb_secret_abc';"),
            ("b.js", b"role:'service_role'"),
            ("c.wasm", b"xx vst_0123456789abcdef yy"),
            ("d.js", b"k='eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.sig'"),
            ("e.css", b"/* s3cr3t-value-from-env */"),
        ]);
        let values = [("JWT_SECRET".to_owned(), "s3cr3t-value-from-env".to_owned())];
        let found = scan_for_secrets(&dirty, &values).expect("scanning the test folder");
        let files: Vec<String> = found
            .iter()
            .filter_map(|f| f.file.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(files, ["a.js", "b.js", "c.wasm", "d.js", "e.css"]);
        let _ = std::fs::remove_dir_all(clean);
        let _ = std::fs::remove_dir_all(dirty);
    }

    #[test]
    fn stack_secrets_are_read_from_the_env_file() {
        let dir = dist_with(&[(
            "env",
            b"POSTGREST_URL='http://127.0.0.1:1'\nSERVICE_ROLE_KEY='abc.def.ghi'\nJWT_SECRET='xyz'\nANON_KEY='a.b.c'\n",
        )]);
        let secrets = stack_secrets(&dir.join("env"));
        assert_eq!(
            secrets,
            [
                ("SERVICE_ROLE_KEY".to_owned(), "abc.def.ghi".to_owned()),
                ("JWT_SECRET".to_owned(), "xyz".to_owned())
            ]
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
