//! `cargo xtask db rollback`: runs the rollback files of applied migrations, newest first, and
//! forgets each one in `supabase_migrations.schema_migrations`, so that `cargo xtask up` (and
//! `supabase db push` on a project) apply it again cleanly.
//!
//! Each migration is rolled back in one transaction together with the delete of its row: a
//! failing rollback file leaves that migration applied and recorded, and stops there. Everything
//! is checked before anything changes: the version to keep is applied, and every migration to
//! roll back has its forward file and its rollback file in `migrations/`.

use std::path::{Path, PathBuf};

use crate::error::{Result, XtaskError};
use crate::progress::Step;
use crate::stack::migrations::forward_migrations;
use crate::stack::psql::Psql;

/// How far to roll back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keep {
    /// Roll back the newest applied migration only.
    AllButNewest,
    /// Keep this version and every older one; roll back every newer one.
    Through(String),
}

/// One applied migration about to be rolled back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Its version (timestamp).
    pub version: String,
    /// Its name, as in its file name.
    pub name: String,
    /// Its rollback file.
    pub rollback: PathBuf,
}

/// The versions recorded in `supabase_migrations.schema_migrations`, oldest first.
pub fn applied_versions(psql: &Psql) -> Result<Vec<String>> {
    let out =
        psql.sql("SELECT version FROM supabase_migrations.schema_migrations ORDER BY version")?;
    Ok(out.lines().map(str::to_owned).collect())
}

/// What rolling back to `keep` would do with `applied` (oldest first), newest first; checks that
/// every file it needs is in `dir`. Changes nothing.
pub fn plan(dir: &Path, applied: &[String], keep: &Keep) -> Result<Vec<Planned>> {
    let newer: Vec<&String> = match keep {
        Keep::AllButNewest => applied.last().into_iter().collect(),
        Keep::Through(version) => {
            if !applied.contains(version) {
                return Err(XtaskError::NotApplied {
                    version: version.clone(),
                    applied: if applied.is_empty() {
                        "none".to_owned()
                    } else {
                        applied.join(", ")
                    },
                });
            }
            applied.iter().filter(|v| *v > version).collect()
        }
    };
    let files = forward_migrations(dir)?;
    let mut planned = Vec::new();
    for version in newer.into_iter().rev() {
        let forward = files
            .iter()
            .find(|m| &m.version == version)
            .ok_or_else(|| XtaskError::MissingRollback {
                version: version.clone(),
                file: dir.join(format!("{version}_<name>.sql")),
            })?;
        let rollback = dir.join(format!("{}_{}_rollback.sql", forward.version, forward.name));
        if !rollback.is_file() {
            return Err(XtaskError::MissingRollback {
                version: version.clone(),
                file: rollback,
            });
        }
        planned.push(Planned {
            version: forward.version.clone(),
            name: forward.name.clone(),
            rollback,
        });
    }
    Ok(planned)
}

/// Rolls back the migrations `keep` names (see [`plan`]), newest first, each in its own
/// transaction with the delete of its row, with a progress line each; returns what it rolled
/// back.
pub fn roll_back(psql: &Psql, dir: &Path, keep: &Keep) -> Result<Vec<Planned>> {
    let planned = plan(dir, &applied_versions(psql)?, keep)?;
    for migration in &planned {
        let step = Step::start(format!(
            "Rolling back {}_{}",
            migration.version, migration.name
        ));
        let forget = format!(
            "DELETE FROM supabase_migrations.schema_migrations WHERE version = '{}'",
            migration.version.replace('\'', "''")
        );
        match psql.file_in_transaction(&migration.rollback, &forget) {
            Ok(_) => {
                // PostgREST drops what the rollback removed from its schema cache.
                psql.sql("NOTIFY pgrst, 'reload schema'")?;
                step.done();
            }
            Err(e) => {
                step.failed();
                return Err(e);
            }
        }
    }
    Ok(planned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A migrations folder holding `names` (empty SQL files) in a fresh temporary folder.
    fn folder(test: &str, names: &[&str]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("vantage-rollback-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating a test folder");
        for name in names {
            std::fs::write(dir.join(name), "SELECT 1;\n").expect("writing a test file");
        }
        dir
    }

    const FILES: [&str; 6] = [
        "1_a.sql",
        "1_a_rollback.sql",
        "2_b.sql",
        "2_b_rollback.sql",
        "3_c.sql",
        "3_c_rollback.sql",
    ];

    fn applied(versions: &[&str]) -> Vec<String> {
        versions.iter().map(|v| (*v).to_owned()).collect()
    }

    fn planned(dir: &Path, applied: &[String], keep: &Keep) -> Vec<Planned> {
        plan(dir, applied, keep).expect("a rollback plan")
    }

    fn refused(dir: &Path, applied: &[String], keep: &Keep) -> String {
        match plan(dir, applied, keep) {
            Ok(planned) => panic!("planned {planned:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn versions(planned: &[Planned]) -> Vec<&str> {
        planned.iter().map(|p| p.version.as_str()).collect()
    }

    #[test]
    fn without_to_only_the_newest_applied_one() {
        let dir = folder("newest", &FILES);
        let newest = planned(&dir, &applied(&["1", "2"]), &Keep::AllButNewest);
        assert_eq!(versions(&newest), ["2"]);
        assert_eq!(newest[0].rollback, dir.join("2_b_rollback.sql"));
        assert!(
            planned(&dir, &[], &Keep::AllButNewest).is_empty(),
            "nothing applied, nothing to do"
        );
    }

    #[test]
    fn to_keeps_that_version_and_rolls_back_newer_ones_newest_first() {
        let dir = folder("to", &FILES);
        let all = applied(&["1", "2", "3"]);
        assert_eq!(
            versions(&planned(&dir, &all, &Keep::Through("1".to_owned()))),
            ["3", "2"]
        );
        assert!(planned(&dir, &all, &Keep::Through("3".to_owned())).is_empty());
    }

    #[test]
    fn to_a_version_that_is_not_applied_names_the_applied_ones() {
        let dir = folder("unknown", &FILES);
        let text = refused(&dir, &applied(&["1", "2"]), &Keep::Through("3".to_owned()));
        assert!(text.contains("3 is not applied"), "{text}");
        assert!(text.contains("1, 2"), "{text}");
        assert!(text.contains("nothing was rolled back"), "{text}");
        let text = refused(&dir, &[], &Keep::Through("1".to_owned()));
        assert!(text.contains("applied: none"), "{text}");
    }

    #[test]
    fn a_missing_file_stops_the_plan_before_anything_runs() {
        let dir = folder(
            "missing",
            &[
                "1_a.sql",
                "1_a_rollback.sql",
                "2_b.sql",
                "3_c.sql",
                "3_c_rollback.sql",
            ],
        );
        let text = refused(
            &dir,
            &applied(&["1", "2", "3"]),
            &Keep::Through("1".to_owned()),
        );
        assert!(text.contains("2_b_rollback.sql"), "{text}");
        let text = refused(
            &folder("gone", &FILES[..2]),
            &applied(&["1", "2"]),
            &Keep::AllButNewest,
        );
        assert!(text.contains("2_<name>.sql"), "{text}");
    }
}
