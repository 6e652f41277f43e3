//! `migrations/` as `supabase db push` lists it: every file named `<version>_<name>.sql`,
//! versions unique, no rollback, no legacy `_init.sql` the CLI would skip.

use std::collections::BTreeMap;
use std::path::Path;

use super::report::Report;
use crate::error::{Result, XtaskError};

/// Checks `migrations/` as `supabase db push` lists it.
pub(super) fn check_migrations(bundle: &Path, report: &mut Report) -> Result<()> {
    let dir = bundle.join("migrations");
    if !dir.is_dir() {
        report
            .findings
            .push("migrations/: missing; `supabase db push` would push nothing".to_owned());
        return Ok(());
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(XtaskError::io("reading", &dir))? {
        let entry = entry.map_err(XtaskError::io("reading", &dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        names.push((name, entry.path().is_dir()));
    }
    // The CLI reads the folder in name order, as `fs.ReadDir` returns it.
    names.sort();
    let before = report.findings.len();
    let mut versions: BTreeMap<String, String> = BTreeMap::new();
    for (index, (name, is_dir)) in names.iter().enumerate() {
        if *is_dir {
            report.findings.push(format!(
                "migrations/{name}/: a folder; the Supabase CLI skips folders in migrations/"
            ));
            continue;
        }
        let Some((version, rest)) = migration_parts(name) else {
            report.findings.push(format!(
                "migrations/{name}: not named <version>_<name>.sql (^([0-9]+)_(.*)\\.sql$); the \
                 Supabase CLI skips it"
            ));
            continue;
        };
        if index == 0 && is_legacy_init(name) {
            report.findings.push(format!(
                "migrations/{name}: the CLI skips a first migration named <timestamp>_init.sql \
                 older than 20211209000000"
            ));
        }
        if rest.ends_with("_rollback") {
            report.findings.push(format!(
                "migrations/{name}: a rollback; `supabase db push` would apply it as a forward \
                 migration"
            ));
        }
        if let Some(other) = versions.insert(version.to_owned(), name.clone()) {
            report.findings.push(format!(
                "migrations/{name}: version {version} is also {other}'s; versions are the primary \
                 key of supabase_migrations.schema_migrations"
            ));
        }
    }
    if names.is_empty() {
        report
            .findings
            .push("migrations/: empty; `supabase db push` would push nothing".to_owned());
    }
    if report.findings.len() == before {
        report.checked.push(format!(
            "migrations/: {} files, each named <version>_<name>.sql as the Supabase CLI matches \
             them, versions unique, no rollback",
            names.len()
        ));
    }
    Ok(())
}

/// The version and name of a migration file named as the CLI's `^([0-9]+)_(.*)\.sql$`.
fn migration_parts(file: &str) -> Option<(&str, &str)> {
    let (version, name) = file.strip_suffix(".sql")?.split_once('_')?;
    (!version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())).then_some((version, name))
}

/// The CLI's backward-compatible skip of an old `<14 digits>_init.sql` first migration
/// (`shouldSkip` in `pkg/migration/list.go`).
fn is_legacy_init(file: &str) -> bool {
    file.match_indices("_init.sql").any(|(at, _)| {
        let Some(digits) = at.checked_sub(14).map(|start| &file.as_bytes()[start..at]) else {
            return false;
        };
        digits.iter().all(u8::is_ascii_digit)
            && std::str::from_utf8(digits)
                .ok()
                .and_then(|d| d.parse::<u64>().ok())
                .is_some_and(|t| t < 20_211_209_000_000)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::supabase::DEFAULT_PG;
    use crate::build::supabase_check::test_bundle::{
        assert_one_finding, findings_of, good_bundle, put,
    };

    #[test]
    fn bad_migration_names_are_findings() -> Result<()> {
        let bundle = good_bundle("migrations", DEFAULT_PG)?;
        put(&bundle, "migrations/vantage_extra.sql", "SELECT 1;\n")?;
        put(
            &bundle,
            "migrations/20261201000000_extra.SQL",
            "SELECT 1;\n",
        )?;
        put(
            &bundle,
            "migrations/20251105132840_vantage_sync_state_rollback.sql",
            "SELECT 1;\n",
        )?;
        let findings = findings_of(&bundle)?;
        assert_one_finding(&findings, "migrations/vantage_extra.sql: not named");
        assert_one_finding(&findings, "migrations/20261201000000_extra.SQL: not named");
        assert_one_finding(&findings, "a rollback");
        assert_one_finding(&findings, "version 20251105132840 is also");
        Ok(())
    }

    #[test]
    fn migration_names_follow_the_clis_pattern() {
        assert_eq!(
            migration_parts("20251105132840_vantage_sync_state.sql"),
            Some(("20251105132840", "vantage_sync_state"))
        );
        assert_eq!(migration_parts("1_.sql"), Some(("1", "")));
        assert_eq!(migration_parts("_x.sql"), None);
        assert_eq!(migration_parts("2025a_x.sql"), None);
        assert_eq!(migration_parts("20251105132840.sql"), None);
        assert!(is_legacy_init("20211208000000_init.sql"));
        assert!(!is_legacy_init("20211209000000_init.sql"));
        assert!(!is_legacy_init("20251105132840_vantage_sync_state.sql"));
    }
}
