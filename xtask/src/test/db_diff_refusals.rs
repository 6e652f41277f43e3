//! `cargo xtask db diff` against a running stack, in a scratch folder: each refusal is a
//! sentence and writes nothing, and a one-line drift in a copy of `schemas/` becomes a
//! migration and its rollback (so the drift check, built on the same comparison, can fail).

use std::path::{Path, PathBuf};

use crate::error::{Result, XtaskError};
use crate::paths::target_dir;
use crate::schema::new_migration::{Folders, write};
use crate::schema::{schema_files, schemas_dir};
use crate::stack::psql::Psql;
use crate::test::steps::check;

/// The line of `11_vantage_sync_schedules.sql` the drift case changes, and what to.
const DEFAULT_LINE: (&str, &str) = ("DEFAULT interval '1 hour'", "DEFAULT interval '2 hours'");

/// Runs every case on `cluster`; the repository's folders are only read.
pub fn run(cluster: &Psql) -> Result<()> {
    let work = target_dir().join("db-diff-check");
    let _ = std::fs::remove_dir_all(&work);
    let migrations = work.join("migrations");
    make_dir(&migrations)?;
    let repository = schemas_dir();

    let refused = write(cluster, "Add-Progress", &folders(&repository, &migrations));
    expect_refusal(refused, &migrations, "a bad name", |e| {
        matches!(e, XtaskError::BadMigrationName(_))
    })?;

    let refused = write(cluster, "nothing", &folders(&repository, &migrations));
    expect_refusal(refused, &migrations, "no difference", |e| {
        matches!(e, XtaskError::NoSchemaDifference)
    })?;

    let broken = copy_schemas(&repository, &work.join("broken"))?;
    let last = schema_files(&broken)?.pop().unwrap_or_default();
    append(&last, "\nCREATE TABLE oops (\n")?;
    let file_name = last.file_name().map(|n| n.to_string_lossy().into_owned());
    let refused = write(cluster, "broken", &folders(&broken, &migrations));
    expect_refusal(
        refused,
        &migrations,
        "schema files that do not apply",
        |e| {
            let text = e.to_string();
            matches!(e, XtaskError::SchemaFiles { .. })
                && file_name
                    .as_ref()
                    .is_some_and(|name| text.contains(name.as_str()))
                && text.contains("syntax error")
        },
    )?;

    let drifted = copy_schemas(&repository, &work.join("drifted"))?;
    let schedules = drifted.join("11_vantage_sync_schedules.sql");
    replace(&schedules, DEFAULT_LINE.0, DEFAULT_LINE.1)?;
    let written = write(
        cluster,
        "longer_late_grace",
        &folders(&drifted, &migrations),
    )?;
    let forward = read(&written.forward)?;
    let rollback = read(&written.rollback)?;
    check(forward.contains("set default '02:00:00'::interval"), || {
        format!("the migration of a one-line drift sets the new default:\n{forward}")
    })?;
    check(
        rollback.contains("set default '01:00:00'::interval"),
        || format!("its rollback sets the old one back:\n{rollback}"),
    )?;
    std::fs::remove_dir_all(&work).map_err(XtaskError::io("removing", &work))
}

fn folders<'a>(schemas: &'a Path, migrations: &'a Path) -> Folders<'a> {
    Folders {
        schemas,
        migrations,
    }
}

/// `result` is the refusal `is_it` describes, and `migrations` is still empty.
fn expect_refusal<T>(
    result: Result<T>,
    migrations: &Path,
    case: &str,
    is_it: impl FnOnce(&XtaskError) -> bool,
) -> Result<()> {
    match result {
        Ok(_) => check(false, || {
            format!("db diff refuses {case}, but it wrote a migration")
        }),
        Err(e) => check(is_it(&e), || {
            format!("db diff refuses {case}; it said: {e}")
        }),
    }?;
    let written = std::fs::read_dir(migrations)
        .map_err(XtaskError::io("reading", migrations))?
        .count();
    check(written == 0, || {
        format!("db diff writes nothing for {case}; it wrote {written} file(s)")
    })
}

/// A copy of the schema files in `to`.
fn copy_schemas(from: &Path, to: &Path) -> Result<PathBuf> {
    make_dir(to)?;
    for file in schema_files(from)? {
        let target = to.join(file.file_name().unwrap_or_default());
        std::fs::copy(&file, &target).map_err(XtaskError::io("copying", &file))?;
    }
    Ok(to.to_path_buf())
}

fn make_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(XtaskError::io("creating", dir))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(XtaskError::io("reading", path))
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut all = read(path)?;
    all.push_str(text);
    std::fs::write(path, all).map_err(XtaskError::io("writing", path))
}

fn replace(path: &Path, from: &str, to: &str) -> Result<()> {
    let text = read(path)?;
    check(text.contains(from), || {
        format!(
            "{} has `{from}` for the drift case to change",
            path.display()
        )
    })?;
    std::fs::write(path, text.replacen(from, to, 1)).map_err(XtaskError::io("writing", path))
}
