//! `schemas/`, the current definition of every object (one file each, applied in lexical order
//! as the Supabase CLI applies `supabase/schemas/`), against `migrations/`, the history. Each is
//! built into a scratch database of a running stack's cluster, on the same bootstrap, and the
//! two are compared by migra, the schema-diff engine of `supabase db diff`.

pub mod drift;
pub mod new_migration;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Result, XtaskError};
use crate::paths::workspace_root;
use crate::process::last_lines;
use crate::stack::psql::Psql;
use crate::stack::{BOOTSTRAP_SQL, migrations};
use crate::tools::{self, MIGRA};

/// The scratch database built from `migrations/`.
const FROM_MIGRATIONS: &str = "vantage_from_migrations";
/// The scratch database built from `schemas/`.
const FROM_SCHEMAS: &str = "vantage_from_schemas";

/// The folder of the schema files.
pub fn schemas_dir() -> PathBuf {
    workspace_root().join("schemas")
}

/// The `*.sql` files of `dir`, in lexical order (the order the Supabase CLI applies them in).
pub fn schema_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(XtaskError::io("reading", dir))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(XtaskError::io("reading", dir))?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(XtaskError::NoSchemaFiles(dir.to_path_buf()));
    }
    Ok(files)
}

/// The two scratch databases of one comparison, dropped when it ends.
pub struct Scratch {
    /// Built from `migrations/`.
    pub from_migrations: Psql,
    /// Built from `schemas/`.
    pub from_schemas: Psql,
    cluster: Psql,
}

impl Scratch {
    /// Builds both databases in `cluster` (any database of it; the stack's own is left alone):
    /// one from `migrations/`, one from the schema files in `schemas`. Schema files that do not
    /// apply are a [`XtaskError::SchemaFiles`] naming the file and line, as psql reports them.
    pub fn build(cluster: &Psql, schemas: &Path) -> Result<Self> {
        // Read first: a folder without schema files fails before any database is made.
        let files = schema_files(schemas)?;
        let scratch = Self {
            from_migrations: fresh_database(cluster, FROM_MIGRATIONS)?,
            from_schemas: fresh_database(cluster, FROM_SCHEMAS)?,
            cluster: cluster.clone(),
        };
        migrations::apply_pending(
            &scratch.from_migrations,
            &workspace_root().join("migrations"),
        )?;
        scratch
            .from_schemas
            .files_in_transaction(&files)
            .map_err(|e| XtaskError::SchemaFiles {
                detail: e.to_string(),
            })?;
        Ok(scratch)
    }

    /// What turns the database built from migrations into the one built from the schema files
    /// (empty when migra sees no difference).
    pub fn migrations_to_schemas(&self) -> Result<String> {
        migra(&self.from_migrations, &self.from_schemas)
    }

    /// What turns the database built from the schema files back into the one built from
    /// migrations.
    pub fn schemas_to_migrations(&self) -> Result<String> {
        migra(&self.from_schemas, &self.from_migrations)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for name in [FROM_MIGRATIONS, FROM_SCHEMAS] {
            // Best effort: the next build drops them anyway.
            let _ = self
                .cluster
                .sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// An empty database `name` in `cluster` with the stack's bootstrap (what a Supabase project
/// has before any migration), dropped and made anew if it was there.
fn fresh_database(cluster: &Psql, name: &str) -> Result<Psql> {
    cluster.sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    cluster.sql(&format!("CREATE DATABASE {name}"))?;
    let database = cluster.on_database(name);
    database.sql(BOOTSTRAP_SQL)?;
    Ok(database)
}

/// migra's statements from `from` to `to`, privileges included; empty when they are the same.
fn migra(from: &Psql, to: &Psql) -> Result<String> {
    let program = tools::path(&MIGRA)?;
    let mut cmd = Command::new(&program);
    cmd.args(["--unsafe", "--with-privileges"])
        .arg(from.url())
        .arg(to.url())
        .stdin(Stdio::null());
    let output = cmd.output().map_err(XtaskError::io("running", &program))?;
    let statements = String::from_utf8_lossy(&output.stdout).into_owned();
    // migra's exit codes: 0 the same, 2 statements printed, anything else an error.
    match output.status.code() {
        Some(0 | 2) => Ok(statements.trim().to_owned()),
        _ => Err(XtaskError::CommandFailed {
            command: "migra --unsafe --with-privileges <from> <to>".to_owned(),
            status: output.status.to_string(),
            detail: format!(
                "\n{}",
                last_lines(&String::from_utf8_lossy(&output.stderr), 15)
            ),
        }),
    }
}
