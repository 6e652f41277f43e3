//! The stack's env file (`target/stack/env`): what a test, a script or a person needs to talk
//! to the stack, as `KEY='value'` lines that `set -a; . target/stack/env; set +a` loads into a
//! shell.
//!
//! One rule, for the writer and every reader: each value is single-quoted for the shell (a
//! quote inside as `'\''`). `APP_URL` holds `&`, which unquoted would cut the line and run its
//! first half in the background, so a value that is not quoted so is refused, not guessed at.

use std::path::Path;

use crate::error::{Error, Result};
use crate::private_file::write_private_file;

/// The first line of every env file written.
const HEADER: &str = "# Written by `cargo xtask up`; removed by `cargo xtask down`.\n";

/// An env file's settings, in the order they are written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvFile {
    entries: Vec<(String, String)>,
}

impl EnvFile {
    /// No settings yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the env file at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(Error::io("reading", path))?;
        Self::parse(path, &text)
    }

    /// The settings of an env file's `text`; blank lines and `#` comments are skipped, and
    /// `path` is only named in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let mut env = Self::new();
        for line in text
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
        {
            let Some((key, quoted)) = line.split_once('=') else {
                continue;
            };
            let value = unquote(quoted).ok_or_else(|| Error::NotQuoted {
                path: path.to_path_buf(),
                key: key.to_owned(),
            })?;
            env.set(key, value);
        }
        Ok(env)
    }

    /// Sets `key` to `value`, replacing an earlier value in its place.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key.to_owned(), value)),
        }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every setting, in order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The file's text: a comment line, then one `KEY='value'` line per setting.
    pub fn to_text(&self) -> String {
        let mut text = String::from(HEADER);
        for (key, value) in &self.entries {
            text.push_str(key);
            text.push('=');
            text.push_str(&quote(value));
            text.push('\n');
        }
        text
    }

    /// Writes the file at `path`, readable and writable by the owner only: it holds the stack's
    /// secret keys.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_private_file(path, &self.to_text())
    }
}

/// `value` in single quotes for the shell; a quote inside becomes `'\''`.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The inverse of [`quote`]; `None` for text [`quote`] does not write.
fn unquote(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    let parts: Vec<&str> = inner.split(r"'\''").collect();
    // Any other quote would have ended the quoting in the shell.
    parts
        .iter()
        .all(|part| !part.contains('\''))
        .then(|| parts.join("'"))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::Command;

    use super::*;

    const VALUES: [(&str, &str); 6] = [
        (
            "APP_URL",
            "http://127.0.0.1:8080/#access_token=eyJ.a-b_c&token_type=bearer",
        ),
        ("QUOTE", "it's 'quoted'"),
        ("SHELL_WORDS", "$HOME `id` $(id) ; | > * ? ~ \\ \" !"),
        ("SPACES", "  two  spaces  "),
        ("EMPTY", ""),
        ("PLAIN", "postgres://postgres@127.0.0.1:5432/postgres"),
    ];

    fn written(test: &str) -> PathBuf {
        let file = std::env::temp_dir().join(format!("vantage-env-{}-{test}", std::process::id()));
        let mut env = EnvFile::new();
        for (key, value) in VALUES {
            env.set(key, value);
        }
        env.write(&file).expect("writing the env file");
        file
    }

    #[test]
    fn sh_loads_every_value_byte_for_byte() {
        let file = written("sh");
        // As the README says: `set -a; . target/stack/env; set +a`, then print each value
        // NUL-terminated so that spaces and quotes survive.
        let script = format!(
            "set -a; . '{}'; set +a; for k in {}; do eval \"printf '%s\\0' \\\"\\${{$k}}\\\"\"; done",
            file.display(),
            VALUES.map(|(k, _)| k).join(" ")
        );
        let output = Command::new("sh")
            .args(["-c", &script])
            .env_clear()
            .output()
            .expect("running sh");
        let _ = std::fs::remove_file(&file);
        assert!(output.status.success(), "{output:?}");
        let printed = String::from_utf8(output.stdout).expect("sh printed UTF-8");
        let values: Vec<&str> = printed.split_terminator('\0').collect();
        assert_eq!(values, VALUES.map(|(_, v)| v));
    }

    #[test]
    fn what_is_written_reads_back() {
        let file = written("read");
        let env = EnvFile::read(&file).expect("reading the env file");
        let mode = std::fs::metadata(&file).map(|m| {
            use std::os::unix::fs::PermissionsExt;
            m.permissions().mode() & 0o777
        });
        let _ = std::fs::remove_file(&file);
        let read: Vec<(&str, &str)> = env.entries().collect();
        assert_eq!(read, VALUES);
        assert_eq!(mode.ok(), Some(0o600));
    }

    #[test]
    fn unquoted_values_are_refused() {
        assert_eq!(unquote("plain"), None);
        assert_eq!(unquote("'a'b'"), None);
        assert_eq!(unquote(r"'a'\''b'"), Some("a'b".to_owned()));
        let refused = EnvFile::parse(Path::new("env"), "# c\nA='1'\nB=2\n");
        assert!(
            matches!(&refused, Err(Error::NotQuoted { key, .. }) if key == "B"),
            "{refused:?}"
        );
    }

    #[test]
    fn comments_blank_lines_and_repeated_keys() {
        let env = EnvFile::parse(Path::new("env"), "# c\n\nA='1'\nB='x=y'\nA='2'\n")
            .expect("a valid env file");
        assert_eq!(
            env.entries().collect::<Vec<_>>(),
            [("A", "2"), ("B", "x=y")]
        );
        assert_eq!(env.get("C"), None);
    }
}
