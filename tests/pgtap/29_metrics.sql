-- 29_metrics: vantage_sync_metrics() (20261202150100), what the edge's GET metrics serves. One
-- row per resource of the health view, every number from the same now(): health 0 green /
-- 1 yellow / 2 red beside its name, seconds since the last success, the last duration in
-- seconds, consecutive failures, running seconds (0 when nothing runs) and sync_watermark as
-- Unix seconds; NULL where there is nothing to say (never succeeded, no finished run). Plain SQL,
-- STABLE, invoker, search_path set (20261208100000); EXECUTE for service_role only. The same
-- rows as the view vantage_sync_metrics_by_resource, which the edge pages through: SELECT for
-- service_role only.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(13);

SELECT has_function('public', 'vantage_sync_metrics', ARRAY[]::text[], 'vantage_sync_metrics() exists');
SELECT results_eq(
  $$SELECT p.provolatile::text COLLATE "default", p.prosecdef, p.proconfig IS NULL,
           l.lanname::text COLLATE "default"
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
     WHERE p.oid = 'public.vantage_sync_metrics()'::regprocedure$$,
  $$VALUES ('s'::text, false, false, 'sql'::text)$$,
  'plain SQL, STABLE, SECURITY INVOKER, with a SET clause (search_path, lint 0011; 20261208100000)');
SELECT ok(has_function_privilege('service_role', 'public.vantage_sync_metrics()', 'EXECUTE'),
  'service_role may execute it (the edge)');
SELECT ok(NOT has_function_privilege('anon', 'public.vantage_sync_metrics()', 'EXECUTE')
      AND NOT has_function_privilege('authenticated', 'public.vantage_sync_metrics()', 'EXECUTE'),
  'anon and authenticated may not');
SELECT ok(has_table_privilege('service_role', 'public.vantage_sync_metrics_by_resource', 'SELECT')
      AND NOT has_table_privilege('anon', 'public.vantage_sync_metrics_by_resource', 'SELECT')
      AND NOT has_table_privilege('authenticated', 'public.vantage_sync_metrics_by_resource', 'SELECT'),
  'the metrics view: service_role may read it, anon and authenticated may not');
SELECT set_eq(
  $$SELECT * FROM public.vantage_sync_metrics()$$,
  $$SELECT * FROM public.vantage_sync_metrics_by_resource$$,
  'the function answers the rows of the view');
SELECT is(
  (SELECT count(*)::int FROM pg_proc p, aclexplode(p.proacl) a
    WHERE p.oid = 'public.vantage_sync_metrics()'::regprocedure AND a.grantee = 0),
  0, 'PUBLIC has no privilege on it');

-- the scene -------------------------------------------------------------------------------------
-- accounts:  succeeded 90 s ago after a run of 3.2 s that started 2026-11-01 00:00:00 UTC -> green
-- funds:     failed 3 times in a row, the last run took 0.5 s, never succeeded     -> red
-- investors: running for 2 minutes, succeeded before                               -> green
-- cashflows: never run                                                             -> yellow
UPDATE vantage_sync_state
   SET last_sync_status = 'success', last_sync_time = now() - interval '90 seconds',
       started_at = timestamptz '2026-11-01 00:00:00+00',
       completed_at = timestamptz '2026-11-01 00:00:03.2+00'
 WHERE resource = 'accounts';
UPDATE vantage_sync_state SET sync_watermark = timestamptz '2026-11-01 00:00:00+00'
 WHERE resource = 'accounts';
UPDATE vantage_sync_state
   SET last_sync_status = 'failed', started_at = now() - interval '10 minutes',
       completed_at = now() - interval '10 minutes' + interval '0.5 seconds',
       consecutive_failures = 3
 WHERE resource = 'funds';
SELECT start_vantage_sync('investors');
UPDATE vantage_sync_state
   SET last_sync_time = now() - interval '1 hour', started_at = now() - interval '2 minutes'
 WHERE resource = 'investors';

SELECT results_eq(
  $$SELECT health, health_value, last_success_age_seconds, last_duration_seconds,
           consecutive_failures, running_seconds, watermark_seconds
      FROM vantage_sync_metrics() WHERE resource = 'accounts'$$,
  $$VALUES ('green'::text, 0, 90::float8, 3.2::float8, 0, 0::float8,
            date_part('epoch', timestamptz '2026-11-01 00:00:00+00'))$$,
  'a healthy resource: green 0, 90 s since its success, 3.2 s run, its watermark in Unix seconds');
SELECT results_eq(
  $$SELECT health, health_value, last_success_age_seconds, last_duration_seconds,
           consecutive_failures, running_seconds, watermark_seconds
      FROM vantage_sync_metrics() WHERE resource = 'funds'$$,
  $$VALUES ('red'::text, 2, NULL::float8, 0.5::float8, 3, 0::float8, NULL::float8)$$,
  'a failing resource that never succeeded: red 2, no age, no watermark, 3 failures');
SELECT results_eq(
  $$SELECT health, running_seconds, last_success_age_seconds
      FROM vantage_sync_metrics() WHERE resource = 'investors'$$,
  $$VALUES ('green'::text, 120::float8, 3600::float8)$$,
  'a running resource: its running seconds by the database''s clock');
SELECT results_eq(
  $$SELECT health, health_value, last_success_age_seconds, last_duration_seconds, watermark_seconds
      FROM vantage_sync_metrics() WHERE resource = 'cashflows'$$,
  $$VALUES ('yellow'::text, 1, NULL::float8, NULL::float8, NULL::float8)$$,
  'a resource never run: yellow 1 and nothing invented');
SELECT set_eq(
  $$SELECT resource, health FROM vantage_sync_metrics()$$,
  $$SELECT resource, health FROM vantage_sync_health$$,
  'one row per resource of the health view, with its health');

SET LOCAL ROLE authenticated;
SELECT throws_ok($$SELECT * FROM public.vantage_sync_metrics()$$,
  '42501', 'permission denied for function vantage_sync_metrics', 'authenticated: denied');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
