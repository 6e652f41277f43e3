//! Resources in a realistic mix of states, added as superuser (`resources.sql`): the 10,000 of
//! `cargo xtask bench db`, and the counts of the widget's table at scale.

use crate::error::{Result, XtaskError};
use crate::stack::psql::Psql;

/// The generator, with `FIRST_RESOURCE` and `LAST_RESOURCE` to fill in.
const RESOURCES_SQL: &str = include_str!("resources.sql");

/// The SQL that adds `bench_view_{first}` to `bench_view_{last}` (and their schedules).
pub fn insert_sql(first: usize, last: usize) -> String {
    RESOURCES_SQL
        .replace("FIRST_RESOURCE", &first.to_string())
        .replace("LAST_RESOURCE", &last.to_string())
}

/// A count the database answered.
fn count(psql: &Psql, sql: &str) -> Result<usize> {
    psql.sql(sql)?
        .trim()
        .parse()
        .map_err(|_| XtaskError::Check(format!("counting with {sql}")))
}

/// Adds generated resources until the state table holds `total` rows (none when it holds as
/// many already); how many rows it holds then.
pub fn top_up(psql: &Psql, total: usize) -> Result<usize> {
    let rows = count(psql, "SELECT count(*) FROM public.vantage_sync_state")?;
    if total > rows {
        let generated = count(
            psql,
            "SELECT count(*) FROM public.vantage_sync_state WHERE resource LIKE 'bench\\_view\\_%'",
        )?;
        psql.sql(&insert_sql(generated + 1, generated + total - rows))?;
    }
    count(psql, "SELECT count(*) FROM public.vantage_sync_state")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_filled_in_everywhere() {
        let sql = insert_sql(8, 1000);
        assert!(!sql.contains("FIRST_RESOURCE") && !sql.contains("LAST_RESOURCE"));
        assert_eq!(sql.matches("generate_series(8, 1000)").count(), 2);
    }
}
