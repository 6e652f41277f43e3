-- 13_new_privileges: privileges of everything the later migrations added, in the catalog and by
-- acting as each role. anon and authenticated may not execute start/complete/fail/abort/sweep/
-- create_vantage_sync_run_partitions/vantage_sync_drop_old_runs, may not write
-- vantage_sync_runs or vantage_sync_schedules, and may not use schema vantage_sync_private;
-- authenticated reads vantage_sync_runs, vantage_sync_schedules and vantage_sync_health, anon
-- reads none of them; service_role writes schedules but not the run history (only the SECURITY
-- DEFINER functions do, also without BYPASSRLS); RLS stops leaked write grants; every SECURITY
-- DEFINER function has a fixed search_path. Every SET LOCAL ROLE is followed by RESET ROLE; the
-- ROLLBACK undoes it all.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(98);

-- data to read: two runs and a schedule
SELECT start_vantage_sync('accounts'), complete_vantage_sync('accounts', 1, 1, 0);
SELECT start_vantage_sync('funds');
INSERT INTO vantage_sync_schedules (resource, stale_after) VALUES ('funds', interval '2 days');

-- the functions that change state: service_role only
CREATE TEMP TABLE t_writers (sig regprocedure, name text) ON COMMIT DROP;
INSERT INTO t_writers VALUES
  ('public.start_vantage_sync(text)', 'start_vantage_sync'),
  ('public.complete_vantage_sync(text,integer,integer,integer,uuid)', 'complete_vantage_sync'),
  ('public.fail_vantage_sync(text,jsonb,uuid)', 'fail_vantage_sync'),
  ('public.abort_vantage_sync(text,text,text,uuid)', 'abort_vantage_sync'),
  ('public.sweep_stuck_vantage_syncs()', 'sweep_stuck_vantage_syncs'),
  ('public.create_vantage_sync_run_partitions(integer)', 'create_vantage_sync_run_partitions'),
  ('public.vantage_sync_drop_old_runs(integer)', 'vantage_sync_drop_old_runs'),
  ('public.progress_vantage_sync_run(text,uuid,bigint)', 'progress_vantage_sync_run');
GRANT SELECT ON t_writers TO anon, authenticated, service_role;

-- catalog: tables and view -----------------------------------------------------------------------
SELECT table_privs_are('public', 'vantage_sync_runs', 'anon', '{}'::text[], 'runs: anon has nothing');
SELECT table_privs_are('public', 'vantage_sync_runs', 'authenticated', ARRAY['SELECT'], 'runs: authenticated SELECT only');
SELECT table_privs_are('public', 'vantage_sync_runs', 'service_role', ARRAY['SELECT'], 'runs: service_role SELECT only');
SELECT table_privs_are('public', 'vantage_sync_schedules', 'anon', '{}'::text[], 'schedules: anon has nothing');
SELECT table_privs_are('public', 'vantage_sync_schedules', 'authenticated', ARRAY['SELECT'],
  'schedules: authenticated SELECT only');
SELECT table_privs_are('public', 'vantage_sync_schedules', 'service_role', ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  'schedules: service_role SELECT, INSERT, UPDATE, DELETE');
SELECT table_privs_are('public', 'vantage_sync_health', 'anon', '{}'::text[], 'health view: anon has nothing');
SELECT table_privs_are('public', 'vantage_sync_health', 'authenticated', ARRAY['SELECT'], 'health view: authenticated SELECT only');
SELECT table_privs_are('public', 'vantage_sync_health', 'service_role', ARRAY['SELECT'], 'health view: service_role SELECT only');
SELECT is_empty(
  $$SELECT c.relname, a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
     WHERE c.oid IN ('public.vantage_sync_runs'::regclass, 'public.vantage_sync_schedules'::regclass,
                     'public.vantage_sync_health'::regclass)
       AND a.grantee = 0$$,
  'PUBLIC: no privileges on runs, schedules, health view');
SELECT is_empty(
  $$SELECT c.oid::regclass, r.rolname
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
           (VALUES ('anon'), ('authenticated'), ('service_role')) AS r(rolname)
     WHERE i.inhparent = 'public.vantage_sync_runs'::regclass
       AND has_table_privilege(r.rolname, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')$$,
  'partitions: no privileges for anon, authenticated, service_role');

-- catalog: RLS and policies ----------------------------------------------------------------------
SELECT ok(
  (SELECT bool_and(relrowsecurity) FROM pg_class
    WHERE oid IN ('public.vantage_sync_runs'::regclass, 'public.vantage_sync_schedules'::regclass)),
  'RLS enabled on runs and schedules');
SELECT policies_are('public', 'vantage_sync_runs', ARRAY['vantage_sync_runs_select_all'],
  'runs: a single policy, for reading');
SELECT policy_cmd_is('public', 'vantage_sync_runs', 'vantage_sync_runs_select_all', 'select', 'runs policy is FOR SELECT');
SELECT policy_roles_are('public', 'vantage_sync_runs', 'vantage_sync_runs_select_all',
  ARRAY['authenticated', 'service_role'], 'runs policy: authenticated and service_role');
SELECT policies_are('public', 'vantage_sync_schedules',
  ARRAY['vantage_sync_schedules_select_all', 'vantage_sync_schedules_insert_service',
        'vantage_sync_schedules_update_service', 'vantage_sync_schedules_delete_service'],
  'schedules: read for all, write for service_role');
SELECT is_empty(
  $$SELECT tablename, policyname FROM pg_policies
     WHERE schemaname = 'public' AND tablename IN ('vantage_sync_runs', 'vantage_sync_schedules')
       AND ('anon' = ANY (roles) OR 'public' = ANY (roles)
            OR ('authenticated' = ANY (roles) AND cmd <> 'SELECT'))$$,
  'no policy admits anon or PUBLIC, none lets authenticated write');

-- catalog: schema and functions ------------------------------------------------------------------
SELECT is_empty(
  $$SELECT r.rolname, p.priv
      FROM (VALUES ('public'), ('anon'), ('authenticated'), ('service_role')) AS r(rolname),
           (VALUES ('USAGE'), ('CREATE')) AS p(priv)
     WHERE has_schema_privilege(r.rolname, 'vantage_sync_private', p.priv)$$,
  'schema vantage_sync_private: no USAGE or CREATE for PUBLIC, anon, authenticated, service_role');
SELECT is_empty(
  $$SELECT w.name, r.rolname
      FROM t_writers w, (VALUES ('public'), ('anon'), ('authenticated')) AS r(rolname)
     WHERE has_function_privilege(r.rolname, w.sig, 'EXECUTE')$$,
  'state-changing functions: no EXECUTE for PUBLIC, anon, authenticated');
SELECT is_empty(
  $$SELECT name FROM t_writers WHERE NOT has_function_privilege('service_role', sig, 'EXECUTE')$$,
  'state-changing functions: EXECUTE for service_role');
SELECT is_empty(
  $$SELECT p.oid::regprocedure, r.rolname
      FROM pg_proc p, (VALUES ('public'), ('anon'), ('authenticated'), ('service_role')) AS r(rolname)
     WHERE (p.pronamespace = 'vantage_sync_private'::regnamespace
            OR p.oid = 'public.vantage_sync_schedules_reject_cycles()'::regprocedure)
       AND has_function_privilege(r.rolname, p.oid, 'EXECUTE')$$,
  'private helpers and the cycle trigger function: no EXECUTE for anyone');
SELECT is_empty(
  $$SELECT p.oid::regprocedure, r.rolname
      FROM pg_proc p, (VALUES ('public'), ('anon')) AS r(rolname)
     WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE '%vantage%'
       AND has_function_privilege(r.rolname, p.oid, 'EXECUTE')
       AND NOT (r.rolname = 'anon' AND p.proname IN ('vantage_sync_default_schedule',
                'vantage_sync_health_name', 'vantage_sync_health_rank_of', 'vantage_sync_alerts_of'))$$,
  'PUBLIC executes no vantage function; anon none but the pure health rules');
SELECT set_eq(
  $$SELECT p.proname::text FROM pg_proc p
     WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE '%vantage%'
       AND has_function_privilege('anon', p.oid, 'EXECUTE')$$,
  ARRAY['vantage_sync_default_schedule', 'vantage_sync_health_name', 'vantage_sync_health_rank_of',
        'vantage_sync_alerts_of'],
  'anon executes exactly the four pure health rules (20261125020100: a REVOKE cannot hold for them)');
SELECT ok(
  has_function_privilege('authenticated', 'public.vantage_sync_effective_schedule(text)', 'EXECUTE'),
  'authenticated may execute vantage_sync_effective_schedule (read-only, used by the view)');
SELECT is_empty(
  $$SELECT p.oid::regprocedure FROM pg_proc p
     WHERE p.prosecdef AND has_function_privilege('authenticated', p.oid, 'EXECUTE')
       AND (p.proname LIKE '%vantage%' OR p.pronamespace = 'vantage_sync_private'::regnamespace)$$,
  'authenticated may execute no SECURITY DEFINER function');
SELECT set_eq(
  $$SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.prosecdef AND (p.proname LIKE '%vantage%' OR p.pronamespace = 'vantage_sync_private'::regnamespace)$$,
  $$SELECT sig::text FROM t_writers
    UNION ALL SELECT 'vantage_sync_private.fail_run_of_deleted_state()'
    UNION ALL VALUES ('vantage_sync_private.check_webhook()'),
                     ('vantage_sync_private.enqueue_webhook_event(text,text,uuid,text)'),
                     ('vantage_sync_private.enqueue_transition_events()'),
                     ('claim_vantage_sync_deliveries(integer,interval,text)'),
                     ('record_vantage_sync_delivery(uuid,integer,text,integer)'),
                     ('sweep_vantage_syncs()'),
                     ('vantage_sync_private.apply_retry_policy()'),
                     ('vantage_sync_private.number_attempt()')$$,
  'the SECURITY DEFINER functions: the 8 state-changing ones, the delete guard, the webhook outbox''s 6 and the retry policy''s 2 triggers');
SELECT is_empty(
  $$SELECT p.oid::regprocedure FROM pg_proc p
     WHERE p.prosecdef
       AND (p.pronamespace IN ('public'::regnamespace, 'vantage_sync_private'::regnamespace))
       AND NOT coalesce(p.proconfig @> ARRAY['search_path=""'], false)$$,
  'every SECURITY DEFINER function in public and vantage_sync_private pins search_path to empty');
SELECT is_empty(
  $$SELECT p.oid::regprocedure FROM pg_proc p
     WHERE p.pronamespace = 'vantage_sync_private'::regnamespace
       AND NOT coalesce(p.proconfig @> ARRAY['search_path=""'], false)$$,
  'the private helpers pin search_path to empty too');

-- anon -------------------------------------------------------------------------------------------
SET LOCAL request.jwt.claims = '{"role":"anon"}';
SET LOCAL ROLE anon;
SELECT throws_ok($$SELECT public.start_vantage_sync('accounts')$$,
  '42501', 'permission denied for function start_vantage_sync', 'anon: start denied');
SELECT throws_ok($$SELECT public.complete_vantage_sync('funds', 1, 1, 0, NULL)$$,
  '42501', 'permission denied for function complete_vantage_sync', 'anon: complete denied');
SELECT throws_ok($$SELECT public.fail_vantage_sync('funds', '[]', NULL)$$,
  '42501', 'permission denied for function fail_vantage_sync', 'anon: fail denied');
SELECT throws_ok($$SELECT public.abort_vantage_sync('funds', 'stop', 'anon')$$,
  '42501', 'permission denied for function abort_vantage_sync', 'anon: abort denied');
SELECT throws_ok($$SELECT * FROM public.sweep_stuck_vantage_syncs()$$,
  '42501', 'permission denied for function sweep_stuck_vantage_syncs', 'anon: sweep denied');
SELECT throws_ok($$SELECT public.create_vantage_sync_run_partitions(12)$$,
  '42501', 'permission denied for function create_vantage_sync_run_partitions', 'anon: create partitions denied');
SELECT throws_ok($$SELECT * FROM public.vantage_sync_runs$$,
  '42501', 'permission denied for table vantage_sync_runs', 'anon: SELECT runs denied');
SELECT throws_ok($$SELECT * FROM public.vantage_sync_schedules$$,
  '42501', 'permission denied for table vantage_sync_schedules', 'anon: SELECT schedules denied');
SELECT throws_ok($$SELECT * FROM public.vantage_sync_health$$,
  '42501', 'permission denied for view vantage_sync_health', 'anon: SELECT health view denied');
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_runs (run_id, resource, status, started_at) VALUES (gen_random_uuid(), 'x', 'running', now())$$,
  '42501', 'permission denied for table vantage_sync_runs', 'anon: INSERT runs denied');
SELECT throws_ok($$UPDATE public.vantage_sync_runs SET status = 'failed'$$,
  '42501', 'permission denied for table vantage_sync_runs', 'anon: UPDATE runs denied');
SELECT throws_ok($$DELETE FROM public.vantage_sync_runs$$,
  '42501', 'permission denied for table vantage_sync_runs', 'anon: DELETE runs denied');
SELECT throws_ok($$INSERT INTO public.vantage_sync_schedules (resource) VALUES ('x')$$,
  '42501', 'permission denied for table vantage_sync_schedules', 'anon: INSERT schedules denied');
SELECT throws_ok($$UPDATE public.vantage_sync_schedules SET depends_on = '{}'$$,
  '42501', 'permission denied for table vantage_sync_schedules', 'anon: UPDATE schedules denied');
SELECT throws_ok($$DELETE FROM public.vantage_sync_schedules$$,
  '42501', 'permission denied for table vantage_sync_schedules', 'anon: DELETE schedules denied');
SELECT throws_ok($$SELECT * FROM vantage_sync_private.vantage_sync_runs_default$$,
  '42501', 'permission denied for schema vantage_sync_private', 'anon: schema vantage_sync_private denied (tables)');
SELECT throws_ok($$SELECT vantage_sync_private.require_valid_errors('[]')$$,
  '42501', 'permission denied for schema vantage_sync_private', 'anon: schema vantage_sync_private denied (functions)');
SELECT throws_ok($$SELECT * FROM public.vantage_sync_effective_schedule('accounts')$$,
  '42501', 'permission denied for function vantage_sync_effective_schedule', 'anon: effective schedule denied');
RESET ROLE;

-- authenticated ----------------------------------------------------------------------------------
SET LOCAL request.jwt.claims = '{"role":"authenticated","sub":"00000000-0000-0000-0000-000000000001"}';
SET LOCAL ROLE authenticated;
SELECT throws_ok($$SELECT public.start_vantage_sync('accounts')$$,
  '42501', 'permission denied for function start_vantage_sync', 'authenticated: start denied');
SELECT throws_ok($$SELECT public.complete_vantage_sync('funds', 1, 1, 0, NULL)$$,
  '42501', 'permission denied for function complete_vantage_sync', 'authenticated: complete denied');
SELECT throws_ok($$SELECT public.fail_vantage_sync('funds', '[]', NULL)$$,
  '42501', 'permission denied for function fail_vantage_sync', 'authenticated: fail denied');
SELECT throws_ok($$SELECT public.abort_vantage_sync('funds', 'stop', 'someone')$$,
  '42501', 'permission denied for function abort_vantage_sync', 'authenticated: abort denied');
SELECT throws_ok($$SELECT * FROM public.sweep_stuck_vantage_syncs()$$,
  '42501', 'permission denied for function sweep_stuck_vantage_syncs', 'authenticated: sweep denied');
SELECT throws_ok($$SELECT public.create_vantage_sync_run_partitions(12)$$,
  '42501', 'permission denied for function create_vantage_sync_run_partitions', 'authenticated: create partitions denied');
SELECT results_eq(
  $$SELECT resource, status FROM public.vantage_sync_runs ORDER BY resource$$,
  $$VALUES ('accounts'::text, 'success'::text), ('funds', 'running')$$,
  'authenticated: reads the run history');
SELECT results_eq(
  $$SELECT resource, stale_after FROM public.vantage_sync_schedules$$,
  $$VALUES ('funds'::text, interval '2 days')$$,
  'authenticated: reads the schedules');
SELECT results_eq(
  $$SELECT count(*)::int, count(*) FILTER (WHERE resource = 'funds' AND stale_after = interval '2 days')::int
      FROM public.vantage_sync_health$$,
  $$VALUES (7, 1)$$,
  'authenticated: reads the health view (7 resources, with schedules)');
SELECT results_eq(
  $$SELECT stale_after FROM public.vantage_sync_effective_schedule('funds')$$,
  $$VALUES (interval '2 days')$$,
  'authenticated: may call vantage_sync_effective_schedule');
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_runs (run_id, resource, status, started_at) VALUES (gen_random_uuid(), 'x', 'running', now())$$,
  '42501', 'permission denied for table vantage_sync_runs', 'authenticated: INSERT runs denied');
SELECT throws_ok($$UPDATE public.vantage_sync_runs SET status = 'failed'$$,
  '42501', 'permission denied for table vantage_sync_runs', 'authenticated: UPDATE runs denied');
SELECT throws_ok($$DELETE FROM public.vantage_sync_runs$$,
  '42501', 'permission denied for table vantage_sync_runs', 'authenticated: DELETE runs denied');
SELECT throws_ok($$INSERT INTO public.vantage_sync_schedules (resource) VALUES ('x')$$,
  '42501', 'permission denied for table vantage_sync_schedules', 'authenticated: INSERT schedules denied');
SELECT throws_ok($$UPDATE public.vantage_sync_schedules SET depends_on = '{}'$$,
  '42501', 'permission denied for table vantage_sync_schedules', 'authenticated: UPDATE schedules denied');
SELECT throws_ok($$DELETE FROM public.vantage_sync_schedules$$,
  '42501', 'permission denied for table vantage_sync_schedules', 'authenticated: DELETE schedules denied');
SELECT throws_ok($$SELECT * FROM vantage_sync_private.vantage_sync_runs_default$$,
  '42501', 'permission denied for schema vantage_sync_private', 'authenticated: schema vantage_sync_private denied (tables)');
SELECT throws_ok($$SELECT vantage_sync_private.require_valid_errors('[]')$$,
  '42501', 'permission denied for schema vantage_sync_private', 'authenticated: schema vantage_sync_private denied (functions)');
RESET ROLE;

-- RLS as second line: leaked write grants do not let authenticated write -----------------------
GRANT INSERT, UPDATE, DELETE ON public.vantage_sync_runs, public.vantage_sync_schedules TO authenticated;
SET LOCAL ROLE authenticated;
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_runs (run_id, resource, status, started_at) VALUES (gen_random_uuid(), 'x', 'running', now())$$,
  '42501', 'new row violates row-level security policy for table "vantage_sync_runs"',
  'leaked grant: INSERT into runs stopped by RLS');
SELECT is_empty($$DELETE FROM public.vantage_sync_runs RETURNING run_id$$,
  'leaked grant: DELETE from runs matches no rows under RLS');
SELECT is_empty($$UPDATE public.vantage_sync_runs SET status = 'failed', completed_at = now() RETURNING run_id$$,
  'leaked grant: UPDATE of runs matches no rows under RLS');
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_schedules (resource) VALUES ('x')$$,
  '42501', 'new row violates row-level security policy for table "vantage_sync_schedules"',
  'leaked grant: INSERT into schedules stopped by RLS');
SELECT is_empty($$DELETE FROM public.vantage_sync_schedules RETURNING resource$$,
  'leaked grant: DELETE from schedules matches no rows under RLS');
RESET ROLE;
REVOKE INSERT, UPDATE, DELETE ON public.vantage_sync_runs, public.vantage_sync_schedules FROM authenticated;
SELECT results_eq(
  $$SELECT (SELECT count(*)::int FROM public.vantage_sync_runs), (SELECT count(*)::int FROM public.vantage_sync_schedules)$$,
  $$VALUES (2, 1)$$,
  'runs and schedules unchanged after the authenticated attempts');

-- service_role (BYPASSRLS, as on Supabase) --------------------------------------------------------
SET LOCAL request.jwt.claims = '{"role":"service_role"}';
SET LOCAL ROLE service_role;
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_runs (run_id, resource, status, started_at) VALUES (gen_random_uuid(), 'x', 'running', now())$$,
  '42501', 'permission denied for table vantage_sync_runs', 'service_role: INSERT runs denied');
SELECT throws_ok($$UPDATE public.vantage_sync_runs SET status = 'failed', completed_at = now()$$,
  '42501', 'permission denied for table vantage_sync_runs', 'service_role: UPDATE runs denied');
SELECT throws_ok($$DELETE FROM public.vantage_sync_runs$$,
  '42501', 'permission denied for table vantage_sync_runs', 'service_role: DELETE runs denied');
SELECT throws_ok($$TRUNCATE public.vantage_sync_runs$$,
  '42501', 'permission denied for table vantage_sync_runs', 'service_role: TRUNCATE runs denied');
SELECT throws_ok($$SELECT * FROM vantage_sync_private.vantage_sync_runs_default$$,
  '42501', 'permission denied for schema vantage_sync_private', 'service_role: schema vantage_sync_private denied');
SELECT throws_ok($$SELECT vantage_sync_private.require_valid_errors('[]')$$,
  '42501', 'permission denied for schema vantage_sync_private', 'service_role: private helpers denied');
SELECT is((SELECT count(*)::int FROM public.vantage_sync_runs), 2, 'service_role: reads the run history');
SELECT lives_ok($$SELECT public.complete_vantage_sync('funds', 3, 2, 1)$$, 'service_role: complete');
SELECT lives_ok($$SELECT public.start_vantage_sync('cashflows')$$, 'service_role: start');
SELECT lives_ok($$SELECT public.fail_vantage_sync('cashflows', '[{"code":"E","message":"m"}]')$$, 'service_role: fail');
SELECT lives_ok($$SELECT public.start_vantage_sync('cashflows')$$, 'service_role: start again');
SELECT lives_ok($$SELECT public.abort_vantage_sync('cashflows', 'test abort', 'service')$$, 'service_role: abort');
SELECT lives_ok($$SELECT * FROM public.sweep_stuck_vantage_syncs()$$, 'service_role: sweep');
SELECT lives_ok($$SELECT public.create_vantage_sync_run_partitions(5)$$, 'service_role: create partitions');
SELECT lives_ok(
  $$INSERT INTO public.vantage_sync_schedules (resource, depends_on) VALUES ('investments', '{accounts}')$$,
  'service_role: INSERT schedule (the cycle trigger runs with its rights)');
SELECT lives_ok(
  $$UPDATE public.vantage_sync_schedules SET depends_on = '{accounts, funds}' WHERE resource = 'investments'$$,
  'service_role: UPDATE schedule');
SELECT throws_ok(
  $$UPDATE public.vantage_sync_schedules SET depends_on = '{investments}' WHERE resource = 'funds'$$,
  '22023', 'dependency cycle: funds -> investments -> funds', 'service_role: a cycle is refused');
SELECT results_eq(
  $$WITH d AS (DELETE FROM public.vantage_sync_schedules WHERE resource = 'funds' RETURNING resource)
    SELECT count(*)::int FROM d$$,
  $$VALUES (1)$$,
  'service_role: DELETE schedule');
RESET ROLE;
SELECT results_eq(
  $$SELECT resource, status, errors -> 0 ->> 'code' FROM public.vantage_sync_runs ORDER BY resource, started_at$$,
  $$VALUES ('accounts'::text, 'success'::text, NULL::text), ('cashflows', 'failed', 'E'),
           ('cashflows', 'failed', 'ABORTED'), ('funds', 'success', NULL)$$,
  'service_role''s function calls wrote the history');
SELECT is(
  (SELECT count(*)::int FROM pg_inherits WHERE inhparent = 'public.vantage_sync_runs'::regclass),
  7, 'service_role''s create_vantage_sync_run_partitions(5) added 2 months');

-- service_role without BYPASSRLS: the policies and the definer functions still work ------------
ALTER ROLE service_role NOBYPASSRLS;
SET LOCAL ROLE service_role;
SELECT is((SELECT count(*)::int FROM public.vantage_sync_runs), 4, 'service_role (no bypass): reads the history');
SELECT lives_ok($$SELECT public.start_vantage_sync('valuations')$$, 'service_role (no bypass): start');
SELECT lives_ok($$SELECT public.complete_vantage_sync('valuations', 1, 1, 0)$$, 'service_role (no bypass): complete');
SELECT lives_ok(
  $$INSERT INTO public.vantage_sync_schedules (resource, depends_on) VALUES ('commitments', '{investments}')$$,
  'service_role (no bypass): INSERT schedule');
SELECT throws_ok(
  $$UPDATE public.vantage_sync_schedules SET depends_on = '{commitments}' WHERE resource = 'investments'$$,
  '22023', 'dependency cycle: investments -> commitments -> investments',
  'service_role (no bypass): the cycle trigger sees the rows through the policy');
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_runs (run_id, resource, status, started_at) VALUES (gen_random_uuid(), 'x', 'running', now())$$,
  '42501', 'permission denied for table vantage_sync_runs', 'service_role (no bypass): INSERT runs still denied');
RESET ROLE;
ALTER ROLE service_role BYPASSRLS;
SELECT results_eq(
  $$SELECT s.last_sync_status, r.status FROM public.vantage_sync_state s
      JOIN public.vantage_sync_runs r ON r.run_id = s.current_run_id WHERE s.resource = 'valuations'$$,
  $$VALUES ('success'::text, 'success'::text)$$,
  'service_role (no bypass): state and history written');
SELECT is(current_user::text, 'postgres', 'role reset to the superuser');

SELECT * FROM finish();
ROLLBACK;
