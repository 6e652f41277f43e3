-- 06_privileges_rls: grants and row level security on a Supabase-like stack, checked in the
-- catalog and by acting as each role: anon gets nothing, authenticated reads all 7 rows but may
-- neither write nor call the state functions, service_role runs start->complete and start->fail
-- (with BYPASSRLS as on Supabase, and through the policies alone without it). Also RLS stops
-- authenticated writes even if table grants were leaked. Every SET LOCAL ROLE is followed by
-- RESET ROLE before the next superuser step; role changes are undone by the ROLLBACK.
-- On the fully migrated database complete/fail are (text, int, int, int, uuid) and
-- (text, jsonb, uuid) and SECURITY DEFINER; who may execute them is unchanged. The spec's four
-- policies must all be there, and no policy (of any later migration) may admit anon or PUBLIC, or
-- let authenticated write. The new objects' privileges are tested in 13.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(61);

-- RLS and policies -----------------------------------------------------------------------------
SELECT ok(
  (SELECT relrowsecurity FROM pg_class WHERE oid = 'public.vantage_sync_state'::regclass),
  'RLS enabled on vantage_sync_state');
SELECT set_has(
  $$SELECT policyname::text FROM pg_policies WHERE schemaname = 'public' AND tablename = 'vantage_sync_state'$$,
  $$VALUES ('vantage_sync_state_select_all'), ('vantage_sync_state_insert_service'),
           ('vantage_sync_state_update_service'), ('vantage_sync_state_delete_service')$$,
  'at least the 4 spec policies');
SELECT is_empty(
  $$SELECT policyname FROM pg_policies
     WHERE schemaname = 'public' AND tablename = 'vantage_sync_state'
       AND ('anon' = ANY (roles) OR 'public' = ANY (roles)
            OR ('authenticated' = ANY (roles) AND cmd <> 'SELECT'))$$,
  'no policy admits anon or PUBLIC, none lets authenticated write');
SELECT policy_cmd_is('public', 'vantage_sync_state', 'vantage_sync_state_select_all', 'select',
  'select_all is FOR SELECT');
SELECT policy_cmd_is('public', 'vantage_sync_state', 'vantage_sync_state_insert_service', 'insert',
  'insert_service is FOR INSERT');
SELECT policy_cmd_is('public', 'vantage_sync_state', 'vantage_sync_state_update_service', 'update',
  'update_service is FOR UPDATE');
SELECT policy_cmd_is('public', 'vantage_sync_state', 'vantage_sync_state_delete_service', 'delete',
  'delete_service is FOR DELETE');
SELECT policy_roles_are('public', 'vantage_sync_state', 'vantage_sync_state_select_all',
  ARRAY['authenticated', 'service_role'], 'select_all: authenticated and service_role');
SELECT policy_roles_are('public', 'vantage_sync_state', 'vantage_sync_state_insert_service',
  ARRAY['service_role'], 'insert_service: service_role only');
SELECT policy_roles_are('public', 'vantage_sync_state', 'vantage_sync_state_update_service',
  ARRAY['service_role'], 'update_service: service_role only');
SELECT policy_roles_are('public', 'vantage_sync_state', 'vantage_sync_state_delete_service',
  ARRAY['service_role'], 'delete_service: service_role only');

-- table privileges ---------------------------------------------------------------------------
SELECT table_privs_are('public', 'vantage_sync_state', 'anon', '{}'::text[], 'anon: no table privileges');
SELECT table_privs_are('public', 'vantage_sync_state', 'authenticated', ARRAY['SELECT'],
  'authenticated: SELECT only');
SELECT table_privs_are('public', 'vantage_sync_state', 'service_role',
  ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'], 'service_role: SELECT, INSERT, UPDATE, DELETE');
SELECT is_empty(
  $$SELECT a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
     WHERE c.oid = 'public.vantage_sync_state'::regclass AND a.grantee = 0$$,
  'PUBLIC: no table privileges');

-- function privileges ------------------------------------------------------------------------
SELECT ok(NOT has_function_privilege('public', 'public.start_vantage_sync(text)', 'EXECUTE'),
  'PUBLIC cannot execute start');
SELECT ok(NOT has_function_privilege('anon', 'public.start_vantage_sync(text)', 'EXECUTE'),
  'anon cannot execute start');
SELECT ok(NOT has_function_privilege('authenticated', 'public.start_vantage_sync(text)', 'EXECUTE'),
  'authenticated cannot execute start');
SELECT ok(has_function_privilege('service_role', 'public.start_vantage_sync(text)', 'EXECUTE'),
  'service_role can execute start');
SELECT ok(NOT has_function_privilege('public', 'public.complete_vantage_sync(text,integer,integer,integer,uuid)', 'EXECUTE'),
  'PUBLIC cannot execute complete');
SELECT ok(NOT has_function_privilege('anon', 'public.complete_vantage_sync(text,integer,integer,integer,uuid)', 'EXECUTE'),
  'anon cannot execute complete');
SELECT ok(NOT has_function_privilege('authenticated', 'public.complete_vantage_sync(text,integer,integer,integer,uuid)', 'EXECUTE'),
  'authenticated cannot execute complete');
SELECT ok(has_function_privilege('service_role', 'public.complete_vantage_sync(text,integer,integer,integer,uuid)', 'EXECUTE'),
  'service_role can execute complete');
SELECT ok(NOT has_function_privilege('public', 'public.fail_vantage_sync(text,jsonb,uuid)', 'EXECUTE'),
  'PUBLIC cannot execute fail');
SELECT ok(NOT has_function_privilege('anon', 'public.fail_vantage_sync(text,jsonb,uuid)', 'EXECUTE'),
  'anon cannot execute fail');
SELECT ok(NOT has_function_privilege('authenticated', 'public.fail_vantage_sync(text,jsonb,uuid)', 'EXECUTE'),
  'authenticated cannot execute fail');
SELECT ok(has_function_privilege('service_role', 'public.fail_vantage_sync(text,jsonb,uuid)', 'EXECUTE'),
  'service_role can execute fail');
SELECT is_empty(
  $$SELECT r.rolname, p.proname
      FROM pg_proc p,
           (VALUES ('public'), ('anon'), ('authenticated'), ('service_role')) AS r(rolname)
     WHERE p.oid IN ('public.vantage_sync_state_touch_updated_at()'::regprocedure,
                     'public.vantage_sync_state_compute_duration()'::regprocedure)
       AND has_function_privilege(r.rolname, p.oid, 'EXECUTE')$$,
  'trigger functions: no EXECUTE for PUBLIC/anon/authenticated/service_role');

-- service_role (BYPASSRLS, as on Supabase) ---------------------------------------------------
SET LOCAL request.jwt.claims = '{"role":"service_role"}';
SET LOCAL ROLE service_role;
SELECT lives_ok($$SELECT public.start_vantage_sync('accounts')$$, 'service_role: start accounts');
SELECT lives_ok($$SELECT public.complete_vantage_sync('accounts', 100, 10, 90)$$,
  'service_role: complete accounts');
SELECT lives_ok($$SELECT public.start_vantage_sync('funds')$$, 'service_role: start funds');
SELECT lives_ok($$SELECT public.fail_vantage_sync('funds', '[{"code":"TEST_ERROR","message":"Test failure"}]')$$,
  'service_role: fail funds');
RESET ROLE;
SELECT results_eq(
  $$SELECT resource, last_sync_status, records_synced, jsonb_array_length(errors)
      FROM public.vantage_sync_state WHERE resource IN ('accounts', 'funds') ORDER BY resource$$,
  $$VALUES ('accounts'::text, 'success'::text, 100, 0), ('funds', 'failed', 0, 1)$$,
  'service_role writes landed');

-- authenticated ------------------------------------------------------------------------------
SET LOCAL request.jwt.claims = '{"role":"authenticated","sub":"00000000-0000-0000-0000-000000000001"}';
SET LOCAL ROLE authenticated;
SELECT is((SELECT count(*)::int FROM public.vantage_sync_state), 7, 'authenticated reads 7 rows');
SELECT results_eq(
  $$SELECT last_sync_status, duration_ms IS NOT NULL FROM public.vantage_sync_state WHERE resource = 'accounts'$$,
  $$VALUES ('success'::text, true)$$,
  'authenticated sees the current sync state');
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_state (resource) VALUES ('probe_auth')$$,
  '42501', 'permission denied for table vantage_sync_state', 'authenticated: INSERT denied');
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET last_sync_status = 'success' WHERE resource = 'funds'$$,
  '42501', 'permission denied for table vantage_sync_state', 'authenticated: UPDATE denied');
SELECT throws_ok(
  $$DELETE FROM public.vantage_sync_state WHERE resource = 'funds'$$,
  '42501', 'permission denied for table vantage_sync_state', 'authenticated: DELETE denied');
SELECT throws_ok(
  $$SELECT public.start_vantage_sync('accounts')$$,
  '42501', 'permission denied for function start_vantage_sync', 'authenticated: start denied');
SELECT throws_ok(
  $$SELECT public.complete_vantage_sync('accounts', 1, 1, 0)$$,
  '42501', 'permission denied for function complete_vantage_sync', 'authenticated: complete denied');
SELECT throws_ok(
  $$SELECT public.fail_vantage_sync('accounts', '[]'::jsonb)$$,
  '42501', 'permission denied for function fail_vantage_sync', 'authenticated: fail denied');
RESET ROLE;

-- RLS as second line: even with leaked write grants authenticated cannot write
GRANT INSERT, UPDATE, DELETE ON public.vantage_sync_state TO authenticated;
SET LOCAL ROLE authenticated;
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_state (resource) VALUES ('probe_auth')$$,
  '42501', 'new row violates row-level security policy for table "vantage_sync_state"',
  'leaked grant: INSERT stopped by RLS');
SELECT is_empty(
  $$UPDATE public.vantage_sync_state SET last_sync_status = 'success' WHERE resource = 'funds' RETURNING resource$$,
  'leaked grant: UPDATE matches no rows under RLS');
SELECT is_empty(
  $$DELETE FROM public.vantage_sync_state RETURNING resource$$,
  'leaked grant: DELETE matches no rows under RLS');
RESET ROLE;
REVOKE INSERT, UPDATE, DELETE ON public.vantage_sync_state FROM authenticated;
SELECT results_eq(
  $$SELECT count(*)::int, count(*) FILTER (WHERE resource = 'funds' AND last_sync_status = 'failed')::int
      FROM public.vantage_sync_state$$,
  $$VALUES (7, 1)$$,
  'table unchanged after the authenticated attempts');

-- anon ---------------------------------------------------------------------------------------
SET LOCAL request.jwt.claims = '{"role":"anon"}';
SET LOCAL ROLE anon;
SELECT throws_ok(
  $$SELECT * FROM public.vantage_sync_state$$,
  '42501', 'permission denied for table vantage_sync_state', 'anon: SELECT denied');
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_state (resource) VALUES ('probe_anon')$$,
  '42501', 'permission denied for table vantage_sync_state', 'anon: INSERT denied');
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET records_synced = 1$$,
  '42501', 'permission denied for table vantage_sync_state', 'anon: UPDATE denied');
SELECT throws_ok(
  $$DELETE FROM public.vantage_sync_state$$,
  '42501', 'permission denied for table vantage_sync_state', 'anon: DELETE denied');
SELECT throws_ok(
  $$SELECT public.start_vantage_sync('accounts')$$,
  '42501', 'permission denied for function start_vantage_sync', 'anon: start denied');
SELECT throws_ok(
  $$SELECT public.complete_vantage_sync('accounts', 1, 1, 0)$$,
  '42501', 'permission denied for function complete_vantage_sync', 'anon: complete denied');
SELECT throws_ok(
  $$SELECT public.fail_vantage_sync('accounts', '[]'::jsonb)$$,
  '42501', 'permission denied for function fail_vantage_sync', 'anon: fail denied');
RESET ROLE;

-- service_role without BYPASSRLS: the policies alone must let it work ------------------------
ALTER ROLE service_role NOBYPASSRLS;
SET LOCAL request.jwt.claims = '{"role":"service_role"}';
SET LOCAL ROLE service_role;
SELECT is((SELECT count(*)::int FROM public.vantage_sync_state), 7, 'service_role (no bypass) reads 7 rows');
SELECT lives_ok($$SELECT public.start_vantage_sync('probe_svc')$$,
  'service_role (no bypass): start inserts a new resource');
SELECT lives_ok($$SELECT public.complete_vantage_sync('probe_svc', 3, 2, 1)$$,
  'service_role (no bypass): complete');
SELECT lives_ok($$SELECT public.start_vantage_sync('probe_svc')$$,
  'service_role (no bypass): start again (upsert update path)');
SELECT lives_ok($$SELECT public.fail_vantage_sync('probe_svc', '[{"code":"X","message":"y"}]')$$,
  'service_role (no bypass): fail');
RESET ROLE;
SELECT results_eq(
  $$SELECT last_sync_status, records_synced, jsonb_array_length(errors), last_sync_time IS NOT NULL
      FROM public.vantage_sync_state WHERE resource = 'probe_svc'$$,
  $$VALUES ('failed'::text, 3, 1, true)$$,
  'service_role (no bypass): writes landed');
SET LOCAL ROLE service_role;
SELECT results_eq(
  $$WITH d AS (DELETE FROM public.vantage_sync_state WHERE resource = 'probe_svc' RETURNING resource)
    SELECT count(*)::int FROM d$$,
  $$VALUES (1)$$,
  'service_role (no bypass): delete');
RESET ROLE;
ALTER ROLE service_role BYPASSRLS;
SELECT is(
  (SELECT count(*)::int FROM public.vantage_sync_state), 7,
  'back to the 7 resources');
SELECT is(current_user::text, 'postgres', 'role reset to the superuser');

SELECT * FROM finish();
ROLLBACK;
