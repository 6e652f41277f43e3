//! The report file: the job writes its counts into it as one JSON object at any time; the
//! wrapper reads it at each heartbeat and at the end. Parsing is pure; [`ReportFile`] owns the
//! file.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};

/// The largest count the function stores (Postgres `integer`).
pub const MAX_COUNT: u64 = i32::MAX as u64;

/// The counts of a run: what was synced, and of those, created and updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Records synced.
    pub records_synced: u32,
    /// Of those, created.
    pub records_created: u32,
    /// Of those, updated.
    pub records_updated: u32,
}

impl Counts {
    /// Counts of `synced` records, none of them said to be created or updated.
    pub fn synced(records_synced: u32) -> Self {
        Self {
            records_synced,
            ..Self::default()
        }
    }
}

/// What a report holds: nothing yet (an empty file), or counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// The file is empty: the job reported no counts.
    Empty,
    /// Counts; `records_created` and `records_updated` are 0 when the job gave only
    /// `records_synced`.
    Counts(Counts),
}

/// Reads a report's text: empty, or one object with `records_synced` and optionally
/// `records_created` and `records_updated`, each a whole number from 0 to 2,147,483,647.
/// The error is the rest of a sentence that starts with the file's name.
pub fn parse_report(text: &str) -> Result<Report, String> {
    if text.trim().is_empty() {
        return Ok(Report::Empty);
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("is not one JSON object: {e}"))?;
    let Value::Object(fields) = value else {
        return Err("must hold one JSON object like {\"records_synced\": 150}".into());
    };
    let known = ["records_synced", "records_created", "records_updated"];
    if let Some(unknown) = fields.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!(
            "has an unknown field {unknown:?}; the fields are {}",
            known.join(", ")
        ));
    }
    let count = |name: &str| -> Result<Option<u32>, String> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .filter(|n| *n <= MAX_COUNT)
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    format!("has {name} = {v}: it must be a whole number from 0 to {MAX_COUNT}")
                }),
        }
    };
    let (synced, created, updated) = (
        count("records_synced")?,
        count("records_created")?,
        count("records_updated")?,
    );
    let Some(records_synced) = synced else {
        return Err("has no records_synced (created and updated are parts of it)".into());
    };
    let counts = Counts {
        records_synced,
        records_created: created.unwrap_or(0),
        records_updated: updated.unwrap_or(0),
    };
    let parts = u64::from(counts.records_created) + u64::from(counts.records_updated);
    if parts > u64::from(records_synced) {
        return Err(format!(
            "says records_created + records_updated ({parts}) is more than records_synced ({records_synced})"
        ));
    }
    Ok(Report::Counts(counts))
}

/// The report file of one run: created empty (owner-only) in the temporary folder, removed
/// when dropped.
#[derive(Debug)]
pub struct ReportFile {
    path: PathBuf,
}

impl ReportFile {
    /// Creates an empty report file for a run of `resource`.
    pub fn create(resource: &str, run_id: &str) -> Result<Self> {
        let short_id: String = run_id.chars().take(8).collect();
        let path = std::env::temp_dir().join(format!(
            "vantage-sync-{resource}-{short_id}-{}.json",
            std::process::id()
        ));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&path).map_err(|e| {
            Error::io(
                format!("cannot create the report file {}", path.display()),
                e,
            )
        })?;
        Ok(Self { path })
    }

    /// Where it is (`VANTAGE_SYNC_REPORT`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What it holds now. A file the job removed counts as empty.
    pub fn read(&self) -> Result<Report> {
        read_report(&self.path)
    }
}

/// What the report file at `path` holds now. A file the job removed counts as empty.
pub fn read_report(path: &Path) -> Result<Report> {
    let bad = |reason: String| Error::BadReport {
        path: path.to_path_buf(),
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(bad(format!("cannot be read: {e}"))),
    };
    parse_report(&text).map_err(bad)
}

impl Drop for ReportFile {
    fn drop(&mut self) {
        // Best effort: the temporary folder is cleaned by the system anyway.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn counts(synced: u32, created: u32, updated: u32) -> Report {
        Report::Counts(Counts {
            records_synced: synced,
            records_created: created,
            records_updated: updated,
        })
    }

    #[test]
    fn reports_are_read_or_refused_with_a_reason() {
        let cases: &[(&str, Result<Report, &str>)] = &[
            ("", Ok(Report::Empty)),
            ("  \n", Ok(Report::Empty)),
            (
                r#"{"records_synced":150,"records_created":10,"records_updated":140}"#,
                Ok(counts(150, 10, 140)),
            ),
            (r#"{"records_synced":7}"#, Ok(counts(7, 0, 0))),
            (r#"{"records_synced":0}"#, Ok(counts(0, 0, 0))),
            ("{\"records_synced\":3}\n", Ok(counts(3, 0, 0))),
            ("not json", Err("is not one JSON object")),
            ("[1]", Err("must hold one JSON object")),
            (r#"{"records_synced":-1}"#, Err("records_synced = -1")),
            (r#"{"records_synced":1.5}"#, Err("records_synced = 1.5")),
            (r#"{"records_synced":"12"}"#, Err("records_synced = \"12\"")),
            (
                r#"{"records_synced":2147483648}"#,
                Err("from 0 to 2147483647"),
            ),
            (
                r#"{"records_synced":5,"records_created":4,"records_updated":2}"#,
                Err("(6) is more than"),
            ),
            (r#"{"records_created":4}"#, Err("has no records_synced")),
            (
                r#"{"record_synced":4}"#,
                Err("unknown field \"record_synced\""),
            ),
        ];
        for (text, expected) in cases {
            match (parse_report(text), expected) {
                (Ok(got), Ok(want)) => assert_eq!(got, *want, "{text}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{text}: {got}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn the_file_is_created_empty_and_removed() {
        let file = ReportFile::create("accounts", "0123456789").unwrap();
        let path = file.path().to_path_buf();
        assert_eq!(file.read().unwrap(), Report::Empty);
        std::fs::write(&path, r#"{"records_synced":2}"#).unwrap();
        assert_eq!(file.read().unwrap(), counts(2, 0, 0));
        std::fs::write(&path, "{").unwrap();
        let err = file.read().unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        drop(file);
        assert!(!path.exists());
    }
}
