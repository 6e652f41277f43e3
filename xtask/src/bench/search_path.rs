//! The health view before and after migration `20261208100000` (every function sets its
//! `search_path`, Supabase's lint 0011), timed in the same run on the same rows.
//!
//! Beside the shipped view, the bench builds two copies of the view as it was before the
//! migration (its rollback file holds that definition): `bench_before` calls copies of the rule
//! functions and of the default schedule without a SET clause, which the planner inlines, as
//! before the migration;
//! `bench_naive` calls the shipped functions, which set their `search_path`: the fix the
//! migration did not take. Both schemas are dropped afterwards.

use crate::error::{Result, XtaskError};
use crate::stack::psql::Psql;

/// The migration's rollback: the view as it was, calling the rule functions.
const ROLLBACK_SQL: &str =
    include_str!("../../../migrations/20261208100000_vantage_sync_search_path_rollback.sql");

/// The functions the view called: the rules and the default schedule.
const RULES: [&str; 4] = [
    "vantage_sync_health_rank_of",
    "vantage_sync_alerts_of",
    "vantage_sync_health_name",
    "vantage_sync_default_schedule",
];

/// The full read of each variant, in the order [`build`] returns them in.
pub const VARIANT_READS: [&str; 2] = [
    "SELECT * FROM bench_before.vantage_sync_health ORDER BY sort_key",
    "SELECT * FROM bench_naive.vantage_sync_health ORDER BY sort_key",
];

/// Creates the two variants in the bench's database.
pub fn build(psql: &Psql) -> Result<()> {
    let view = old_view()?;
    let mut sql = String::from(
        "DROP SCHEMA IF EXISTS bench_before CASCADE; CREATE SCHEMA bench_before;\n\
         DROP SCHEMA IF EXISTS bench_naive CASCADE; CREATE SCHEMA bench_naive;\n",
    );
    for rule in RULES {
        let definition = psql.sql(&format!(
            "SELECT pg_get_functiondef('public.{rule}'::regproc)"
        ))?;
        sql.push_str(&without_search_path(&definition, rule));
        sql.push_str(";\n");
    }
    let mut before = view.replace(
        "public.vantage_sync_health ",
        "bench_before.vantage_sync_health ",
    );
    for rule in RULES {
        before = before.replace(&format!("public.{rule}("), &format!("bench_before.{rule}("));
    }
    sql.push_str(&before);
    sql.push('\n');
    sql.push_str(&view.replace(
        "public.vantage_sync_health ",
        "bench_naive.vantage_sync_health ",
    ));
    psql.sql(&sql).map(|_| ())
}

/// Drops the variants.
pub fn drop(psql: &Psql) -> Result<()> {
    psql.sql("DROP SCHEMA bench_before CASCADE; DROP SCHEMA bench_naive CASCADE")
        .map(|_| ())
}

/// The `CREATE OR REPLACE VIEW` of the rollback file.
fn old_view() -> Result<String> {
    let start = ROLLBACK_SQL.find("CREATE OR REPLACE VIEW public.vantage_sync_health ");
    let end = start.and_then(|s| {
        ROLLBACK_SQL[s..]
            .find(") AS r;")
            .map(|e| s + e + ") AS r;".len())
    });
    match (start, end) {
        (Some(start), Some(end)) => Ok(ROLLBACK_SQL[start..end].to_owned()),
        _ => Err(XtaskError::NoReport {
            tool: "the rollback of 20261208100000",
            output: "no CREATE OR REPLACE VIEW public.vantage_sync_health … ) AS r; in it"
                .to_owned(),
        }),
    }
}

/// A function's definition as `pg_get_functiondef` prints it, moved to `bench_before` and
/// without its `SET search_path` line, so that the planner inlines it again.
fn without_search_path(definition: &str, rule: &str) -> String {
    definition
        .lines()
        .filter(|line| !line.trim_start().starts_with("SET search_path"))
        .collect::<Vec<_>>()
        .join("\n")
        .replacen(
            &format!("public.{rule}("),
            &format!("bench_before.{rule}("),
            1,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_old_view_calls_every_rule_and_the_copies_lose_their_search_path() -> Result<()> {
        let view = old_view()?;
        for rule in RULES {
            assert!(view.contains(&format!("public.{rule}(")), "{rule}");
        }
        let copy = without_search_path(
            "CREATE OR REPLACE FUNCTION public.vantage_sync_health_name(p_rank integer)\n \
             RETURNS text\n LANGUAGE sql\n IMMUTABLE\n SET search_path TO ''\nAS $function$ x $function$\n",
            "vantage_sync_health_name",
        );
        assert!(copy.contains("bench_before.vantage_sync_health_name("));
        assert!(!copy.contains("search_path"));
        Ok(())
    }
}
