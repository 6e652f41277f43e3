//! `target/stack/env`: what a test, a script or a person needs to talk to the stack, as
//! `KEY='value'` lines that `set -a; . target/stack/env; set +a` loads into a shell.
//!
//! Every value is single-quoted for the shell: `APP_URL` holds `&`, which unquoted would cut
//! the line and run its first half in the background.

use std::path::{Path, PathBuf};

use crate::error::{Result, XtaskError};

/// The stack's endpoints and credentials, in the order they are written.
#[derive(Debug, Clone)]
pub struct StackEnv {
    file: PathBuf,
    entries: Vec<(String, String)>,
}

impl StackEnv {
    /// An empty set of settings, to be written to `file`.
    pub fn new(file: PathBuf) -> Self {
        Self {
            file,
            entries: Vec::new(),
        }
    }

    /// Reads the settings of the env file `file`.
    pub fn read(file: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(file).map_err(XtaskError::io("reading", file))?;
        let mut env = Self::new(file.to_path_buf());
        for line in text.lines().filter(|line| !line.starts_with('#')) {
            let Some((key, quoted)) = line.split_once('=') else {
                continue;
            };
            let value = unquote(quoted).ok_or_else(|| XtaskError::Unreadable {
                path: file.to_path_buf(),
                what: "a stack env file",
                reason: format!("the value of {key} is not single-quoted"),
            })?;
            env.set(key, value);
        }
        Ok(env)
    }

    /// Sets `key` to `value`, replacing an earlier value.
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

    /// The value of `key`, or an error that names the file and the key.
    pub fn require(&self, key: &str) -> Result<&str> {
        self.get(key)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| XtaskError::MissingSetting {
                file: self.file.clone(),
                key: key.to_owned(),
            })
    }

    /// Every setting, in order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Writes the file, readable by the owner only: it holds the service-role key.
    pub fn write(&self) -> Result<()> {
        self.write_to(&self.file)
    }

    /// Writes the settings to `path` (another stack file, e.g. one that points at Deno).
    pub fn write_to(&self, path: &Path) -> Result<()> {
        let mut text =
            String::from("# Written by `cargo xtask up`; removed by `cargo xtask down`.\n");
        for (key, value) in &self.entries {
            text.push_str(key);
            text.push('=');
            text.push_str(&quote(value));
            text.push('\n');
        }
        crate::process::write_private_file(path, &text)
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
        let mut env = StackEnv::new(file.clone());
        for (key, value) in VALUES {
            env.set(key, value);
        }
        env.write().unwrap_or_else(|e| panic!("{e}"));
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
            .unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_file(&file);
        assert!(output.status.success(), "{output:?}");
        let printed = String::from_utf8(output.stdout).unwrap_or_else(|e| panic!("{e}"));
        let values: Vec<&str> = printed.split_terminator('\0').collect();
        assert_eq!(values, VALUES.map(|(_, v)| v));
    }

    #[test]
    fn what_is_written_reads_back() {
        let file = written("read");
        let env = StackEnv::read(&file).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_file(&file);
        let read: Vec<(&str, &str)> = env.entries().collect();
        assert_eq!(read, VALUES);
        assert!(matches!(
            env.require("EMPTY"),
            Err(XtaskError::MissingSetting { key, .. }) if key == "EMPTY"
        ));
    }

    #[test]
    fn unquoted_values_are_refused() {
        assert_eq!(unquote("plain"), None);
        assert_eq!(unquote("'a'b'"), None);
        assert_eq!(unquote(r"'a'\''b'"), Some("a'b".to_owned()));
    }
}
