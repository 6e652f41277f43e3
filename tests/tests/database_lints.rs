//! Lints on the live database, in the style of Supabase's splinter: what an attacker with the
//! publishable key or a user's JWT could use, checked in the catalog of the running stack
//! (after every migration, as deployed), not in the migration files.

use vantage_sync_tests::{Db, Error, Result, Stack};

/// A lint: its name, what it protects against, and a query listing every offender.
struct Lint {
    name: &'static str,
    why: &'static str,
    offenders: &'static str,
}

const LINTS: [Lint; 4] = [
    Lint {
        name: "rls_disabled_in_public",
        why: "PostgREST exposes every table in public: without RLS a grant is the only guard",
        offenders: "SELECT c.relname::text FROM pg_class c
                      JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
                       AND NOT c.relrowsecurity",
    },
    Lint {
        name: "api_roles_can_call_writing_functions",
        why: "anon and authenticated must only read: a VOLATILE function they may call can write",
        offenders: "SELECT p.oid::regprocedure::text FROM pg_proc p
                      JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = 'public' AND p.prokind = 'f'
                       AND p.provolatile = 'v'
                       AND p.prorettype <> 'trigger'::regtype
                       AND (has_function_privilege('anon', p.oid, 'EXECUTE')
                            OR has_function_privilege('authenticated', p.oid, 'EXECUTE'))",
    },
    Lint {
        name: "security_definer_without_search_path",
        why: "a SECURITY DEFINER function with a mutable search_path can be made to run a caller's objects",
        offenders: "SELECT p.oid::regprocedure::text FROM pg_proc p
                      JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname IN ('public', 'vantage_sync_private')
                       AND p.prosecdef
                       AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS setting
                                        WHERE setting LIKE 'search\\_path=%')",
    },
    Lint {
        name: "view_bypasses_rls",
        why: "a view runs as its owner unless security_invoker is set, so it would skip RLS",
        offenders: "SELECT c.relname::text FROM pg_class c
                      JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')
                       AND NOT coalesce(c.reloptions @> ARRAY['security_invoker=true'], false)",
    },
];

#[test]
fn the_live_database_passes_every_lint() -> Result<()> {
    let stack = Stack::load()?;
    let db = Db::connect(&stack)?;
    let mut failures = Vec::new();
    println!("database lints ({}):", stack.database_url());
    for lint in &LINTS {
        let offenders: Vec<String> = db
            .query(lint.offenders, &[])?
            .iter()
            .map(|row| row.get(0))
            .collect();
        println!("  {:<40} {} offender(s)", lint.name, offenders.len());
        if !offenders.is_empty() {
            failures.push(format!(
                "{}: {} ({})",
                lint.name,
                offenders.join(", "),
                lint.why
            ));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::Edge(failures.join("\n")))
    }
}

/// Each lint finds what it looks for: a throwaway object that breaks it, in a transaction
/// that is rolled back.
#[test]
fn every_lint_catches_its_offence() -> Result<()> {
    let stack = Stack::load()?;
    let db = Db::connect(&stack)?;
    let offences = [
        "CREATE TABLE public.lint_probe (id int)",
        "CREATE FUNCTION public.lint_probe() RETURNS void LANGUAGE sql AS 'SELECT 1';
         GRANT EXECUTE ON FUNCTION public.lint_probe() TO authenticated",
        "CREATE FUNCTION public.lint_probe() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
        "CREATE VIEW public.lint_probe AS SELECT 1 AS one",
    ];
    for (lint, offence) in LINTS.iter().zip(offences) {
        db.batch(&format!("BEGIN; {offence};"))?;
        let found = db.query(lint.offenders, &[]);
        db.batch("ROLLBACK")?;
        let found: Vec<String> = found?.iter().map(|row| row.get(0)).collect();
        if !found.iter().any(|name| name.contains("lint_probe")) {
            return Err(Error::Edge(format!(
                "{} did not catch: {offence} (found {found:?})",
                lint.name
            )));
        }
    }
    Ok(())
}
