//! The database lints of `tests/tests/database_lints.rs`: Supabase's database linter (splinter,
//! the Security and Performance Advisors), lints 0001–0029, as they apply to this project's own
//! objects, and four lints of the project's own.
//!
//! Each lint is data: a query listing every offender and a probe that plants one. Every query
//! runs after [`SCOPE`], whose common table expressions say what the project's objects are:
//!
//! - `project_schema`: every schema but Postgres's own and those Supabase or its extensions
//!   own (`auth`, `extensions`, `storage`, `supabase_migrations`, …), as splinter skips them;
//! - `api_schema`: the project schemas PostgREST serves (`pgrst.db_schemas`, as on Supabase;
//!   `public` when unset, PostgREST's default and the local stack's);
//! - `extension_relation`, `extension_function`: what extensions created (splinter skips them
//!   too).
//!
//! The queries are written here from the lints' descriptions (`supabase/splinter`, `lints/` and
//! `docs/`); each says where it is stricter than splinter's.

mod splinter;

pub use splinter::SUPABASE;

/// How much a finding matters, as Supabase's Advisors rank it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Fix before going live: a finding fails the test.
    Error,
    /// Fix: a finding fails the test.
    Warn,
    /// Worth knowing: a finding is allowed when [`INFO_ALLOWED`] lists it with a reason.
    Info,
}

impl Level {
    /// As the Advisors print it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "ERROR",
            Self::Warn => "WARN",
            Self::Info => "INFO",
        }
    }
}

/// One lint: what it looks for and how to prove that it finds it.
#[derive(Debug)]
pub struct Lint {
    /// Its number and name as Supabase's docs cite it (`0011_function_search_path_mutable`), or
    /// `project:` and a name for the project's own lints.
    pub code: &'static str,
    /// Its level.
    pub level: Level,
    /// What it guards against.
    pub why: &'static str,
    /// A query (run after [`SCOPE`]) with one text column: one row per offender, naming it.
    pub offenders: &'static str,
    /// Statements that plant an offender (named `lint_probe…`, or an extension for the
    /// extension lints), run inside a transaction that is rolled back: the lint must then find
    /// something it did not find before.
    pub probe: &'static str,
}

impl Lint {
    /// The query to run: [`SCOPE`], then the lint's own.
    #[must_use]
    pub fn query(&self) -> String {
        format!("{SCOPE}\n{}", self.offenders)
    }
}

/// The common table expressions every lint's query starts with (see the module's docs).
pub const SCOPE: &str = r"
WITH project_schema AS (
    SELECT n.oid, n.nspname
      FROM pg_catalog.pg_namespace n
     WHERE n.nspname !~ '^(pg_|_timescaledb)'
       AND n.nspname NOT IN (
           'information_schema', 'auth', 'extensions', 'storage', 'realtime', 'vault',
           'graphql', 'graphql_public', 'supabase_functions', 'supabase_migrations',
           'pgsodium', 'pgsodium_masks', 'pgbouncer', 'pgmq', 'pgtle', 'pgroonga', 'net',
           'cron', 'repack', 'tiger', 'topology')
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                        WHERE d.classid = 'pg_catalog.pg_namespace'::regclass
                          AND d.objid = n.oid AND d.deptype = 'e')
),
api_schema AS (
    SELECT s.oid, s.nspname
      FROM project_schema s
     WHERE s.nspname = ANY (regexp_split_to_array(
               btrim(coalesce(nullif(current_setting('pgrst.db_schemas', true), ''), 'public')),
               '\s*,\s*'))
),
extension_relation AS (
    SELECT d.objid FROM pg_catalog.pg_depend d
     WHERE d.deptype = 'e' AND d.classid = 'pg_catalog.pg_class'::regclass
),
extension_function AS (
    SELECT d.objid FROM pg_catalog.pg_depend d
     WHERE d.deptype = 'e' AND d.classid = 'pg_catalog.pg_proc'::regclass
)";

/// The project's own lints, kept beside Supabase's: stricter forms of 0013 and 0010 (every
/// table and view in `public`, granted or not) and two that splinter does not have.
pub const PROJECT: [Lint; 4] = [
    Lint {
        code: "project:public_table_without_rls",
        level: Level::Error,
        why: "PostgREST exposes every table in public: without RLS a grant is the only guard",
        offenders: "SELECT format('%I.%I', s.nspname, c.relname)
                      FROM pg_class c JOIN api_schema s ON s.oid = c.relnamespace
                     WHERE c.relkind IN ('r', 'p') AND NOT c.relrowsecurity",
        probe: "CREATE TABLE public.lint_probe (id int);
                REVOKE ALL ON public.lint_probe FROM anon, authenticated",
    },
    Lint {
        code: "project:api_roles_can_call_writing_functions",
        level: Level::Error,
        why: "anon and authenticated must only read: a VOLATILE function they may call can write",
        offenders: "SELECT format('%I.%I', s.nspname, p.proname)
                      FROM pg_proc p JOIN api_schema s ON s.oid = p.pronamespace
                     WHERE p.prokind = 'f' AND p.provolatile = 'v'
                       AND p.prorettype <> 'trigger'::regtype
                       AND (has_function_privilege('anon', p.oid, 'EXECUTE')
                            OR has_function_privilege('authenticated', p.oid, 'EXECUTE'))",
        probe: "CREATE FUNCTION public.lint_probe() RETURNS void LANGUAGE sql AS 'SELECT 1';
                GRANT EXECUTE ON FUNCTION public.lint_probe() TO authenticated",
    },
    Lint {
        code: "project:security_definer_without_search_path",
        level: Level::Error,
        why: "a SECURITY DEFINER function with a mutable search_path can be made to run a \
              caller's objects",
        offenders: r"SELECT format('%I.%I', s.nspname, p.proname)
                      FROM pg_proc p JOIN project_schema s ON s.oid = p.pronamespace
                     WHERE p.prosecdef
                       AND NOT EXISTS (SELECT FROM unnest(p.proconfig) AS setting
                                        WHERE setting LIKE 'search\_path=%')",
        probe: "CREATE FUNCTION public.lint_probe() RETURNS int LANGUAGE sql SECURITY DEFINER
                AS 'SELECT 1';
                REVOKE ALL ON FUNCTION public.lint_probe() FROM PUBLIC, anon, authenticated",
    },
    Lint {
        code: "project:view_bypasses_rls",
        level: Level::Error,
        why: "a view runs as its owner unless security_invoker is set, so it would skip RLS",
        offenders: "SELECT format('%I.%I', s.nspname, c.relname)
                      FROM pg_class c JOIN api_schema s ON s.oid = c.relnamespace
                     WHERE c.relkind IN ('v', 'm')
                       AND NOT coalesce(c.reloptions @> ARRAY['security_invoker=true'], false)",
        probe: "CREATE VIEW public.lint_probe AS SELECT 1 AS one;
                REVOKE ALL ON public.lint_probe FROM anon, authenticated",
    },
];

/// The lints of 0001–0029 that cannot apply to this project's objects, each with why
/// (docs/database.md, "Supabase's database linter", says the same).
pub const NOT_APPLICABLE: [(&str, &str); 4] = [
    (
        "0012_auth_allow_anonymous_sign_ins",
        "a setting of Supabase Auth, not of the database: the project signs nobody in",
    ),
    (
        "0019_insecure_queue_exposed_in_api",
        "looks at pgmq's queue tables; the project uses no pgmq",
    ),
    (
        "0025_public_bucket_allows_listing",
        "looks at Supabase Storage's buckets and their policies; the project stores no files",
    ),
    (
        "0027_pg_graphql_authenticated_table_exposed",
        "looks only when pg_graphql is installed; the project serves nothing through GraphQL, \
         and with pg_graphql it would name the relations authenticated reads by design: \
         drop the extension, as Supabase's remediation says first",
    ),
];

/// An INFO finding that stays, and why.
#[derive(Debug)]
pub struct Allowance {
    /// The lint's code.
    pub code: &'static str,
    /// The finding as the lint's query names it; `*` stands for any text (partitions are
    /// named by month).
    pub finding: &'static str,
    /// Why it stays.
    pub reason: &'static str,
}

impl Allowance {
    /// Whether `finding` of the lint `code` is this one.
    #[must_use]
    pub fn allows(&self, code: &str, finding: &str) -> bool {
        code == self.code && glob_matches(self.finding, finding)
    }
}

/// Whether `text` is `pattern`, where each `*` of the pattern stands for any text.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Lints whose findings depend on the workload the server has seen (index scans, dead rows),
/// not on the schema alone: their allowances may go unseen in a run.
pub const FROM_STATISTICS: [&str; 2] = ["0005_unused_index", "0020_table_bloat"];

/// Why the runs' partitions need no policy of their own.
const PARTITIONS: &str = "a monthly partition of vantage_sync_runs in the unexposed schema, \
                          granted to no API role: its rows are read through the parent table, \
                          whose policies apply";
/// Why the webhook tables need no policy.
const SERVICE_ROLE_ONLY: &str = "only service_role has any privilege on it, and it bypasses \
                                 RLS: with no policy, RLS is a second lock against every other \
                                 role";
/// Why an index may show as unused.
const USED_IN_PRODUCTION: &str = "scans are counted per server since its statistics began: a \
                                  fresh database (a new project, a test stack before the tests \
                                  that use it) has used no index yet";

/// The INFO findings that stay (docs/database.md lists the same, with the same reasons).
pub const INFO_ALLOWED: [Allowance; 12] = [
    Allowance {
        code: "0005_unused_index",
        finding: "vantage_sync_private.pagerduty_incidents \
                  (index pagerduty_incidents_webhook_id_idx)",
        reason: USED_IN_PRODUCTION,
    },
    Allowance {
        code: "0005_unused_index",
        finding: "public.vantage_sync_state (index idx_vantage_sync_status)",
        reason: USED_IN_PRODUCTION,
    },
    Allowance {
        code: "0005_unused_index",
        finding: "public.vantage_sync_state (index idx_vantage_sync_last_time)",
        reason: USED_IN_PRODUCTION,
    },
    Allowance {
        code: "0005_unused_index",
        finding: "public.vantage_sync_state (index idx_vantage_sync_duration)",
        reason: USED_IN_PRODUCTION,
    },
    Allowance {
        code: "0005_unused_index",
        finding: "public.vantage_sync_webhook_deliveries \
                  (index vantage_sync_webhook_deliveries_due_idx)",
        reason: USED_IN_PRODUCTION,
    },
    Allowance {
        code: "0005_unused_index",
        finding: "public.vantage_sync_webhook_deliveries \
                  (index vantage_sync_webhook_deliveries_pending_idx)",
        reason: USED_IN_PRODUCTION,
    },
    Allowance {
        code: "0005_unused_index",
        finding: "vantage_sync_private.vantage_sync_runs_* \
                  (index vantage_sync_runs_*_resource_started_at_idx)",
        reason: USED_IN_PRODUCTION,
    },
    Allowance {
        code: "0008_rls_enabled_no_policy",
        finding: "public.vantage_sync_webhooks",
        reason: SERVICE_ROLE_ONLY,
    },
    Allowance {
        code: "0008_rls_enabled_no_policy",
        finding: "public.vantage_sync_webhook_deliveries",
        reason: SERVICE_ROLE_ONLY,
    },
    Allowance {
        code: "0008_rls_enabled_no_policy",
        finding: "public.vantage_sync_webhook_attempts",
        reason: SERVICE_ROLE_ONLY,
    },
    Allowance {
        code: "0008_rls_enabled_no_policy",
        finding: "vantage_sync_private.pagerduty_incidents",
        reason: "open PagerDuty episodes, written and read only by SECURITY DEFINER functions \
                 and triggers; no API role has any privilege on it",
    },
    Allowance {
        code: "0008_rls_enabled_no_policy",
        finding: "vantage_sync_private.vantage_sync_runs_*",
        reason: PARTITIONS,
    },
];

#[cfg(test)]
mod tests {
    use super::glob_matches;

    #[test]
    fn a_star_stands_for_any_text_and_nothing_else_does() {
        assert!(glob_matches("a.b", "a.b"));
        assert!(!glob_matches("a.b", "a.bc"));
        assert!(glob_matches("runs_*", "runs_2027_01"));
        assert!(glob_matches(
            "runs_* (index runs_*_idx)",
            "runs_2027_01 (index runs_2027_01_idx)"
        ));
        assert!(!glob_matches(
            "runs_* (index runs_*_idx)",
            "runs_2027_01 (index runs_idx)"
        ));
        assert!(!glob_matches("runs_*", "state"));
        assert!(!glob_matches("a*a", "a"));
    }
}
