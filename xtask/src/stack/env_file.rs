//! `target/stack/env`: what a test, a script or a person needs to talk to the stack, as
//! KEY=VALUE lines (`set -a; . target/stack/env; set +a` loads it into a shell).

use std::path::Path;

use crate::error::Result;

/// The stack's endpoints and credentials, in the order they are written.
#[derive(Debug, Clone, Default)]
pub struct StackEnv {
    entries: Vec<(&'static str, String)>,
}

impl StackEnv {
    /// Sets `key` to `value`, replacing an earlier value.
    pub fn set(&mut self, key: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Writes the file, readable by the owner only: it holds the service-role key.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text =
            String::from("# Written by `cargo xtask up`; removed by `cargo xtask down`.\n");
        for (key, value) in &self.entries {
            text.push_str(key);
            text.push('=');
            text.push_str(value);
            text.push('\n');
        }
        crate::process::write_private_file(path, &text)
    }
}
