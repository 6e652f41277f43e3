//! Supabase's lints 0001–0029 that can apply to the project's own objects, one entry each, in
//! number order, at splinter's level. Each query names its offenders in the project schemas
//! (the API schemas where splinter looks only at what PostgREST serves); where one is stricter
//! than splinter's, its `why` says so.

use super::{Level, Lint};

/// The lints, in number order (`NOT_APPLICABLE` holds the missing numbers).
pub const SUPABASE: [Lint; 25] = [
    Lint {
        code: "0001_unindexed_foreign_keys",
        level: Level::Info,
        why: "a foreign key whose columns lead no index makes every delete or key update of the \
              referenced row scan the referencing table",
        offenders: "SELECT format('%I.%I (foreign key %I)', s.nspname, c.relname, k.conname)
                      FROM pg_constraint k
                      JOIN pg_class c ON c.oid = k.conrelid
                      JOIN project_schema s ON s.oid = c.relnamespace
                     WHERE k.contype = 'f'
                       AND c.oid NOT IN (SELECT objid FROM extension_relation)
                       AND NOT EXISTS (
                           SELECT FROM pg_index i
                            WHERE i.indrelid = k.conrelid AND i.indisvalid
                              AND (string_to_array(i.indkey::text, ' ')::int2[])
                                      [1:cardinality(k.conkey)] = k.conkey)",
        probe: "CREATE TABLE public.lint_probe_parent (id int PRIMARY KEY);
                CREATE TABLE public.lint_probe (parent int REFERENCES public.lint_probe_parent)",
    },
    Lint {
        code: "0002_auth_users_exposed",
        level: Level::Error,
        why: "a view or materialized view the API roles may read that reads auth.users with its \
              owner's rights (or without RLS on auth.users) hands out every user's email",
        offenders: "SELECT DISTINCT format('%I.%I', s.nspname, v.relname)
                      FROM pg_depend d
                      JOIN pg_rewrite r ON r.oid = d.objid
                      JOIN pg_class v ON v.oid = r.ev_class
                      JOIN api_schema s ON s.oid = v.relnamespace
                      JOIN pg_class u ON u.oid = d.refobjid
                     WHERE d.classid = 'pg_rewrite'::regclass
                       AND u.oid = to_regclass('auth.users')
                       AND (has_table_privilege('anon', v.oid, 'SELECT')
                            OR has_table_privilege('authenticated', v.oid, 'SELECT'))
                       AND (v.relkind = 'm'
                            OR (v.relkind = 'v'
                                AND (NOT u.relrowsecurity
                                     OR NOT lower(coalesce(v.reloptions::text, '{}'))::text[]
                                        && ARRAY['security_invoker=true', 'security_invoker=on',
                                                 'security_invoker=yes', 'security_invoker=1'])))",
        probe: "CREATE TABLE IF NOT EXISTS auth.users (id uuid PRIMARY KEY, email text);
                CREATE VIEW public.lint_probe AS SELECT id, email FROM auth.users;
                GRANT SELECT ON public.lint_probe TO authenticated",
    },
    Lint {
        code: "0003_auth_rls_initplan",
        level: Level::Warn,
        why: "a policy that calls auth.uid(), auth.jwt(), auth.role(), auth.email() or \
              current_setting() outside a sub-select evaluates it once per row, not once per query",
        offenders: "SELECT DISTINCT format('%I.%I (policy %I)', s.nspname, c.relname, p.polname)
                      FROM pg_policy p
                      JOIN pg_class c ON c.oid = p.polrelid
                      JOIN project_schema s ON s.oid = c.relnamespace
                     CROSS JOIN LATERAL unnest(ARRAY[pg_get_expr(p.polqual, p.polrelid),
                                                     pg_get_expr(p.polwithcheck, p.polrelid)])
                                AS e(expr)
                     CROSS JOIN unnest(ARRAY['auth.uid()', 'auth.jwt()', 'auth.role()',
                                             'auth.email()', 'current_setting(']) AS f(call)
                     WHERE c.relrowsecurity
                       AND strpos(e.expr, f.call) > 0
                       AND strpos(lower(e.expr), 'select ' || f.call) = 0",
        probe: "CREATE TABLE public.lint_probe (owner uuid);
                ALTER TABLE public.lint_probe ENABLE ROW LEVEL SECURITY;
                CREATE POLICY lint_probe_own ON public.lint_probe FOR SELECT TO authenticated
                  USING (owner = auth.uid())",
    },
    Lint {
        code: "0004_no_primary_key",
        level: Level::Info,
        why: "a table without a primary key cannot be replicated row by row and is hard to \
              change one row at a time",
        offenders: "SELECT format('%I.%I', s.nspname, c.relname)
                      FROM pg_class c
                      JOIN project_schema s ON s.oid = c.relnamespace
                     WHERE c.relkind = 'r'
                       AND c.oid NOT IN (SELECT objid FROM extension_relation)
                       AND NOT EXISTS (SELECT FROM pg_index i
                                        WHERE i.indrelid = c.oid AND i.indisprimary)",
        probe: "CREATE TABLE public.lint_probe (id int)",
    },
    Lint {
        code: "0005_unused_index",
        level: Level::Info,
        why: "an index no query has used since the statistics began costs every write and \
              buys nothing (counted on this server only)",
        offenders: "SELECT format('%I.%I (index %I)', s.nspname, t.relname, x.relname)
                      FROM pg_index i
                      JOIN pg_class x ON x.oid = i.indexrelid
                      JOIN pg_class t ON t.oid = i.indrelid
                      JOIN project_schema s ON s.oid = t.relnamespace
                     WHERE t.relkind IN ('r', 'm')
                       AND NOT i.indisunique AND NOT i.indisprimary
                       AND coalesce(pg_stat_get_numscans(i.indexrelid), 0) = 0
                       AND t.oid NOT IN (SELECT objid FROM extension_relation)",
        probe: "CREATE TABLE public.lint_probe (id int);
                CREATE INDEX lint_probe_id ON public.lint_probe (id)",
    },
    Lint {
        code: "0006_multiple_permissive_policies",
        level: Level::Warn,
        why: "two permissive policies for the same role and action are both evaluated for \
              every row; one policy with OR is cheaper (also checked on partitioned tables)",
        offenders: "SELECT format('%I.%I (%s for %I: %s)', s.nspname, c.relname, a.action,
                                  r.rolname, string_agg(quote_ident(p.polname), ', '
                                                        ORDER BY p.polname))
                      FROM pg_policy p
                      JOIN pg_class c ON c.oid = p.polrelid
                      JOIN project_schema s ON s.oid = c.relnamespace
                      JOIN pg_roles r ON p.polroles = '{0}' OR r.oid = ANY (p.polroles)
                     CROSS JOIN LATERAL unnest(CASE p.polcmd
                               WHEN 'r' THEN ARRAY['SELECT'] WHEN 'a' THEN ARRAY['INSERT']
                               WHEN 'w' THEN ARRAY['UPDATE'] WHEN 'd' THEN ARRAY['DELETE']
                               ELSE ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'] END) AS a(action)
                     WHERE c.relkind IN ('r', 'p') AND p.polpermissive
                       AND NOT r.rolbypassrls
                       AND r.rolname !~ '^pg_' AND r.rolname !~ '^supabase.*admin$'
                     GROUP BY s.nspname, c.relname, a.action, r.rolname
                    HAVING count(*) > 1",
        probe: "CREATE TABLE public.lint_probe (id int);
                ALTER TABLE public.lint_probe ENABLE ROW LEVEL SECURITY;
                CREATE POLICY lint_probe_a ON public.lint_probe FOR SELECT TO authenticated
                  USING (id > 0);
                CREATE POLICY lint_probe_b ON public.lint_probe FOR SELECT TO authenticated
                  USING (id < 0)",
    },
    Lint {
        code: "0007_policy_exists_rls_disabled",
        level: Level::Error,
        why: "policies on a table whose RLS is off are ignored: the table is open to its grants",
        offenders: "SELECT DISTINCT format('%I.%I', s.nspname, c.relname)
                      FROM pg_policy p
                      JOIN pg_class c ON c.oid = p.polrelid
                      JOIN project_schema s ON s.oid = c.relnamespace
                     WHERE NOT c.relrowsecurity
                       AND c.oid NOT IN (SELECT objid FROM extension_relation)",
        probe: "CREATE TABLE public.lint_probe (id int);
                CREATE POLICY lint_probe_read ON public.lint_probe FOR SELECT USING (true)",
    },
    Lint {
        code: "0008_rls_enabled_no_policy",
        level: Level::Info,
        why: "RLS with no policy lets no API role see a row: right for private tables, a \
              mistake for a table meant to be read",
        offenders: "SELECT format('%I.%I', s.nspname, c.relname)
                      FROM pg_class c
                      JOIN project_schema s ON s.oid = c.relnamespace
                     WHERE c.relkind = 'r' AND c.relrowsecurity
                       AND NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid)
                       AND c.oid NOT IN (SELECT objid FROM extension_relation)",
        probe: "CREATE TABLE public.lint_probe (id int);
                ALTER TABLE public.lint_probe ENABLE ROW LEVEL SECURITY",
    },
    Lint {
        code: "0009_duplicate_index",
        level: Level::Warn,
        why: "two indexes with the same definition double the cost of every write for nothing \
              (also checked on partitioned tables)",
        offenders: "SELECT format('%I.%I (indexes %s)', s.nspname, c.relname,
                                  string_agg(quote_ident(x.relname), ', ' ORDER BY x.relname))
                      FROM pg_index i
                      JOIN pg_class x ON x.oid = i.indexrelid
                      JOIN pg_class c ON c.oid = i.indrelid
                      JOIN project_schema s ON s.oid = c.relnamespace
                     WHERE c.relkind IN ('r', 'm', 'p')
                       AND c.oid NOT IN (SELECT objid FROM extension_relation)
                     GROUP BY s.nspname, c.relname, x.relam, i.indkey::text, i.indclass::text,
                              i.indcollation::text, i.indoption::text, i.indisunique,
                              i.indnullsnotdistinct, pg_get_expr(i.indexprs, i.indrelid),
                              pg_get_expr(i.indpred, i.indrelid)
                    HAVING count(*) > 1",
        probe: "CREATE TABLE public.lint_probe (id int);
                CREATE INDEX lint_probe_one ON public.lint_probe (id);
                CREATE INDEX lint_probe_two ON public.lint_probe (id)",
    },
    Lint {
        code: "0010_security_definer_view",
        level: Level::Error,
        why: "a view the API roles may read runs with its owner's rights unless \
              security_invoker is set, so it skips the RLS of the tables it reads",
        offenders: "SELECT format('%I.%I', s.nspname, c.relname)
                      FROM pg_class c
                      JOIN api_schema s ON s.oid = c.relnamespace
                     WHERE c.relkind = 'v'
                       AND (has_table_privilege('anon', c.oid, 'SELECT')
                            OR has_table_privilege('authenticated', c.oid, 'SELECT'))
                       AND NOT lower(coalesce(c.reloptions::text, '{}'))::text[]
                           && ARRAY['security_invoker=true', 'security_invoker=on',
                                    'security_invoker=yes', 'security_invoker=1']
                       AND c.oid NOT IN (SELECT objid FROM extension_relation)",
        probe: "CREATE VIEW public.lint_probe AS SELECT 1 AS one;
                GRANT SELECT ON public.lint_probe TO authenticated",
    },
    Lint {
        code: "0011_function_search_path_mutable",
        level: Level::Warn,
        why: "a function that sets no search_path resolves unqualified names through its \
              caller's, which the caller may change",
        offenders: r"SELECT DISTINCT format('%I.%I', s.nspname, p.proname)
                      FROM pg_proc p
                      JOIN project_schema s ON s.oid = p.pronamespace
                     WHERE p.oid NOT IN (SELECT objid FROM extension_function)
                       AND NOT EXISTS (SELECT FROM unnest(p.proconfig) AS setting
                                        WHERE setting LIKE 'search\_path=%')",
        probe: "CREATE FUNCTION public.lint_probe() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    },
    Lint {
        code: "0013_rls_disabled_in_public",
        level: Level::Error,
        why: "a table the API serves and its roles may read, without RLS: every row is \
              anyone's with the key",
        offenders: "SELECT format('%I.%I', s.nspname, c.relname)
                      FROM pg_class c
                      JOIN api_schema s ON s.oid = c.relnamespace
                     WHERE c.relkind = 'r' AND NOT c.relrowsecurity
                       AND (has_table_privilege('anon', c.oid, 'SELECT')
                            OR has_table_privilege('authenticated', c.oid, 'SELECT'))",
        probe: "CREATE TABLE public.lint_probe (id int);
                GRANT SELECT ON public.lint_probe TO anon",
    },
    Lint {
        code: "0014_extension_in_public",
        level: Level::Warn,
        why: "an extension installed in public puts its objects in the API schema and in \
              everyone's search_path",
        offenders: "SELECT format('extension %I in %I', x.extname, x.extnamespace::regnamespace)
                      FROM pg_extension x
                     WHERE x.extname <> 'plpgsql' AND x.extnamespace = 'public'::regnamespace",
        probe: "CREATE EXTENSION citext WITH SCHEMA public",
    },
    Lint {
        code: "0015_rls_references_user_metadata",
        level: Level::Error,
        why: "a policy that trusts user_metadata from the JWT trusts what every user may write \
              about themselves",
        offenders: r"SELECT DISTINCT format('%I.%I (policy %I)', s.nspname, c.relname, p.polname)
                      FROM pg_policy p
                      JOIN pg_class c ON c.oid = p.polrelid
                      JOIN project_schema s ON s.oid = c.relnamespace
                     CROSS JOIN LATERAL unnest(ARRAY[pg_get_expr(p.polqual, p.polrelid),
                                                     pg_get_expr(p.polwithcheck, p.polrelid)])
                                AS e(expr)
                     WHERE e.expr ~ 'auth\.jwt\(\).*user_metadata'
                        OR e.expr ~ 'current_setting\(.*request\.jwt\.claims.*user_metadata'",
        probe: "CREATE TABLE public.lint_probe (id int);
                ALTER TABLE public.lint_probe ENABLE ROW LEVEL SECURITY;
                CREATE POLICY lint_probe_admins ON public.lint_probe FOR SELECT TO authenticated
                  USING ((SELECT auth.jwt() -> 'user_metadata' ->> 'admin') = 'true')",
    },
    Lint {
        code: "0016_materialized_view_in_api",
        level: Level::Warn,
        why: "a materialized view has no RLS: every API role that may read it reads all of it",
        offenders: "SELECT format('%I.%I', s.nspname, c.relname)
                      FROM pg_class c
                      JOIN api_schema s ON s.oid = c.relnamespace
                     WHERE c.relkind = 'm'
                       AND (has_table_privilege('anon', c.oid, 'SELECT')
                            OR has_table_privilege('authenticated', c.oid, 'SELECT'))
                       AND c.oid NOT IN (SELECT objid FROM extension_relation)",
        probe: "CREATE MATERIALIZED VIEW public.lint_probe AS SELECT 1 AS one;
                GRANT SELECT ON public.lint_probe TO authenticated",
    },
    Lint {
        code: "0017_foreign_table_in_api",
        level: Level::Warn,
        why: "a foreign table has no RLS: every API role that may read it reads all of it",
        offenders: "SELECT format('%I.%I', s.nspname, c.relname)
                      FROM pg_class c
                      JOIN api_schema s ON s.oid = c.relnamespace
                     WHERE c.relkind = 'f'
                       AND (has_table_privilege('anon', c.oid, 'SELECT')
                            OR has_table_privilege('authenticated', c.oid, 'SELECT'))
                       AND c.oid NOT IN (SELECT objid FROM extension_relation)",
        probe: "CREATE FOREIGN DATA WRAPPER lint_probe_wrapper;
                CREATE SERVER lint_probe_server FOREIGN DATA WRAPPER lint_probe_wrapper;
                CREATE FOREIGN TABLE public.lint_probe (id int) SERVER lint_probe_server;
                GRANT SELECT ON public.lint_probe TO authenticated",
    },
    Lint {
        code: "0018_unsupported_reg_types",
        level: Level::Warn,
        why: "a column of a reg* type that stores an object's oid (regproc, regoper, \
              regnamespace, …) blocks pg_upgrade, so the project's Postgres cannot be upgraded \
              (arrays of them too: stricter than splinter)",
        offenders: "SELECT format('%I.%I.%I (%s)', s.nspname, c.relname, a.attname,
                                  format_type(a.atttypid, a.atttypmod))
                      FROM pg_attribute a
                      JOIN pg_class c ON c.oid = a.attrelid
                      JOIN project_schema s ON s.oid = c.relnamespace
                      JOIN pg_type t ON t.oid = a.atttypid
                     WHERE a.attnum > 0 AND NOT a.attisdropped
                       AND (CASE WHEN t.typelem <> 0 THEN t.typelem ELSE t.oid END)
                           IN ('regcollation'::regtype, 'regconfig'::regtype,
                               'regdictionary'::regtype, 'regnamespace'::regtype,
                               'regoper'::regtype, 'regoperator'::regtype,
                               'regproc'::regtype, 'regprocedure'::regtype)",
        probe: "CREATE TABLE public.lint_probe (handler regproc)",
    },
    Lint {
        code: "0020_table_bloat",
        level: Level::Info,
        why: "a table over 70 times the pages its live rows need, with over 20 MiB to win \
              back, wants VACUUM FULL (estimated from the statistics; the stack's tables are \
              small, so this fires only on the probe)",
        offenders: "SELECT format('%I.%I (%s pages for about %s)', s.nspname, b.relname,
                                  b.relpages, b.needed)
                      FROM (SELECT c.oid, c.relname, c.relnamespace, c.relpages,
                                   ceil(c.reltuples * (24 + w.width + 4)
                                        / (current_setting('block_size')::int - 24)) AS needed
                              FROM pg_class c
                             CROSS JOIN LATERAL (
                                   SELECT sum((1 - st.stanullfrac) * st.stawidth) AS width
                                     FROM pg_statistic st
                                    WHERE st.starelid = c.oid AND NOT st.stainherit) w
                             WHERE c.relkind = 'r' AND c.reltuples > 0) b
                      JOIN project_schema s ON s.oid = b.relnamespace
                     WHERE b.needed > 0 AND b.relpages > 70 * b.needed
                       AND (b.relpages - b.needed) * current_setting('block_size')::int
                           > 20 * 1024 * 1024",
        probe: "CREATE TABLE public.lint_probe (id int, filler text);
                ALTER TABLE public.lint_probe ALTER COLUMN filler SET STORAGE PLAIN;
                INSERT INTO public.lint_probe
                  SELECT g, repeat('x', 1900) FROM generate_series(1, 15000) AS g;
                DELETE FROM public.lint_probe WHERE id % 100 <> 0;
                ANALYZE public.lint_probe",
    },
    Lint {
        code: "0021_fkey_to_auth_unique",
        level: Level::Error,
        why: "a foreign key to a unique constraint of an auth table breaks when Supabase Auth \
              changes that constraint; reference the primary key",
        offenders: "SELECT format('%I.%I (foreign key %I to %s)', s.nspname, c.relname,
                                  k.conname, k.confrelid::regclass)
                      FROM pg_constraint k
                      JOIN pg_class c ON c.oid = k.conrelid
                      JOIN project_schema s ON s.oid = c.relnamespace
                      JOIN pg_class r ON r.oid = k.confrelid
                      JOIN pg_index i ON i.indexrelid = k.conindid
                     WHERE k.contype = 'f'
                       AND r.relnamespace = 'auth'::regnamespace
                       AND NOT i.indisprimary",
        probe: "CREATE TABLE auth.lint_probe_users (id uuid PRIMARY KEY, email text UNIQUE);
                CREATE TABLE public.lint_probe
                  (email text REFERENCES auth.lint_probe_users (email))",
    },
    Lint {
        code: "0022_extension_versions_outdated",
        level: Level::Warn,
        why: "an extension older than the version the server ships misses its fixes",
        offenders: "SELECT format('extension %I %s (the server ships %s)', x.name,
                                  x.installed_version, x.default_version)
                      FROM pg_available_extensions x
                     WHERE x.installed_version <> x.default_version
                       AND EXISTS (SELECT FROM pg_available_extension_versions v
                                    WHERE v.name = x.name AND v.version = x.installed_version)",
        probe: "CREATE EXTENSION pg_trgm WITH SCHEMA extensions VERSION '1.3'",
    },
    Lint {
        code: "0023_sensitive_columns_exposed",
        level: Level::Error,
        why: "a table the API roles may read without RLS, with a column whose name says \
              secret, credential or personal data",
        offenders: "SELECT format('%I.%I (%s)', s.nspname, c.relname,
                                  string_agg(quote_ident(a.attname), ', ' ORDER BY a.attname))
                      FROM pg_class c
                      JOIN api_schema s ON s.oid = c.relnamespace
                      JOIN pg_attribute a ON a.attrelid = c.oid
                                         AND a.attnum > 0 AND NOT a.attisdropped
                     WHERE c.relkind = 'r' AND NOT c.relrowsecurity
                       AND (has_table_privilege('anon', c.oid, 'SELECT')
                            OR has_table_privilege('authenticated', c.oid, 'SELECT'))
                       AND replace(lower(a.attname), '-', '_') = ANY (ARRAY[
                           -- secrets and credentials
                           'password', 'passwd', 'pwd', 'passphrase', 'secret', 'secret_key',
                           'session_secret', 'private_key', 'api_key', 'apikey', 'auth_key',
                           'auth_code', 'token', 'jwt', 'access_token', 'refresh_token',
                           'oauth_token', 'bearer_token', 'session_token', 'session_id',
                           'session_key', 'otp', 'two_factor', '2fa_secret', '2fa_code',
                           'recovery_code', 'backup_code', 'verification_code',
                           -- keys and certificates
                           'ssh_key', 'pgp_key', 'gpg_key', 'certificate', 'license_key',
                           'activation_key',
                           -- who someone is
                           'ssn', 'social_security', 'social_security_number', 'tax_id',
                           'national_id', 'passport_number', 'passport_id', 'driver_license',
                           'drivers_license', 'license_number', 'facial_recognition',
                           -- money
                           'credit_card', 'card_number', 'cvv', 'cvc', 'cvn', 'iban', 'bic',
                           'swift_code', 'bank_account', 'account_number', 'routing_number',
                           -- health
                           'medical_record', 'health_record', 'patient_id', 'treatment',
                           'insurance_number', 'health_insurance', 'medical_insurance',
                           -- devices
                           'mac_address', 'macaddr', 'imei', 'device_uuid'])
                     GROUP BY s.nspname, c.relname",
        probe: "CREATE TABLE public.lint_probe (id int, password text);
                GRANT SELECT ON public.lint_probe TO anon",
    },
    Lint {
        code: "0024_rls_policy_always_true",
        level: Level::Warn,
        why: "a permissive policy for anon, authenticated or everyone that lets any row be \
              written (USING or WITH CHECK always true, or missing) is no policy at all \
              (also checked on partitioned tables)",
        offenders: r"SELECT format('%I.%I (policy %I)', s.nspname, c.relname, p.polname)
                      FROM pg_policy p
                      JOIN pg_class c ON c.oid = p.polrelid
                      JOIN project_schema s ON s.oid = c.relnamespace
                     CROSS JOIN LATERAL (SELECT
                           p.polcmd IN ('w', 'd', '*') AS guards_old_rows,
                           regexp_replace(lower(coalesce(pg_get_expr(p.polqual, p.polrelid), '')),
                                          '\s', '', 'g') IN ('true', '(true)', '1=1', '(1=1)')
                               AS using_true,
                           regexp_replace(lower(coalesce(pg_get_expr(p.polwithcheck, p.polrelid),
                                                         '')),
                                          '\s', '', 'g') IN ('true', '(true)', '1=1', '(1=1)')
                               AS check_true) e
                     WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity AND p.polpermissive
                       AND (p.polroles = '{0}'
                            OR p.polroles && ARRAY['anon'::regrole, 'authenticated'::regrole]::oid[])
                       AND ((e.guards_old_rows AND (e.using_true OR p.polqual IS NULL))
                            OR e.check_true
                            OR (p.polwithcheck IS NULL AND p.polcmd = 'a')
                            OR (p.polwithcheck IS NULL AND p.polcmd IN ('w', '*')
                                AND e.using_true))",
        probe: "CREATE TABLE public.lint_probe (id int);
                ALTER TABLE public.lint_probe ENABLE ROW LEVEL SECURITY;
                CREATE POLICY lint_probe_edit ON public.lint_probe FOR UPDATE TO authenticated
                  USING (true)",
    },
    Lint {
        code: "0026_pg_graphql_anon_table_exposed",
        level: Level::Warn,
        why: "a relation anon may read any column of is listed to anyone by pg_graphql's \
              introspection (checked whether or not pg_graphql is installed: stricter than \
              splinter, which looks only when it is)",
        offenders: "SELECT format('%I.%I', s.nspname, c.relname)
                      FROM pg_class c
                      JOIN project_schema s ON s.oid = c.relnamespace
                     WHERE c.relkind IN ('r', 'v', 'm', 'f')
                       AND c.oid NOT IN (SELECT objid FROM extension_relation)
                       AND EXISTS (SELECT FROM pg_attribute a
                                    WHERE a.attrelid = c.oid AND a.attnum > 0
                                      AND NOT a.attisdropped
                                      AND has_column_privilege('anon', c.oid, a.attnum,
                                                               'SELECT'))",
        probe: "CREATE TABLE public.lint_probe (id int, secret text);
                REVOKE ALL ON public.lint_probe FROM anon;
                GRANT SELECT (id) ON public.lint_probe TO anon",
    },
    Lint {
        code: "0028_anon_security_definer_function_executable",
        level: Level::Warn,
        why: "a SECURITY DEFINER function anon may call through /rest/v1/rpc runs with its \
              owner's rights for anyone holding the publishable key",
        offenders: "SELECT format('%I.%I(%s)', s.nspname, p.proname,
                                  pg_get_function_identity_arguments(p.oid))
                      FROM pg_proc p
                      JOIN api_schema s ON s.oid = p.pronamespace
                     WHERE p.prosecdef AND has_function_privilege('anon', p.oid, 'EXECUTE')",
        probe: "CREATE FUNCTION public.lint_probe() RETURNS int LANGUAGE sql SECURITY DEFINER
                SET search_path = '' AS 'SELECT 1';
                REVOKE ALL ON FUNCTION public.lint_probe() FROM PUBLIC, authenticated;
                GRANT EXECUTE ON FUNCTION public.lint_probe() TO anon",
    },
    Lint {
        code: "0029_authenticated_security_definer_function_executable",
        level: Level::Warn,
        why: "a SECURITY DEFINER function authenticated may call through /rest/v1/rpc runs with \
              its owner's rights for every signed-in user",
        offenders: "SELECT format('%I.%I(%s)', s.nspname, p.proname,
                                  pg_get_function_identity_arguments(p.oid))
                      FROM pg_proc p
                      JOIN api_schema s ON s.oid = p.pronamespace
                     WHERE p.prosecdef
                       AND has_function_privilege('authenticated', p.oid, 'EXECUTE')",
        probe: "CREATE FUNCTION public.lint_probe() RETURNS int LANGUAGE sql SECURITY DEFINER
                SET search_path = '' AS 'SELECT 1';
                REVOKE ALL ON FUNCTION public.lint_probe() FROM PUBLIC, anon;
                GRANT EXECUTE ON FUNCTION public.lint_probe() TO authenticated",
    },
];
