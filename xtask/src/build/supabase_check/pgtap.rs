//! The pgTAP tests as `supabase test db` runs them: the `tests/` files `pg_prove` picks up, with
//! no psql include reaching outside the folder the CLI mounts, and `pg_prove` itself with the
//! CLI's flags and connection.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::paths::{inside, join, parent};
use super::report::Report;

/// The flags `supabase test db` passes to `pg_prove` (`internal/db/test/test.go`): files ending
/// in `.pg` or `.sql`, found recursively under the folder given after them.
pub const PG_PROVE_FLAGS: [&str; 5] = ["--ext", ".pg", "--ext", ".sql", "-r"];

/// Checks `tests/` as `supabase test db` hands it to `pg_prove`.
pub(super) fn check_tests(bundle: &Path, files: &BTreeSet<String>, report: &mut Report) {
    let tests: Vec<&String> = files
        .iter()
        // pg_prove's `--ext` compares exactly: `.SQL` is not picked up.
        .filter(|f| {
            f.starts_with("tests/")
                && Path::new(f)
                    .extension()
                    .is_some_and(|e| e == "sql" || e == "pg")
        })
        .collect();
    if tests.is_empty() {
        report.findings.push(
            "tests/: no .sql or .pg file; `supabase test db` would run no pgTAP test".to_owned(),
        );
        return;
    }
    let before = report.findings.len();
    for test in &tests {
        let path = bundle.join(test);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                report
                    .findings
                    .push(format!("{test}: cannot be read ({e})"));
                continue;
            }
        };
        for line in text.lines() {
            let line = line.trim();
            let include = [
                ("\\include_relative ", true),
                ("\\ir ", true),
                ("\\include ", false),
                ("\\i ", false),
            ]
            .into_iter()
            .find_map(|(command, relative)| {
                line.strip_prefix(command).map(|f| (f.trim(), relative))
            });
            let Some((target, relative_to_file)) = include else {
                continue;
            };
            // `\ir` is relative to the file; `\i` to psql's working folder, which the CLI sets
            // to the tests folder it mounts.
            let base = if relative_to_file {
                parent(test)
            } else {
                "tests".to_owned()
            };
            match inside(&join(&base, target)) {
                Some(file) if file.starts_with("tests/") && files.contains(&file) => {}
                _ => report.findings.push(format!(
                    "{test}: `{line}` reaches outside tests/, which is all `supabase test db` \
                     mounts for pg_prove"
                )),
            }
        }
    }
    if report.findings.len() == before {
        report.checked.push(format!(
            "tests/: {} pgTAP files pg_prove picks up ({}), every include inside tests/",
            tests.len(),
            PG_PROVE_FLAGS.join(" ")
        ));
    }
}

/// A Postgres connection as `supabase test db` hands it to `pg_prove`: through libpq's
/// variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`).
#[derive(Debug, Clone)]
pub struct PgConnection {
    /// The host (an address or a name).
    pub host: String,
    /// The port.
    pub port: u16,
    /// The role; `supabase test db` connects as `postgres`, locally and to a linked project.
    pub user: String,
    /// The password, if the server wants one.
    pub password: Option<String>,
    /// The database; `postgres` for the CLI.
    pub database: String,
}

impl PgConnection {
    /// The local database of `supabase start`, as `supabase test db` reaches it from the host:
    /// `127.0.0.1`, the config template's `db.port` 54322, `postgres`/`postgres`
    /// (`internal/utils/flags/db_url.go`, `pkg/config/templates/config.toml`).
    pub fn supabase_local() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 54322,
            user: "postgres".to_owned(),
            password: Some("postgres".to_owned()),
            database: "postgres".to_owned(),
        }
    }
}

/// `pg_prove` over the bundle's tests the way `supabase test db` runs it
/// (`internal/db/test/test.go`): `pg_prove --ext .pg --ext .sql -r <bundle>/tests`, in that
/// folder, connected through libpq's variables.
///
/// Like the CLI, run `create extension if not exists pgtap with schema extensions` on the
/// database first (this bundle's files also create it inside their own transactions). The CLI
/// runs `pg_prove` in a container of its own; `pg_prove` here is the program to run instead.
pub fn pg_prove_command(pg_prove: &Path, bundle: &Path, connection: &PgConnection) -> Command {
    let tests = bundle.join("tests");
    // The working folder is the tests folder, so the path given must not be relative to ours.
    let tests = std::path::absolute(&tests).unwrap_or(tests);
    let mut command = Command::new(pg_prove);
    command
        .args(PG_PROVE_FLAGS)
        .arg(&tests)
        .current_dir(&tests)
        .env("PGHOST", &connection.host)
        .env("PGPORT", connection.port.to_string())
        .env("PGUSER", &connection.user)
        .env("PGDATABASE", &connection.database);
    if let Some(password) = &connection.password {
        command.env("PGPASSWORD", password);
    }
    command
}

/// A command as one shell line, its password left out.
pub(super) fn shell_line(command: &Command) -> String {
    let quote = |s: &OsStr| {
        let s = s.to_string_lossy();
        if s.is_empty() || s.contains(|c: char| c.is_whitespace() || "'\"$\\`;&|<>()".contains(c)) {
            format!("'{}'", s.replace('\'', r"'\''"))
        } else {
            s.into_owned()
        }
    };
    let mut line = String::new();
    if let Some(dir) = command.get_current_dir() {
        let _ = write!(line, "cd {} && ", quote(dir.as_os_str()));
    }
    for (key, value) in command.get_envs() {
        let Some(value) = value else { continue };
        let value = if key == "PGPASSWORD" {
            "…".to_owned()
        } else {
            quote(value)
        };
        let _ = write!(line, "{}={value} ", key.to_string_lossy());
    }
    line.push_str(&quote(command.get_program()));
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::supabase::DEFAULT_PG;
    use crate::build::supabase_check::test_bundle::{
        assert_one_finding, findings_of, good_bundle, put,
    };
    use crate::error::Result;

    #[test]
    fn includes_outside_tests_are_findings() -> Result<()> {
        let bundle = good_bundle("includes", DEFAULT_PG)?;
        put(
            &bundle,
            "tests/database/02_rollback.sql",
            "BEGIN;\n\\ir ../../migrations/20251105132840_vantage_sync_state.sql\n\\ir helpers.sql\nROLLBACK;\n",
        )?;
        put(&bundle, "tests/database/helpers.sql", "SELECT 1;\n")?;
        let findings = findings_of(&bundle)?;
        assert_one_finding(&findings, "\\ir ../../migrations/");
        assert!(!findings.iter().any(|f| f.contains("helpers.sql")));
        Ok(())
    }

    #[test]
    fn pg_prove_runs_as_supabase_test_db_runs_it() {
        let connection = PgConnection {
            host: "127.0.0.1".to_owned(),
            port: 5433,
            user: "postgres".to_owned(),
            password: None,
            database: "postgres".to_owned(),
        };
        let bundle = Path::new("/work/target/supabase");
        let command = pg_prove_command(Path::new("/usr/bin/pg_prove"), bundle, &connection);
        assert_eq!(command.get_program(), "/usr/bin/pg_prove");
        let args: Vec<&OsStr> = command.get_args().collect();
        assert_eq!(
            args,
            [
                "--ext",
                ".pg",
                "--ext",
                ".sql",
                "-r",
                "/work/target/supabase/tests"
            ]
        );
        assert_eq!(
            command.get_current_dir(),
            Some(Path::new("/work/target/supabase/tests"))
        );
        let envs: Vec<(String, String)> = command
            .get_envs()
            .filter_map(|(k, v)| {
                v.map(|v| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
            })
            .collect();
        let want = [
            ("PGDATABASE", "postgres"),
            ("PGHOST", "127.0.0.1"),
            ("PGPORT", "5433"),
            ("PGUSER", "postgres"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(envs, want);

        let with_password = pg_prove_command(
            Path::new("pg_prove"),
            bundle,
            &PgConnection::supabase_local(),
        );
        let line = shell_line(&with_password);
        assert!(line.contains("PGPASSWORD=…"), "{line}");
        assert!(!line.contains("PGPASSWORD=postgres"), "{line}");
        assert!(line.ends_with("pg_prove --ext .pg --ext .sql -r /work/target/supabase/tests"));
    }
}
