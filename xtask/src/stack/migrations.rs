//! Applies `migrations/*.sql` in order, each in its own transaction, recording each version in
//! `supabase_migrations.schema_migrations` as the Supabase CLI does. Rollback files are never
//! applied as forward migrations.

use std::path::{Path, PathBuf};

use crate::error::{Result, XtaskError};
use crate::stack::psql::Psql;

/// A forward migration file.
pub struct Migration {
    /// The timestamp prefix, e.g. `20251105132840`.
    pub version: String,
    /// The rest of the file stem, e.g. `vantage_sync_state`.
    pub name: String,
    /// The file.
    pub path: PathBuf,
}

/// The forward migrations in `dir`, oldest first.
pub fn forward_migrations(dir: &Path) -> Result<Vec<Migration>> {
    let entries = std::fs::read_dir(dir).map_err(XtaskError::io("reading", dir))?;
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.map_err(XtaskError::io("reading", dir))?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_none_or(|e| e != "sql") || stem.ends_with("_rollback") {
            continue;
        }
        let Some((version, name)) = stem.split_once('_') else {
            return Err(XtaskError::MigrationName(path));
        };
        found.push(Migration {
            version: version.to_owned(),
            name: name.to_owned(),
            path: path.clone(),
        });
    }
    found.sort_by(|a, b| a.version.cmp(&b.version));
    Ok(found)
}

/// Applies every migration not yet recorded; returns the ones it applied.
pub fn apply_pending(psql: &Psql, dir: &Path) -> Result<Vec<Migration>> {
    let applied = psql.sql("SELECT version FROM supabase_migrations.schema_migrations")?;
    let applied: Vec<&str> = applied.lines().collect();
    let mut done = Vec::new();
    for migration in forward_migrations(dir)? {
        if applied.contains(&migration.version.as_str()) {
            continue;
        }
        let record = format!(
            "INSERT INTO supabase_migrations.schema_migrations (version, name) VALUES ('{}', '{}')",
            migration.version.replace('\'', "''"),
            migration.name.replace('\'', "''")
        );
        psql.file_in_transaction(&migration.path, &record)?;
        // PostgREST reloads its schema cache on this notification (Supabase sends it by event
        // trigger); harmless when PostgREST is not running yet.
        psql.sql("NOTIFY pgrst, 'reload schema'")?;
        done.push(migration);
    }
    Ok(done)
}
