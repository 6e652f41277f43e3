//! Files only their owner may read: the env file, keys, a configuration holding keys.

use std::path::Path;

use crate::error::{Error, Result};

/// Writes `text` to `path`, readable and writable by the owner only (mode 0600, also when the
/// file existed with another mode's content before: it is truncated, not re-created).
pub fn write_private_file(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(Error::io("creating", path))?;
    file.write_all(text.as_bytes())
        .map_err(Error::io("writing", path))
}
