-- 23_drop_old_runs: vantage_sync_drop_old_runs(p_keep_months) drops the monthly run partitions
-- whose runs all started more than p_keep_months months ago and nothing else: not the month at
-- the boundary, not the current months, not the default partition (it only reports old runs
-- there), and never a partition that holds a running run (kept, with the run named in the
-- result). It refuses a keep below 1 (22023, a sentence) and changes nothing then; it is
-- SECURITY DEFINER with a fixed search_path and only service_role may execute it.
-- Old partitions are made here as superuser, relative to this month (UTC); the ROLLBACK undoes it.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(22);

-- the function and who may call it -------------------------------------------------------------
SELECT has_function('public', 'vantage_sync_drop_old_runs', ARRAY['integer'], 'vantage_sync_drop_old_runs(integer) exists');
SELECT is_definer('public', 'vantage_sync_drop_old_runs', ARRAY['integer'], 'it is SECURITY DEFINER (detach and drop need the owner)');
SELECT ok(
  (SELECT proconfig @> ARRAY['search_path=""'] FROM pg_proc
    WHERE oid = 'public.vantage_sync_drop_old_runs(integer)'::regprocedure),
  'it runs with an empty search_path');
SELECT ok(
  has_function_privilege('service_role', 'public.vantage_sync_drop_old_runs(integer)', 'EXECUTE')
  AND NOT has_function_privilege('authenticated', 'public.vantage_sync_drop_old_runs(integer)', 'EXECUTE')
  AND NOT has_function_privilege('anon', 'public.vantage_sync_drop_old_runs(integer)', 'EXECUTE'),
  'EXECUTE for service_role only');

-- the scene: M = the first day of this month (UTC) ----------------------------------------------
--   M - 24 months: two finished runs                   -> dropped
--   M - 18 months: one finished run, one still running -> kept, the running run named
--   M - 14 months: empty, ends before now - 13 months  -> dropped
--   M - 13 months: one finished run, ends after now - 13 months -> untouched
--   M - 40 months: no partition; one old run lands in the default partition -> reported, kept
CREATE FUNCTION pg_temp.month_start(p_back integer) RETURNS timestamptz LANGUAGE sql AS $$
  SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => p_back)) AT TIME ZONE 'UTC'
$$;
CREATE FUNCTION pg_temp.part(p_back integer) RETURNS text LANGUAGE sql AS $$
  SELECT 'vantage_sync_runs_' || to_char(pg_temp.month_start(p_back) AT TIME ZONE 'UTC', 'YYYY_MM')
$$;
DO $$
DECLARE
  back integer;
BEGIN
  FOREACH back IN ARRAY ARRAY[24, 18, 14, 13] LOOP
    EXECUTE format('CREATE TABLE vantage_sync_private.%I (LIKE public.vantage_sync_runs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                   pg_temp.part(back));
    EXECUTE format('ALTER TABLE public.vantage_sync_runs ATTACH PARTITION vantage_sync_private.%I FOR VALUES FROM (%L) TO (%L)',
                   pg_temp.part(back), pg_temp.month_start(back), pg_temp.month_start(back - 1));
  END LOOP;
END;
$$;
CREATE TEMP TABLE t_old_runs (run_id uuid, back integer, status text) ON COMMIT DROP;
INSERT INTO t_old_runs VALUES
  (gen_random_uuid(), 24, 'success'), (gen_random_uuid(), 24, 'failed'),
  (gen_random_uuid(), 18, 'success'), ('00000000-0000-4000-8000-000000000018', 18, 'running'),
  (gen_random_uuid(), 13, 'success'), (gen_random_uuid(), 40, 'success');
INSERT INTO vantage_sync_runs (run_id, resource, status, started_at, completed_at)
SELECT run_id, 'probe_old_' || back, status, pg_temp.month_start(back) + interval '2 days',
       CASE WHEN status <> 'running' THEN pg_temp.month_start(back) + interval '2 days 5 minutes' END
  FROM t_old_runs;
CREATE TEMP TABLE t_before ON COMMIT DROP AS
  SELECT count(*) AS runs FROM vantage_sync_runs WHERE run_id NOT IN (SELECT run_id FROM t_old_runs);

-- bad input: a sentence, and nothing changes -----------------------------------------------------
SELECT throws_ok($$SELECT * FROM vantage_sync_drop_old_runs(0)$$, '22023',
  'keep_months must be a whole number of months from 1 to 1200 (got 0): the current month holds the runs in progress and is always kept',
  'keep 0 is refused with 22023 and a sentence');
SELECT throws_ok($$SELECT * FROM vantage_sync_drop_old_runs(-3)$$, '22023', NULL, 'a negative keep is refused');
SELECT throws_ok($$SELECT * FROM vantage_sync_drop_old_runs(NULL)$$, '22023', NULL, 'a NULL keep is refused');
SELECT is((SELECT count(*)::int FROM t_old_runs o JOIN vantage_sync_runs r USING (run_id)), 6,
  'after the refusals every old run is still there');

-- as service_role, the default keep of 13 months -------------------------------------------------
SET LOCAL ROLE service_role;
CREATE TEMP TABLE t_result ON COMMIT DROP AS SELECT * FROM vantage_sync_drop_old_runs();
RESET ROLE;

SELECT results_eq(
  $$SELECT partition_name, range_from, range_to, run_count, dropped FROM t_result
     WHERE partition_name <> 'vantage_sync_runs_default' ORDER BY range_from$$,
  $$VALUES (pg_temp.part(24), pg_temp.month_start(24), pg_temp.month_start(23), 2::bigint, true),
           (pg_temp.part(18), pg_temp.month_start(18), pg_temp.month_start(17), 2::bigint, false),
           (pg_temp.part(14), pg_temp.month_start(14), pg_temp.month_start(13), 0::bigint, true)$$,
  'the result lists the two old months it dropped and the one it kept, with their runs');
SELECT matches(
  (SELECT reason FROM t_result WHERE partition_name = pg_temp.part(18)),
  '^kept: run 00000000-0000-4000-8000-000000000018 \(started .*\) is still running',
  'the kept month names the running run that keeps it');
SELECT results_eq(
  $$SELECT run_count, dropped FROM t_result WHERE partition_name = 'vantage_sync_runs_default'$$,
  $$VALUES (1::bigint, false)$$,
  'the default partition is never dropped; its one old run is reported');
SELECT ok(to_regclass('vantage_sync_private.' || pg_temp.part(24)) IS NULL
          AND to_regclass('vantage_sync_private.' || pg_temp.part(14)) IS NULL,
  'the dropped months are gone from the catalog');
SELECT is(
  (SELECT count(*)::int FROM pg_inherits
    WHERE inhparent = 'public.vantage_sync_runs'::regclass
      AND inhrelid IN (('vantage_sync_private.' || pg_temp.part(18))::regclass,
                       ('vantage_sync_private.' || pg_temp.part(13))::regclass,
                       'vantage_sync_private.vantage_sync_runs_default'::regclass)),
  3, 'the month with the running run, the boundary month and the default partition stay attached');
SELECT results_eq(
  $$SELECT o.back, r.status FROM t_old_runs o JOIN vantage_sync_runs r USING (run_id) ORDER BY o.back, r.status$$,
  $$VALUES (13, 'success'::text), (18, 'running'), (18, 'success'), (40, 'success')$$,
  'only the runs of the dropped months are gone; the running run is still there');
SELECT is(
  (SELECT count(*) FROM vantage_sync_runs WHERE run_id NOT IN (SELECT run_id FROM t_old_runs)),
  (SELECT runs FROM t_before), 'every newer run is untouched');

-- the running run ends: the next call drops its month, and only that -----------------------------
UPDATE vantage_sync_runs SET status = 'failed', completed_at = started_at + interval '1 hour'
 WHERE run_id = '00000000-0000-4000-8000-000000000018';
SELECT results_eq(
  $$SELECT partition_name, run_count, dropped FROM vantage_sync_drop_old_runs(13)
     WHERE partition_name <> 'vantage_sync_runs_default'$$,
  $$VALUES (pg_temp.part(18), 2::bigint, true)$$,
  'once its run is finished, the next call drops that month');
SELECT is_empty(
  $$SELECT 1 FROM vantage_sync_drop_old_runs(13) WHERE partition_name <> 'vantage_sync_runs_default'$$,
  'a call with nothing left to drop returns no month');

-- a keep of one month: the previous months go, the current month and the ones ahead stay --------
SELECT lives_ok($$SELECT * FROM vantage_sync_drop_old_runs(1)$$, 'keep 1 runs');
SELECT ok(to_regclass('vantage_sync_private.' || pg_temp.part(13)) IS NULL,
  'keep 1 drops the month that keep 13 kept');
SELECT ok(to_regclass('vantage_sync_private.' || pg_temp.part(0)) IS NOT NULL
          AND to_regclass('vantage_sync_private.' || pg_temp.part(-1)) IS NOT NULL,
  'keep 1 keeps the current month and the next');

-- as authenticated: refused -------------------------------------------------------------------
SET LOCAL ROLE authenticated;
SELECT throws_ok($$SELECT * FROM public.vantage_sync_drop_old_runs(13)$$, '42501', NULL,
  'authenticated may not call it');
RESET ROLE;
SET LOCAL ROLE anon;
SELECT throws_ok($$SELECT * FROM public.vantage_sync_drop_old_runs(13)$$, '42501', NULL,
  'anon may not call it');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
