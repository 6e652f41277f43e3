//! The Supabase bundle checked as the Supabase CLI reads it.
//!
//! The CLI cannot be installed here, so `cargo xtask bundle supabase` checks the folder it wrote
//! against what the CLI's source expects. Read in `supabase/cli` at commit `1d1e719` (June 2026),
//! Go sources under `apps/cli-go/`:
//!
//! - `config.toml` parses as TOML and holds only keys the CLI's config structs declare
//!   (`pkg/config/config.go`, `db.go`, `api.go`), with the types they declare. The CLI decodes
//!   it with viper's `UnmarshalExact`, so an unknown key stops every command there too; the
//!   sections this bundle never writes (`[auth]`, `[storage]`, ...) are known by name only and
//!   refused until their keys are added to [`CONFIG_KEYS`](schema::CONFIG_KEYS).
//!   `db.major_version` is one that `Validate` accepts (13, 14, 15, 17) and is written out, not
//!   left to the CLI's default.
//!   Each function's name matches the CLI's `^[A-Za-z][A-Za-z0-9_-]*$` and it sets
//!   `verify_jwt` itself (the CLI's default is `true`, which would turn ETL jobs away).
//!   Each `db.migrations.schema_paths` pattern matches a file of the bundle.
//! - Every file in `migrations/` is named as `^([0-9]+)_(.*)\.sql$` (`pkg/migration/file.go`):
//!   `ListLocalMigrations` (`list.go`) skips any other file with only a line on stderr. Versions
//!   are unique (the primary key of `supabase_migrations.schema_migrations`, `history.go`), and
//!   no `_rollback.sql` is there to be pushed as a migration.
//! - Each function's entrypoint (`functions/<name>/index.ts` unless `entrypoint` says otherwise)
//!   imports, transitively, only relative files inside the bundle: nothing remote (`http:`,
//!   `https:`, `npm:`, `jsr:`), no bare specifier, no import map. `functions deploy` uploads the
//!   files its own walk of the imports finds (`pkg/function/deno.go`, `deploy.go`).
//! - Every file a module reads at run time (`new URL("…", import.meta.url)`,
//!   `Deno.readFile*("…")`) is matched by the function's `static_files`, and every pattern
//!   matches a file: `functions deploy` only warns when one matches nothing, and the function
//!   then fails at its first request.
//! - `tests/` holds pgTAP files that `pg_prove` picks up the way `supabase test db` runs it
//!   (`internal/db/test/test.go`, see [`pg_prove_command`]), with no psql include reaching
//!   outside `tests/` (the CLI mounts only that folder into `pg_prove`'s container).
//!
//! `deno check` of the entrypoint runs in `build/supabase.rs`; this module does no I/O but
//! reading the bundle.
//!
//! One module per part of the bundle: [`config`] (with the CLI's key tables in [`schema`]),
//! [`functions`] (each function's files, its import graph walked by [`imports`] over the
//! references [`scan`] picks out), [`migrations`], [`pgtap`]; [`paths`] holds the path and glob
//! helpers and [`report`] what the checks found.

mod config;
mod functions;
mod imports;
mod migrations;
mod paths;
mod pgtap;
mod report;
mod scan;
mod schema;

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{Result, XtaskError};

pub use pgtap::{PgConnection, pg_prove_command};
pub use report::Report;

/// Checks the bundle in `bundle`; returns what was checked, or `XtaskError::BundleCheck`
/// listing every finding.
pub fn check(bundle: &Path) -> Result<Vec<String>> {
    let report = inspect(bundle)?;
    if report.findings.is_empty() {
        Ok(report.checked)
    } else {
        Err(XtaskError::BundleCheck {
            dir: bundle.to_path_buf(),
            findings: report.findings.iter().fold(String::new(), |mut all, f| {
                let _ = writeln!(all, "  - {f}");
                all
            }),
        })
    }
}

/// Inspects the bundle in `bundle`. Errors only when the folder itself cannot be read; every
/// problem with its contents is a finding.
pub fn inspect(bundle: &Path) -> Result<Report> {
    let mut report = Report::default();
    let files = paths::bundle_files(bundle)?;
    let functions = config::check_config(bundle, &mut report);
    for function in &functions {
        functions::check_function(bundle, &files, function, &mut report);
    }
    config::functions_without_config(&files, &functions, &mut report);
    config::check_schema_paths(bundle, &files, &mut report);
    migrations::check_migrations(bundle, &mut report)?;
    pgtap::check_tests(bundle, &files, &mut report);
    let pg_prove = pg_prove_command(
        Path::new("pg_prove"),
        bundle,
        &PgConnection::supabase_local(),
    );
    report.checked.push(format!(
        "pgTAP: `supabase test db` runs, against its local database: {}",
        pgtap::shell_line(&pg_prove)
    ));
    Ok(report)
}

#[cfg(test)]
mod test_bundle;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::supabase_check::test_bundle::good_bundle;
    use crate::error::Result;
    use crate::stack::PgMajor;

    #[test]
    fn the_generators_bundle_passes_for_both_majors() -> Result<()> {
        for pg in [PgMajor::V15, PgMajor::V17] {
            let bundle = good_bundle(&format!("good-{}", pg.number()), pg)?;
            let report = inspect(&bundle.0)?;
            assert_eq!(report.findings, Vec::<String>::new());
            assert!(
                report
                    .checked
                    .iter()
                    .any(|c| c.contains(&format!("db.major_version = {}", pg.number())))
            );
            assert!(check(&bundle.0).is_ok());
        }
        Ok(())
    }
}
