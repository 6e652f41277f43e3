//! The drift check of `cargo xtask test`: `schemas/` and `migrations/` must build the same
//! database, as migra sees it.

use crate::error::{Result, XtaskError};
use crate::schema::{Scratch, schemas_dir};
use crate::stack::psql::Psql;

/// Builds both databases in `cluster` and fails with migra's statements when they differ.
pub fn check(cluster: &Psql) -> Result<()> {
    let scratch = Scratch::build(cluster, &schemas_dir())?;
    let statements = scratch.migrations_to_schemas()?;
    if statements.is_empty() {
        Ok(())
    } else {
        Err(XtaskError::SchemaDrift { statements })
    }
}
