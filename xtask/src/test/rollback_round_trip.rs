//! `cargo xtask db rollback` end to end on the test stack, through the same functions the
//! command runs: a `--to` that is not applied changes nothing; `--to` a version rolls back every
//! newer migration (their objects gone, their rows forgotten, the sync state kept); without
//! `--to` the newest goes; then `up`'s own path applies them again and the catalog is exactly as
//! before. Later steps (the HTTP suite) run on the re-applied schema.

use crate::error::{Result, XtaskError};
use crate::paths::workspace_root;
use crate::stack::migrations::apply_pending;
use crate::stack::psql::Psql;
use crate::stack::rollback::{Keep, applied_versions, roll_back};
use crate::test::steps::check;

/// The health view's migration: kept by `--to`; everything after it is rolled back.
const KEEP: &str = "20261124190300";

/// Every object of the project in the catalog, one sorted text: relations, columns, functions,
/// triggers, policies.
const CATALOG_SQL: &str = "SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
    SELECT 'rel ' || c.oid::regclass::text || ' ' || c.relkind::text AS x
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('public', 'vantage_sync_private') AND c.relname LIKE '%vantage%'
    UNION ALL
    SELECT 'col ' || a.attrelid::regclass::text || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'public'::regnamespace AND c.relname LIKE 'vantage%'
       AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'fn ' || p.oid::regprocedure::text || ' definer=' || p.prosecdef
      FROM pg_proc p WHERE p.proname LIKE '%vantage%'
        OR p.pronamespace = 'vantage_sync_private'::regnamespace
    UNION ALL
    SELECT 'trigger ' || t.tgrelid::regclass::text || ' ' || t.tgname
      FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgname LIKE '%vantage%'
    UNION ALL
    SELECT 'policy ' || tablename || ' ' || policyname FROM pg_policies WHERE tablename LIKE 'vantage%'
  ) AS catalog";

/// One value printed by psql, without its line end.
fn value(psql: &Psql, sql: &str) -> Result<String> {
    Ok(psql.sql(sql)?.trim_end().to_owned())
}

/// Runs the round trip on the stack's database; leaves it as it found it, also when a check
/// fails half-way (the migrations are applied again before the error is returned).
pub fn run(psql: &Psql) -> Result<()> {
    let dir = workspace_root().join("migrations");
    let checked = round_trip(psql);
    if checked.is_err() {
        apply_pending(psql, &dir)?;
    }
    checked
}

fn round_trip(psql: &Psql) -> Result<()> {
    let dir = workspace_root().join("migrations");
    let versions = applied_versions(psql)?;
    let catalog = value(psql, CATALOG_SQL)?;
    let state_rows = value(psql, "SELECT count(*) FROM public.vantage_sync_state")?;

    let unknown = roll_back(psql, &dir, &Keep::Through("19990101000000".to_owned()));
    check(
        matches!(&unknown, Err(XtaskError::NotApplied { applied, .. }) if applied.contains(KEEP)),
        || {
            format!(
                "--to 19990101000000 should be refused, naming the applied versions: {unknown:?}"
            )
        },
    )?;
    check(
        applied_versions(psql)? == versions && value(psql, CATALOG_SQL)? == catalog,
        || "a refused --to changed the database".to_owned(),
    )?;

    let done = roll_back(psql, &dir, &Keep::Through(KEEP.to_owned()))?;
    let newer: Vec<&String> = versions
        .iter()
        .filter(|v| v.as_str() > KEEP)
        .rev()
        .collect();
    let rolled: Vec<&String> = done.iter().map(|m| &m.version).collect();
    check(rolled == newer, || {
        format!("--to {KEEP} rolled back {rolled:?}, expected {newer:?} (newest first)")
    })?;
    let kept: Vec<String> = versions
        .iter()
        .filter(|v| v.as_str() <= KEEP)
        .cloned()
        .collect();
    check(applied_versions(psql)? == kept, || {
        format!("after --to {KEEP} schema_migrations should hold {kept:?}")
    })?;
    let objects = value(
        psql,
        "SELECT to_regclass('public.vantage_sync_health') IS NOT NULL,
                to_regclass('public.vantage_sync_webhooks') IS NULL,
                to_regprocedure('public.start_vantage_sync_run(text)') IS NULL,
                to_regprocedure('public.vantage_sync_drop_old_runs(integer)') IS NULL,
                NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'public.vantage_sync_state'::regclass
                              AND attname = 'next_attempt_at' AND NOT attisdropped),
                (SELECT count(*) FROM public.vantage_sync_state)::text",
    )?;
    check(objects == format!("t|t|t|t|t|{state_rows}"), || {
        format!(
            "after --to {KEEP}: the health view kept, the later objects gone, the {state_rows} state rows kept; got {objects}"
        )
    })?;

    let newest = roll_back(psql, &dir, &Keep::AllButNewest)?;
    check(newest.len() == 1 && newest[0].version == KEEP, || {
        format!("without --to only {KEEP} should go: {newest:?}")
    })?;
    check(
        value(
            psql,
            "SELECT to_regclass('public.vantage_sync_health') IS NULL",
        )? == "t",
        || "rolling back the health view's migration left the view".to_owned(),
    )?;

    let again = apply_pending(psql, &dir)?;
    check(again.len() == newer.len() + 1, || {
        format!(
            "`up`'s path applied {} migrations again, expected {}",
            again.len(),
            newer.len() + 1
        )
    })?;
    check(applied_versions(psql)? == versions, || {
        "after re-applying, schema_migrations differs from before".to_owned()
    })?;
    let after = value(psql, CATALOG_SQL)?;
    check(after == catalog, || {
        format!(
            "after re-applying, the catalog differs from before:\nbefore:\n{catalog}\nafter:\n{after}"
        )
    })
}
