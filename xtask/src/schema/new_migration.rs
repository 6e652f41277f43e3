//! `cargo xtask db diff <name>`: a new migration, and its rollback, written by migra from the
//! difference between `schemas/` and `migrations/`.

use std::path::{Path, PathBuf};

use crate::error::{Result, XtaskError};
use crate::schema::Scratch;
use crate::stack::psql::Psql;

/// The files `db diff` wrote.
pub struct Written {
    /// `migrations/<timestamp>_<name>.sql`.
    pub forward: PathBuf,
    /// `migrations/<timestamp>_<name>_rollback.sql`.
    pub rollback: PathBuf,
}

/// Where `db diff` reads and writes.
pub struct Folders<'a> {
    /// The schema files (the repository's `schemas/`).
    pub schemas: &'a Path,
    /// Where the migration is written (the repository's `migrations/`).
    pub migrations: &'a Path,
}

/// Checks `name`, builds both databases in `cluster`, and writes the migration from the
/// migrations' database to the schema files' one, and its rollback the other way. Writes
/// nothing when the name is wrong, the schema files do not apply, or nothing differs.
pub fn write(cluster: &Psql, name: &str, folders: &Folders<'_>) -> Result<Written> {
    check_name(name)?;
    let scratch = Scratch::build(cluster, folders.schemas)?;
    let forward = scratch.migrations_to_schemas()?;
    if forward.is_empty() {
        return Err(XtaskError::NoSchemaDifference);
    }
    let rollback = scratch.schemas_to_migrations()?;
    // The database's clock, in UTC, as the Supabase CLI names migrations.
    let version = cluster.sql("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS')")?;
    let stem = format!("{}_{name}", version.trim());
    let written = Written {
        forward: folders.migrations.join(format!("{stem}.sql")),
        rollback: folders.migrations.join(format!("{stem}_rollback.sql")),
    };
    let header = |what: &str| {
        format!(
            "-- {what}\n-- Written by `cargo xtask db diff {name}` (migra, from the difference between\n-- schemas/ and migrations/): read it, and edit it where a statement loses data.\n\n"
        )
    };
    write_file(
        &written.forward,
        &format!("{}{forward}\n", header(&format!("{stem}: {name}."))),
    )?;
    write_file(
        &written.rollback,
        &format!("{}{rollback}\n", header(&format!("Rolls back {stem}.sql."))),
    )?;
    Ok(written)
}

/// Checks a migration name: the Supabase CLI and this project accept lower-case letters,
/// digits and underscores, starting with a letter (and not ending in `_rollback`, which names
/// rollback files).
pub fn check_name(name: &str) -> Result<()> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.ends_with("_rollback");
    if valid {
        Ok(())
    } else {
        Err(XtaskError::BadMigrationName(name.to_owned()))
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(XtaskError::io("writing", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_snake_case_and_not_rollbacks() {
        for good in ["add_progress", "v2_health", "x"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Add",
            "2_health",
            "add-progress",
            "add progress",
            "x_rollback",
            "../x",
        ] {
            assert!(
                matches!(check_name(bad), Err(XtaskError::BadMigrationName(_))),
                "{bad:?}"
            );
        }
    }
}
