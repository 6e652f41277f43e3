//! `target/stack/env` as the stack writes it: the settings of [`vantage_dev_files::EnvFile`]
//! (one parser and writer, shared with the tests library) with the file they belong to.

use std::path::{Path, PathBuf};

use vantage_dev_files::EnvFile;

use crate::error::{Result, XtaskError};

/// The stack's endpoints and credentials, in the order they are written.
#[derive(Debug, Clone)]
pub struct StackEnv {
    file: PathBuf,
    settings: EnvFile,
}

impl StackEnv {
    /// An empty set of settings, to be written to `file`.
    pub fn new(file: PathBuf) -> Self {
        Self {
            file,
            settings: EnvFile::new(),
        }
    }

    /// Reads the settings of the env file `file`.
    pub fn read(file: &Path) -> Result<Self> {
        Ok(Self {
            file: file.to_path_buf(),
            settings: EnvFile::read(file)?,
        })
    }

    /// Sets `key` to `value`, replacing an earlier value.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.settings.set(key, value);
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings.get(key)
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
        self.settings.entries()
    }

    /// Writes the file, readable by the owner only: it holds the service-role key.
    pub fn write(&self) -> Result<()> {
        self.write_to(&self.file)
    }

    /// Writes the settings to `path` (another stack file, e.g. one that points at Deno).
    pub fn write_to(&self, path: &Path) -> Result<()> {
        Ok(self.settings.write(path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_value_is_a_missing_setting() {
        let mut env = StackEnv::new(PathBuf::from("env"));
        env.set("EMPTY", "");
        env.set("SET", "x");
        assert_eq!(env.require("SET").ok(), Some("x"));
        assert!(matches!(
            env.require("EMPTY"),
            Err(XtaskError::MissingSetting { key, .. }) if key == "EMPTY"
        ));
    }
}
